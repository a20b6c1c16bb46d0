import { Writable } from "node:stream";
import type { Database } from "@sluice/db";
import { createTestDatabase } from "@sluice/db/testing";
import { createApp, createLogger, loadConfig } from "@sluice/ingest";
import { startDeriver } from "../../ingest/src/deriver.ts";
import type { Telemetry } from "../../ingest/src/telemetry.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

export interface TestApp {
  app: ReturnType<typeof createApp>;
  database: Database;
  /** The app's logger, for parts built beside the app (the GitHub App's answers) to log where the tests read. */
  logger: ReturnType<typeof createLogger>;
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text, for "no secret ever appears" checks. */
  logText: () => string;
  /** Move the injected clock. */
  setNow: (iso: string | Date) => void;
  request: (path: string, init?: RequestInit & { token?: string | null; json?: unknown }) => Promise<Response>;
  /** Creates a token through the API and returns its secret. */
  token: (scopes: string[], team?: string) => Promise<string>;
  close: () => Promise<void>;
}

/**
 * The whole HTTP app on a fresh database (PGlite, or PostgreSQL when TEST_DATABASE_URL is
 * set), called through app.request(): no port is opened.
 */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    now?: string;
    telemetry?: Telemetry;
    /** Run the background deriver as the server does (otherwise reads derive what is queued). */
    deriver?: boolean;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({ SLUICE_ADMIN_TOKEN: ADMIN_TOKEN, ...options.env });
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger("info", sink);
  let now = new Date(options.now ?? "2026-06-15T12:00:00Z");
  // Short waits: the tests that run the deriver want it interleaved with their writes as often as it can be.
  const deriver = options.deriver ? startDeriver({ database, logger, pollMs: 20, busyPauseMs: 5 }) : undefined;
  const app = createApp({
    database,
    config,
    logger,
    clock: () => now,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(deriver ? { derivation: deriver } : {}),
  });

  const request: TestApp["request"] = (path, init = {}) => {
    const { token = ADMIN_TOKEN, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    if (json !== undefined) headers.set("content-type", "application/json");
    return Promise.resolve(
      app.request(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }),
    );
  };

  return {
    app,
    database,
    logger,
    get logs() {
      return chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => chunks.join(""),
    setNow: (value) => {
      now = new Date(value);
    },
    request,
    token: async (scopes, team) => {
      const response = await request("/api/v1/tokens", {
        method: "POST",
        json: { name: `test ${scopes.join("+")}`, scopes, ...(team ? { team } : {}) },
      });
      if (response.status !== 201) throw new Error(`token creation failed: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    close: async () => {
      await deriver?.stop();
      await database.close();
    },
  };
}
