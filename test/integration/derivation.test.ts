import { inTransaction, rederiveService, rows } from "@sluice/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { seedFrom, shuffle } from "../support/shuffle.ts";

// Derivation is asynchronous (docs/operations.md "Derivation"): writes append to a queue and
// return, a background deriver works through it in batches while more writes arrive, and
// writers never wait for it. This proves the result is what rebuilding every service from
// its events gives: a history posted by 16 concurrent clients in random order, with updates,
// duplicates, rollbacks, fixes, explicit commit lists, incidents and late commits, while the deriver runs.
//
// Each seed orders the history differently. CI runs a few; SLUICE_SOAK=<n> runs n (the soak
// variant: `SLUICE_SOAK=200 npx vitest run test/integration/derivation.test.ts`, on PGlite or
// with TEST_DATABASE_URL; docs/operations.md "Derivation"), SLUICE_SEED=<seed> replays one. Every
// seed uses services of its own in one database, so a seed costs its history, not a database.

const sha = (service: number, n: number) => `${service.toString(16).padStart(6, "0")}${n.toString(16).padStart(34, "0")}`;
const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 8, 0) + minute * 60_000).toISOString();

type Call = { path: string; json: Record<string, unknown> };

const BASE_SEED = 20261126;
const CI_SEEDS = 3;
/** SLUICE_SOAK=1 is also the switch of the other soak variants (exactly-once.test.ts): it runs this many. */
const SOAK_SEEDS = 50;

/** The seeds to run, from BASE_SEED on: SLUICE_SEED alone, else SLUICE_SOAK of them, else the CI's few. */
function seeds(): number[] {
  if (process.env.SLUICE_SEED) return [seedFrom(BASE_SEED)];
  const soak = process.env.SLUICE_SOAK;
  const count = soak ? (Number(soak) > 1 ? Math.floor(Number(soak)) : SOAK_SEEDS) : CI_SEEDS;
  return Array.from({ length: count }, (_, i) => BASE_SEED + i);
}

const serviceName = (service: number) => `svc-${service}`;

function history(service: number): Call[] {
  const name = serviceName(service);
  const calls: Call[] = [];
  for (let n = 1; n <= 40; n++) {
    // Commits: a chain, each pushed on its own (some after the deployment that brings them).
    calls.push({
      path: "/api/v1/changes",
      json: { repository: `octo/${name}`, sha: sha(service, n), committed_at: at(n * 10 - 5), parents: [sha(service, n - 1)] },
    });
  }
  for (let d = 1; d <= 20; d++) {
    const commit = d === 12 ? 5 : d * 2; // deployment 12 redeploys an earlier sha: a rollback
    const base = { service: name, environment: "production", sha: sha(service, commit), external_id: `${name}-d${d}` };
    calls.push({ path: "/api/v1/deployments", json: { ...base, status: "in_progress", started_at: at(d * 20) } });
    // Every seventh lists its commits explicitly (they win over the commit graph).
    const listed =
      d % 7 === 0
        ? { commits: [commit, commit - 1].map((n) => ({ sha: sha(service, n), committed_at: at(n * 10 - 5), parents: [sha(service, n - 1)] })) }
        : {};
    calls.push({
      path: "/api/v1/deployments",
      json: { ...base, ...listed, status: "success", started_at: at(d * 20), finished_at: at(d * 20 + 3) },
    });
    if (d % 5 === 0) calls.push({ path: "/api/v1/deployments", json: { ...base, status: "success", finished_at: at(d * 20 + 3) } });
    if (d === 15) calls.push({ path: "/api/v1/deployments", json: { ...base, fixes: sha(service, 28), finished_at: at(d * 20 + 3) } });
  }
  calls.push({ path: "/api/v1/deployments", json: { service: name, environment: "staging", sha: sha(service, 3), finished_at: at(50) } });
  for (const [i, minute] of [75, 210, 390].entries()) {
    calls.push({ path: "/api/v1/incidents", json: { service: name, external_id: `${name}-i${i}`, started_at: at(minute) } });
    calls.push({
      path: "/api/v1/incidents",
      json: { service: name, external_id: `${name}-i${i}`, started_at: at(minute), resolved_at: at(minute + 30) },
    });
  }
  return calls;
}

/** Every derived field of the services' rows, ids mapped to external ids so two derivations compare. */
async function derivedState(t: TestApp, serviceIds: number[]) {
  const ids = sql.join(serviceIds.map((id) => sql`${id}`), sql`, `);
  const deployments = await rows<Record<string, unknown>>(
    t.database.db,
    sql`select d.service_id::int as service_id, d.external_id, d.is_production, d.baseline, d.failed, d.failure_reasons,
          to_char(d.recovered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as recovered_at,
          d.rolled_back_by::int as rolled_back_by, d.fixed_by::int as fixed_by, d.fixes_deployment_id::int as fixes,
          d.rework, d.rework_reasons,
          coalesce((select string_agg(dc.sha || ':' || dc.in_scope, ',' order by dc.sha) from deployment_changes dc where dc.deployment_id = d.id), '') as changes
        from deployments d where d.service_id in (${ids}) order by d.service_id, d.external_id`,
  );
  const incidents = await rows<Record<string, unknown>>(
    t.database.db,
    sql`select external_id, deployment_id::int as deployment_id from incidents where service_id in (${ids}) order by external_id`,
  );
  return { deployments, incidents };
}

describe("asynchronous derivation under concurrency", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ deriver: true });
  });
  afterAll(() => t.close());

  for (const [round, seed] of seeds().entries()) {
    test(`a history posted by 16 clients while the deriver runs derives to what a rebuild from the events gives (seed ${seed})`, async () => {
      const services = [1, 2, 3].map((s) => round * 3 + s);
      const serviceIds: number[] = [];
      for (const s of services) {
        const created = await t.request("/api/v1/services", {
          method: "POST",
          json: { slug: serviceName(s), repositories: [{ name: `octo/${serviceName(s)}` }] },
        });
        expect(created.status).toBe(201);
        serviceIds.push(((await created.json()) as { id: number }).id);
      }
      const calls = shuffle(services.flatMap(history), seed);
      // Duplicates among them: every tenth call is sent twice.
      const all = [...calls, ...calls.filter((_, i) => i % 10 === 0)];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < all.length) {
            const call = all[next++] as Call;
            const response = await t.request(call.path, { method: "POST", json: call.json });
            expect(response.status, `${call.path} ${JSON.stringify(call.json)}: ${await response.clone().text()}`).toBeLessThan(300);
          }
        }),
      );
      // A read derives whatever the background deriver has not reached yet.
      expect((await t.request("/api/v1/deployments?limit=1")).status).toBe(200);
      const incremental = await derivedState(t, serviceIds);
      expect(incremental.deployments.filter((d) => d.failed).length).toBeGreaterThan(0);

      for (const id of serviceIds) await inTransaction(t.database.db, (tx) => rederiveService(tx, id));
      expect(incremental, `replay with SLUICE_SEED=${seed}`).toEqual(await derivedState(t, serviceIds));
    });
  }
});
