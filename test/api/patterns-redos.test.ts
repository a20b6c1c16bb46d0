import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { read } from "./gates-helpers.ts";

// SPEC 7 v2: patterns users supply (production_pattern, deployment_pattern) run in linear time, so no
// input can stall the server. With JavaScript's backtracking RegExp, `^(\w+\s?)*$` against 29
// characters held the event loop for 2.4 s, doubling with each character: over an hour at 40.

const BACKTRACKING = "^(\\w+\\s?)*$";
/**
 * 40 characters that almost match: every split of the word into \w+ runs is tried before the "!"
 * fails them all (2^39 of them). ("aaaa aaaa ... aaaa!" has fewer splits: two seconds.)
 */
const ALMOST = `${"a".repeat(39)}!`;

/**
 * Runs `body` (the source of an async function of `app`, the test app's module) in a worker thread
 * that is terminated after `timeoutMs`: a regression to a backtracking engine fails the test
 * instead of holding CI for hours.
 */
async function inWorker<T>(body: string, timeoutMs: number): Promise<T | "timed out"> {
  const source = `
    import { parentPort, workerData } from "node:worker_threads";
    const app = await import(workerData.app);
    try {
      parentPort.postMessage({ value: await (${body})(app) });
    } catch (error) {
      parentPort.postMessage({ error: String(error?.stack ?? error) });
    }`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
    workerData: { app: new URL("../support/app.ts", import.meta.url).href },
    env: { ...process.env },
  });
  try {
    return await new Promise<T | "timed out">((resolve, reject) => {
      const timer = setTimeout(() => resolve("timed out"), timeoutMs);
      worker.once("message", (message: { value?: T; error?: string }) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(message.error));
        else resolve(message.value as T);
      });
      worker.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    await worker.terminate();
  }
}

describe("patterns run in linear time", () => {
  test("a production_pattern that backtracks catastrophically in JavaScript, against a 40-character environment, answers at once", async () => {
    const result = await inWorker<{ created: number; ms: number; production: boolean; matching: boolean }>(
      `async ({ createTestApp }) => {
        const t = await createTestApp({ now: "2026-06-15T12:00:00Z" });
        try {
          const service = await t.request("/api/v1/services", { method: "POST", json: { slug: "patterned", production_pattern: ${JSON.stringify(BACKTRACKING)} } });
          if (service.status !== 201) throw new Error("service: " + service.status + " " + (await service.text()));
          const token = await t.token(["ingest"]);
          const deployment = (environment, sha) => t.request("/api/v1/deployments", {
            method: "POST",
            token,
            json: { service: "patterned", environment, sha: sha.repeat(40), finished_at: "2026-06-15T11:00:00Z" },
          });
          const started = performance.now();
          const response = await deployment(${JSON.stringify(ALMOST)}, "a");
          const ms = performance.now() - started;
          const body = await response.json();
          const matching = await (await deployment("aaaa aaaa", "b")).json();
          return { created: response.status, ms, production: body.production, matching: matching.production };
        } finally {
          await t.close();
        }
      }`,
      60_000,
    );
    expect(result).not.toBe("timed out");
    if (result === "timed out") return;
    expect(result.created).toBe(201);
    expect(result.ms).toBeLessThan(1000);
    // The pattern still means what it says: words and single spaces only, so "!" is not production.
    expect(result.production).toBe(false);
    expect(result.matching).toBe(true);
  }, 90_000);
});

describe("patterns are RE2 syntax", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-06-15T12:00:00Z" });
  });
  afterAll(() => t.close());

  test("a backreference or a lookaround is refused when saved, in RE2's words", async () => {
    const created = await t.request("/api/v1/services", { method: "POST", json: { slug: "backref", production_pattern: "^(a)\\1$" } });
    expect(created.status).toBe(400);
    expect((await read(created)).error.details).toEqual([
      { field: "production_pattern", message: "must be an RE2 regular expression (no backreferences or lookarounds): invalid escape sequence: `\\1`" },
    ]);
    await t.request("/api/v1/services", { method: "POST", json: { slug: "plain" } });
    const patched = await t.request("/api/v1/services/plain", { method: "PATCH", json: { deployment_pattern: "^deploy(?!-preview)" } });
    expect(patched.status).toBe(400);
    expect((await read(patched)).error.details.map((d: { field: string }) => d.field)).toEqual(["deployment_pattern"]);
  });

  test("patterns keep their meaning: case-insensitive, found anywhere, the documented defaults", async () => {
    const created = await read(t.request("/api/v1/services", { method: "POST", json: { slug: "defaults" } }));
    expect(created).toMatchObject({ production_pattern: "^(prod|production)$", deployment_pattern: "deploy" });
    const production = async (environment: string, sha: string) =>
      (
        await read(
          t.request("/api/v1/deployments", {
            method: "POST",
            json: { service: "defaults", environment, sha: sha.repeat(40), finished_at: "2026-06-15T11:00:00Z" },
          }),
        )
      ).production;
    expect(await production("Production", "a")).toBe(true);
    expect(await production("PROD", "b")).toBe(true);
    expect(await production("production-eu", "c")).toBe(false);
    expect(await production("staging", "d")).toBe(false);
    const patched = await t.request("/api/v1/services/defaults", { method: "PATCH", json: { production_pattern: "prod" } });
    expect(patched.status).toBe(200);
    expect(await production("eu-production-2", "e")).toBe(true);
  });
});
