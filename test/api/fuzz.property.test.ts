import fc from "fast-check";
import { sql } from "drizzle-orm";
import { rows } from "@sluice/db";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";

// Hostile input (SPEC 10, issue 8): whatever arrives, the answer is never a 5xx, a refused
// request writes nothing, and no key like "__proto__" reaches Object.prototype.

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

const nasty = fc.oneof(
  fc.constantFrom("' OR 1=1 --", "'; drop table deployments; --", "%00", "\u0000", "\\", "null", "[]", "{}", "../../etc/passwd", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "1e309", "-0", "__proto__", "constructor"),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 5000, maxLength: 20_000 }),
);

/** JSON values including deep nesting, huge strings, prototype keys and near-valid shapes. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    nasty,
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom("__proto__", "constructor", "prototype", "service", "sha", "environment", "status"), fc.string({ maxLength: 12 })), tie("value"), { maxKeys: 5 }),
  ),
})).value;

const deepNesting = fc.integer({ min: 100, max: 5000 }).map((depth) => `${"[".repeat(depth)}1${"]".repeat(depth)}`);

const bodies = fc.oneof(
  hostileValue.map((v) => JSON.stringify(v)),
  // Near-valid: a real shape with one field replaced by something hostile.
  fc.record({ field: fc.constantFrom("service", "environment", "sha", "status", "finished_at", "commits", "external_id", "fixes"), value: hostileValue }).map(({ field, value }) =>
    JSON.stringify({ service: "checkout", environment: "production", sha: "a".repeat(40), [field]: value }),
  ),
  fc.constant('{"__proto__": {"polluted": true}, "service": "checkout"}'),
  fc.constant('{"constructor": {"prototype": {"polluted": true}}}'),
  deepNesting,
  fc.string({ maxLength: 200 }),
);

const TABLES = ["teams", "services", "repositories", "changes", "deployments", "deployment_changes", "incidents", "integrations", "api_tokens", "deliveries", "gates"];

describe("hostile input", () => {
  let t: TestApp;
  const counts = async () =>
    (await rows<{ c: string }>(t.database.db, sql.raw(`select ${TABLES.map((name) => `(select count(*) from ${name})::text`).join(" || ',' || ")} as c`)))[0]?.c;

  beforeAll(async () => {
    t = await createTestApp();
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } });
    await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout", team: "payments" } });
    await t.request("/api/v1/deployments", { method: "POST", json: { service: "checkout", environment: "production", sha: "b".repeat(40) } });
  });
  afterAll(() => t.close());

  const endpoints: Array<[string, string]> = [
    ["POST", "/api/v1/deployments"],
    ["POST", "/api/v1/changes"],
    ["POST", "/api/v1/incidents"],
    ["POST", "/api/v1/teams"],
    ["POST", "/api/v1/services"],
    ["POST", "/api/v1/tokens"],
    ["POST", "/api/v1/integrations"],
    ["PATCH", "/api/v1/deployments/1"],
    ["PATCH", "/api/v1/services/checkout"],
    ["PATCH", "/api/v1/teams/payments"],
  ];

  for (const [method, path] of endpoints) {
    test(`${method} ${path}: never a 5xx; a refused body writes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          const before = await counts();
          const response = await t.request(path, { method, headers: { "content-type": "application/json" }, body });
          expect(response.status, body.slice(0, 200)).toBeLessThan(500);
          const answer = (await response.json()) as { error?: { code: string } };
          if (response.status >= 400) {
            expect(answer.error?.code).toEqual(expect.any(String));
            expect(await counts()).toBe(before);
          }
        }),
        { numRuns: RUNS },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }, 120_000);
  }

  test("query parameters with SQL metacharacters and garbage never give a 5xx", async () => {
    const paths = ["/api/v1/deployments", "/api/v1/changes", "/api/v1/incidents", "/api/v1/services", "/api/v1/teams", "/api/v1/tokens", "/api/v1/deliveries", "/api/v1/metrics", "/api/v1/metrics/timeseries", "/api/v1/metrics/breakdown", "/api/v1/reports/dora"];
    const params = ["service", "team", "environment", "from", "to", "cursor", "limit", "status", "production", "benchmark", "interval", "group_by", "format", "repository"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.dictionary(fc.constantFrom(...params), nasty, { maxKeys: 4 }), async (path, query) => {
        const search = new URLSearchParams(query as Record<string, string>).toString();
        const response = await t.request(`${path}?${search}`);
        expect(response.status, `${path}?${search}`.slice(0, 300)).toBeLessThan(500);
        await response.arrayBuffer();
      }),
      { numRuns: RUNS * 3 },
    );
  }, 180_000);

  test("signed webhook deliveries with hostile payloads are stored and answered, never a 5xx", async () => {
    const github = await createIntegration(t, "github");
    const push = octokitExamples("push").find((p) => Array.isArray(p.commits) && (p.commits as unknown[]).length > 0) as Record<string, unknown>;
    const payloads = fc.oneof(
      hostileValue,
      // A real push with one commit field made hostile (a NUL in a message, a huge file list...).
      fc.record({ field: fc.constantFrom("message", "id", "timestamp", "added", "author"), value: hostileValue }).map(({ field, value }) => ({
        ...push,
        commits: [{ ...((push.commits as Array<Record<string, unknown>>)[0] ?? {}), [field]: value }],
      })),
      fc.constant({ ...push, commits: [{ ...((push.commits as Array<Record<string, unknown>>)[0] ?? {}), message: "fix\u0000 the thing" }] }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("push", "pull_request", "deployment", "deployment_status", "workflow_run", "issues", "ping"), payloads, async (event, payload) => {
        const response = await postGithub(t, github, event, JSON.stringify(payload), { deliveryId: `fuzz-${n++}` });
        expect(response.status, JSON.stringify(payload).slice(0, 200)).toBeLessThan(500);
        expect([200, 202, 400]).toContain(response.status);
        await response.arrayBuffer();
      }),
      { numRuns: RUNS * 2 },
    );
  }, 180_000);

  test("path parameters with garbage never give a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(nasty, fc.constantFrom("/api/v1/deployments/", "/api/v1/services/", "/api/v1/teams/", "/api/v1/tokens/", "/api/v1/integrations/", "/webhooks/github/", "/webhooks/"), async (segment, prefix) => {
        const response = await t.request(`${prefix}${encodeURIComponent(segment.slice(0, 300))}`, { method: prefix.startsWith("/webhooks") ? "POST" : "GET" });
        expect(response.status).toBeLessThan(500);
        await response.arrayBuffer();
      }),
      { numRuns: RUNS * 2 },
    );
  }, 120_000);
});
