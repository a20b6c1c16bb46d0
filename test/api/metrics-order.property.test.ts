import { inTransaction, rederiveService } from "@sluice/db";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, sha } from "../support/history.ts";

// SPEC 10: "events arriving out of order give the same metrics as in order". A generated
// history (a commit chain, deployments with redeploys, rollback flags, fixes, explicit commits
// and status updates, incidents opened and resolved, API-marked failures) is posted once in
// chronological order and once shuffled with duplicates, into two services of one database;
// every metric and every derived field must come out the same.

const T0 = Date.parse("2026-03-02T00:00:00Z");
const minutes = (n: number) => new Date(T0 + n * 60_000).toISOString();

const deploymentArb = fc.record({
  commit: fc.nat(),
  slot: fc.integer({ min: 0, max: 30 }), // finish at 60 + 5 * slot minutes: ties happen
  environment: fc.constantFrom("production", "production", "production", "staging"),
  status: fc.constantFrom("success", "success", "success", "success", "failure"),
  lifecycle: fc.boolean(), // an in_progress update as well as the final one
  rollback: fc.constantFrom(false, false, false, true),
  hotfix: fc.constantFrom(false, false, false, true),
  branch: fc.constantFrom(undefined, "main", "hotfix/urgent"),
  fixes: fc.option(fc.record({ target: fc.nat(), by: fc.constantFrom("id" as const, "sha" as const) }), { freq: 3 }),
  explicitFrom: fc.option(fc.nat(), { freq: 4 }),
  markFailed: fc.constantFrom(false, false, false, false, true),
  // the same deployment reported again with another finish (a re-run): the later finish wins
  rerun: fc.option(fc.record({ slot: fc.integer({ min: 0, max: 30 }), status: fc.constantFrom("success", "failure") }), { freq: 5 }),
});

const incidentArb = fc.record({
  slot: fc.integer({ min: 0, max: 40 }),
  duration: fc.option(fc.integer({ min: 1, max: 40 }), { freq: 3 }),
  names: fc.constantFrom("none" as const, "none" as const, "id" as const, "sha" as const),
  target: fc.nat(),
});

const historyArb = fc.record({
  commits: fc.integer({ min: 2, max: 7 }),
  deployments: fc.array(deploymentArb, { minLength: 1, maxLength: 6 }),
  incidents: fc.array(incidentArb, { maxLength: 3 }),
  shuffle: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  duplicates: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
});

type History = typeof historyArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * One call of the public API. `creates` names the deployment a post creates (or updates);
 * `needs` names the deployment whose id the call refers to, so it must come after a post of it.
 */
interface Event {
  at: number;
  creates?: string;
  needs?: string;
  run: (ctx: Copy) => Promise<void>;
}

interface Copy {
  t: TestApp;
  service: string;
  serviceId: number;
  ids: Map<string, number>;
}

