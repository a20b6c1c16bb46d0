import { type Server, type Socket, connect, createServer } from "node:net";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { type RunningServer, freePort, startServer } from "../support/server.ts";

// Issue 18, item 9 (SPEC 10 v2): while the database is unreachable every route answers 503 with
// Retry-After, quickly, and service resumes by itself when it returns. A real server process talks
// to PostgreSQL through a TCP proxy that the test closes and opens again.

const serverUrl = process.env.TEST_DATABASE_URL;
const ADMIN = "outage-admin-token-0123456789";

/** A TCP proxy to PostgreSQL on a fixed local port that can be cut (every connection dropped) and restored. */
class TcpProxy {
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  readonly port: number;
  private readonly target: { host: string; port: number };

  constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.target = target;
  }

  async open() {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, "127.0.0.1", resolve));
  }

  async cut() {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

async function timed(url: string, init: RequestInit = {}) {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000), headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...init.headers } });
  const body = await response.text();
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body, ms: performance.now() - started };
}

describe.skipIf(!serverUrl)("a database outage (PostgreSQL behind a proxy)", () => {
  test("every route answers 503 with Retry-After while it lasts, and service resumes by itself", { timeout: 120_000 }, async () => {
    const database = await createEmptyPostgresDatabase(serverUrl as string);
    const upstream = new URL(serverUrl as string);
    const proxy = new TcpProxy(await freePort(), { host: upstream.hostname, port: Number(upstream.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    let server: RunningServer | undefined;
    try {
      server = await startServer({ DATABASE_URL: viaProxy.toString(), SLUICE_ADMIN_TOKEN: ADMIN, SLUICE_LOG_LEVEL: "silent" });
      const url = server.url;
      expect((await timed(`${url}/api/v1/services`)).status).toBe(200);

      await proxy.cut();
      const during = [
        await timed(`${url}/api/v1/services`),
        await timed(`${url}/api/v1/metrics`),
        await timed(`${url}/api/v1/deployments`, { method: "POST", body: JSON.stringify({ service: "checkout", environment: "production", sha: "a".repeat(40) }) }),
        await timed(`${url}/api/v1/tokens`, { headers: { authorization: "Bearer slc_some-token-that-must-be-looked-up" } }),
      ];
      for (const answer of during) {
        expect(answer.status, answer.body).toBe(503);
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "database_unavailable" } });
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
        expect(answer.ms).toBeLessThan(6_000);
      }
      expect((await timed(`${url}/healthz`)).status).toBe(503);

      await proxy.open();
      let resumed = 0;
      for (let attempt = 0; attempt < 60 && resumed !== 200; attempt++) {
        resumed = (await timed(`${url}/api/v1/services`)).status;
        if (resumed !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(resumed).toBe(200);
    } finally {
      await server?.stop();
      await proxy.cut().catch(() => undefined);
      await database.drop();
    }
  });
});
