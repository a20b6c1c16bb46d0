import { deriveSome, MAX_DERIVATION_ATTEMPTS, rows } from "@sluice/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { refreshDoraGauges } from "../../ingest/src/dora-gauges.ts";
import { createTelemetry } from "../../ingest/src/telemetry.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createService, deploy, read, sha } from "./gates-helpers.ts";

// Issue 18, item 2 (SPEC 10 v2): one service's data can never break another's reads. Derivation
// runs only for what a request reads and only after authentication; an entry that keeps failing
// gets attempts and its last error, backs off, is set aside after MAX_DERIVATION_ATTEMPTS, and is
// reported in /metrics (and data quality), never retried forever.

const NOW = "2026-06-15T12:00:00Z";
const telemetry = createTelemetry({ cardinalityLimit: 200 });
let t: TestApp;
let brokenId: number;
let serviceB: number;

type Entry = { attempts: number; last_error: string | null; retry_at: string | Date | null; set_aside_at: string | Date | null };

const entry = async (): Promise<Entry | undefined> =>
  (
    await rows<Entry>(
      t.database.db,
      sql`select attempts, last_error, retry_at, set_aside_at from derivation_queue where id = ${brokenId}`,
    )
  )[0];

/** Lets the back-off pass, as time would. */
const backOffPassed = () => t.database.db.execute(sql`update derivation_queue set retry_at = now() - interval '1 second' where id = ${brokenId}`);

beforeAll(async () => {
  t = await createTestApp({ now: NOW, telemetry });
  await createService(t, "alpha");
  await createService(t, "beta");
  await deploy(t, { service: "alpha", sha: sha("a1"), finished_at: "2026-06-10T10:00:00Z" });
  const b1 = await deploy(t, { service: "beta", sha: sha("b1"), finished_at: "2026-06-10T10:00:00Z" });
  // Derive what is queued so far, then queue an entry whose snapshot cannot be read: a
  // deployment "as last derived" with a finish time that is no time at all.
  await read(t.request("/api/v1/metrics"));
  const [service] = await rows<{ id: number }>(t.database.db, sql`select id::int as id from services where slug = 'beta'`);
  serviceB = service?.id ?? 0;
  const [inserted] = await rows<{ id: number }>(
    t.database.db,
    sql`insert into derivation_queue (service_id, kind, deployment_id, before)
        values (${serviceB}, 'deployment', ${b1.id},
          ${JSON.stringify({ id: b1.id, serviceId: serviceB, sha: sha("b1"), finishedAt: "not a time", externalId: "x", isProduction: true, explicitCommits: null, fixesRef: null })}::jsonb)
        returning id::int as id`,
  );
  brokenId = inserted?.id ?? 0;
});
afterAll(() => t.close());

describe("a bad queue entry of one service", () => {
  test("does no derivation work for unauthenticated requests, unknown routes or routes that read no service", async () => {
    expect((await t.request("/api/v1/metrics", { token: null })).status).toBe(401);
    expect((await t.request("/api/v1/metrics?service=beta", { token: "wrong" })).status).toBe(401);
    expect((await t.request("/api/v1/no-such-route")).status).toBe(404);
    for (const path of ["/api/v1/tokens", "/api/v1/teams", "/api/v1/deliveries", "/api/v1/integrations", "/api/v1/services"]) {
      expect((await t.request(path)).status, path).toBe(200);
    }
    // None of the above tried the entry.
    expect((await entry())?.attempts).toBe(0);
  });

  test("does not break other services' reads", async () => {
    await deploy(t, { service: "alpha", sha: sha("a2"), finished_at: "2026-06-11T10:00:00Z" });
    const alpha = await t.request("/api/v1/metrics?service=alpha");
    expect(alpha.status).toBe(200);
    expect((await read(alpha)).deployment_frequency.deployments).toBe(2);
    const list = await read(t.request("/api/v1/deployments?service=alpha"));
    expect(list.items.every((d: { derived: boolean }) => d.derived)).toBe(true);
  });

  test("a read of its own service answers from the rows as derived, and records the failure", async () => {
    const beta = await t.request("/api/v1/metrics?service=beta");
    expect(beta.status).toBe(200);
    const failed = await entry();
    expect(failed?.attempts).toBe(1);
    expect(failed?.last_error).toMatch(/Invalid time value/);
    expect(new Date(failed?.retry_at ?? 0).getTime()).toBeGreaterThan(Date.now());
    expect(failed?.set_aside_at).toBeNull();
    // While it backs off, reads do not try it again.
    expect((await t.request("/api/v1/metrics?service=beta")).status).toBe(200);
    expect((await entry())?.attempts).toBe(1);
  });

  test("the service's other entries are derived around it", async () => {
    await backOffPassed();
    await deploy(t, { service: "beta", sha: sha("b2"), finished_at: "2026-06-12T10:00:00Z" });
    const list = await read(t.request("/api/v1/deployments?service=beta"));
    const b2 = list.items.find((d: { sha: string }) => d.sha === sha("b2"));
    expect(b2.derived).toBe(true);
    expect((await entry())?.attempts).toBe(2);
  });

  test("is set aside after its attempts, then never tried again, and /metrics reports it", async () => {
    const failures: Array<{ setAside: boolean }> = [];
    while (((await entry())?.attempts ?? 0) < MAX_DERIVATION_ATTEMPTS) {
      await backOffPassed();
      // The background deriver's round: it never throws for one service's data.
      await deriveSome(t.database.db, 32, (failure) => failures.push(failure));
    }
    expect(failures.at(-1)?.setAside).toBe(true);
    const aside = await entry();
    expect(aside?.set_aside_at).not.toBeNull();
    await backOffPassed();
    await deriveSome(t.database.db);
    expect((await t.request("/api/v1/metrics?service=beta")).status).toBe(200);
    expect((await entry())?.attempts).toBe(MAX_DERIVATION_ATTEMPTS);

    await refreshDoraGauges({ database: t.database, telemetry, now: new Date(NOW) });
    const scraped = await telemetry.scrape();
    expect(scraped).toMatch(/^sluice_derivation_set_aside({[^}]*})? 1$/m);
    expect(scraped).toMatch(/^sluice_derivation_queued({[^}]*})? 0$/m);
  });

  test("an admin retries it after a fix; one that fails again is not lost", async () => {
    const member = await t.token(["read"]);
    expect((await t.request("/api/v1/admin/derivation/retry", { method: "POST", json: {}, token: member })).status).toBe(403);
    expect((await t.request("/api/v1/admin/derivation/retry", { method: "POST", json: { service: "nope" } })).status).toBe(404);
    expect((await t.request("/api/v1/admin/derivation/retry", { method: "POST", json: { service: 7 } })).status).toBe(400);

    // Still broken: retried, fails once more, stays queued with a fresh count.
    const again = await read(t.request("/api/v1/admin/derivation/retry", { method: "POST", json: { service: "beta" } }));
    expect(again).toEqual({ retried: 1, derived: 0 });
    expect(await entry()).toMatchObject({ attempts: 1, set_aside_at: null });

    // Fixed (the snapshot says "new"): derived and gone.
    await t.database.db.execute(sql`update derivation_queue set before = null, attempts = 0, retry_at = null, set_aside_at = now() where id = ${brokenId}`);
    const fixed = await read(t.request("/api/v1/admin/derivation/retry", { method: "POST", json: {} }));
    expect(fixed).toEqual({ retried: 1, derived: 1 });
    expect(await entry()).toBeUndefined();
  });
});