async function call(ctx: Copy, method: string, path: string, json: unknown) {
  const response = await ctx.t.request(path, { method, json });
  if (response.status >= 300) throw new Error(`${method} ${path} ${JSON.stringify(json)}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ id: number }>;
}

function events(h: History): Event[] {
  const list: Event[] = [];
  const label = (i: number) => `c${i}`;
  for (let i = 0; i < h.commits; i++) {
    list.push({
      at: i * 5,
      run: (ctx) =>
        call(ctx, "POST", "/api/v1/changes", {
          repository: `octo/${ctx.service}`,
          sha: sha(label(i)),
          committed_at: minutes(i * 5),
          parents: i === 0 ? [] : [sha(label(i - 1))],
        }).then(() => {}),
    });
  }
  h.deployments.forEach((d, n) => {
    const id = `d${n}`;
    const commit = d.commit % h.commits;
    const finished = 60 + 5 * d.slot;
    const remember = (ctx: Copy) => (body: { id: number }) => {
      if (!ctx.ids.has(id)) ctx.ids.set(id, body.id);
    };
    const base = { environment: d.environment, sha: sha(label(commit)), external_id: id, started_at: minutes(55) };
    if (d.lifecycle) {
      list.push({ at: finished - 3, creates: id, run: (ctx) => call(ctx, "POST", "/api/v1/deployments", { service: ctx.service, ...base, status: "in_progress" }).then(remember(ctx)) });
    }
    const target = d.fixes ? d.fixes.target % h.deployments.length : undefined;
    // By id, only a deployment generated before this one: two deployments naming each other by
    // id cannot each be posted after the other, and whichever went first would carry no fix in
    // one order and a fix in the other, which is different input, not a different order.
    const named = d.fixes && target !== undefined && target !== n && (d.fixes.by === "sha" || target < n);
    const fixes = named && d.fixes && target !== undefined ? { by: d.fixes.by, target } : undefined;
    const targetCommit = (i: number) => sha(label((h.deployments[i] as { commit: number }).commit % h.commits));
    const final = (status: string, at: number): Event => ({
      at,
      creates: id,
      ...(fixes?.by === "id" ? { needs: `d${fixes.target}` } : {}),
      run: (ctx) => {
        const json: Record<string, unknown> = { service: ctx.service, ...base, status, finished_at: minutes(at) };
        if (d.rollback) json.rollback = true;
        if (d.hotfix) json.hotfix = true;
        if (d.branch) json.branch = d.branch;
        if (fixes) json.fixes = fixes.by === "id" ? ctx.ids.get(`d${fixes.target}`) : targetCommit(fixes.target);
        if (d.explicitFrom !== null) {
          const from = d.explicitFrom % (commit + 1);
          json.commits = Array.from({ length: commit - from + 1 }, (_, k) => ({ sha: sha(label(from + k)), committed_at: minutes((from + k) * 5) }));
        }
        return call(ctx, "POST", "/api/v1/deployments", json).then(remember(ctx));
      },
    });
    list.push(final(d.status, finished));
    if (d.rerun) list.push(final(d.rerun.status, 60 + 5 * d.rerun.slot));
    if (d.markFailed) {
      list.push({ at: finished + 1, needs: id, run: (ctx) => call(ctx, "PATCH", `/api/v1/deployments/${ctx.ids.get(id)}`, { failed: true }).then(() => {}) });
    }
  });
  h.incidents.forEach((incident, n) => {
    const started = 60 + 5 * incident.slot + 1;
    const target = incident.target % h.deployments.length;
    const body = (ctx: Copy): Record<string, unknown> => ({
      service: ctx.service,
      external_id: `i${n}`,
      started_at: minutes(started),
      ...(incident.names === "id" ? { deployment_id: ctx.ids.get(`d${target}`) } : {}),
      ...(incident.names === "sha" ? { sha: sha(label((h.deployments[target] as { commit: number }).commit % h.commits)) } : {}),
    });
    const needs = incident.names === "id" ? { needs: `d${target}` } : {};
    list.push({ at: started, ...needs, run: (ctx) => call(ctx, "POST", "/api/v1/incidents", body(ctx)).then(() => {}) });
    if (incident.duration !== null) {
      const resolved = minutes(started + incident.duration);
      list.push({ at: started + incident.duration, ...needs, run: (ctx) => call(ctx, "POST", "/api/v1/incidents", { ...body(ctx), resolved_at: resolved }).then(() => {}) });
    }
  });
  return list;
}

/**
 * Moves each event that refers to a deployment by id after that deployment's first post (an
 * API caller cannot name an id it has not been given). A deployment fixing another by id waits
 * too (events() keeps those references acyclic).
 */
function respectIds(order: Event[]): Event[] {
  const result: Event[] = [];
  const waiting: Event[] = [];
  const seen = new Set<string>();
  const post = (e: Event) => {
    result.push(e);
    if (e.creates) seen.add(e.creates);
  };
  for (const e of order) {
    if (e.needs && !seen.has(e.needs)) {
      waiting.push(e);
      continue;
    }
    post(e);
    for (let i = 0; i < waiting.length; ) {
      const w = waiting[i] as Event;
      if (w.needs && seen.has(w.needs)) {
        waiting.splice(i, 1);
        post(w);
        i = 0;
      } else i++;
    }
  }
  return [...result, ...waiting.sort((a, b) => a.at - b.at)];
}

function chronological(all: Event[]): Event[] {
  return respectIds([...all].sort((a, b) => a.at - b.at));
}

function shuffled(all: Event[], h: History): Event[] {
  const keyed = all.map((e, i) => ({ e, key: h.shuffle[i % h.shuffle.length] ?? 0, i }));
  keyed.sort((a, b) => a.key - b.key || a.i - b.i);
  const order = keyed.map((k) => k.e);
  for (const [which, where] of h.duplicates) {
    const e = all[which % all.length] as Event;
    const first = order.indexOf(e);
    const at = first + 1 + (where % (order.length - first));
    order.splice(at, 0, e);
  }
  return respectIds(order);
}

async function snapshot(ctx: Copy) {
  const list = (await (await ctx.t.request(`/api/v1/deployments?service=${ctx.service}&limit=1000`)).json()) as { items: DeploymentView[] };
  const external = new Map(list.items.map((d) => [d.id, d.external_id]));
  const ref = (id: number | null) => (id === null ? null : (external.get(id) ?? `unknown ${id}`));
  const deployments: Record<string, unknown> = {};
  for (const d of list.items) {
    const detail = (await (await ctx.t.request(`/api/v1/deployments/${d.id}`)).json()) as DeploymentView & {
      status: string;
      commits: Array<{ sha: string; in_scope: boolean; lead_time_seconds: number | null }>;
    };
    deployments[d.external_id] = {
      status: detail.status,
      production: d.production,
      baseline: d.baseline,
      failed: d.failed,
      failure_reasons: d.failure_reasons,
      rolled_back_by: ref(d.rolled_back_by),
      fixed_by: ref(d.fixed_by),
      fixes: ref(d.fixes),
      recovered_at: d.recovered_at,
      rework: d.rework,
      rework_reasons: d.rework_reasons,
      changes: d.changes,
      lead_time: d.lead_time,
      commits: detail.commits.map((c) => [c.sha, c.in_scope, c.lead_time_seconds]).sort(),
    };
  }
  const incidents = (await (await ctx.t.request(`/api/v1/incidents?service=${ctx.service}`)).json()) as {
    items: Array<{ external_id: string; resolved_at: string | null; deployment: { id: number } | null }>;
  };
  const metrics = [];
  for (const [from, to] of [
    [minutes(-60 * 24), minutes(60 * 24)],
    [minutes(100), minutes(160)],
  ]) {
    for (const path of ["/api/v1/metrics", "/api/v1/metrics/timeseries"]) {
      const body = (await (await ctx.t.request(`${path}?service=${ctx.service}&from=${from}&to=${to}&interval=day`)).json()) as Record<string, unknown>;
      delete body.scope;
      metrics.push(body);
    }
  }
  return {
    deployments,
    incidents: Object.fromEntries(
      incidents.items.map((i) => [i.external_id, { resolved_at: i.resolved_at, deployment: ref(i.deployment?.id ?? null) }]),
    ),
    metrics,
  };
}

describe("order independence (SPEC 10)", () => {
  let t: TestApp;
  let run = 0;
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-10T00:00:00Z" });
  });
  afterAll(() => t.close());

  test("any arrival order, with duplicates, gives the same metrics and derived rows as chronological order", async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (h) => {
        run++;
        const all = events(h);
        const copies: Copy[] = [];
        for (const [suffix, order] of [
          ["a", chronological(all)],
          ["b", shuffled(all, h)],
        ] as const) {
          const ctx: Copy = { t, service: `p${run}${suffix}`, serviceId: 0, ids: new Map() };
          const created = await call(ctx, "POST", "/api/v1/services", { slug: ctx.service, repositories: [{ name: `octo/${ctx.service}` }] });
          ctx.serviceId = created.id;
          for (const e of order) await e.run(ctx);
          copies.push(ctx);
        }
        const [inOrder, outOfOrder] = await Promise.all(copies.map(snapshot));
        expect(outOfOrder).toEqual(inOrder);
        // reprocessing (a rebuild of every derived row of the service) changes nothing either
        await inTransaction(t.database.db, (tx) => rederiveService(tx, (copies[1] as Copy).serviceId));
        expect(await snapshot(copies[1] as Copy)).toEqual(inOrder);
      }),
      {
        numRuns: Number(process.env.PROPERTY_RUNS ?? 30),
        endOnFailure: process.env.PROPERTY_SHRINK !== "1",
        ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED), path: process.env.PROPERTY_PATH } : {}),
      },
    );
  }, 600_000);
});
