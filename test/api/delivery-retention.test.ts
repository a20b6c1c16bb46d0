import { deliveries, deliveryDays, rows } from "@sluice/db";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyRetention } from "../../ingest/src/webhooks/retention.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 10: delivery rows past SLUICE_DELIVERY_RETENTION_DAYS. Processed ones keep
// their row and mapped events (what a rebuild re-applies) and lose their body; failed ones keep
// their body (stored for reprocessing, SPEC 6); ignored ones carry nothing to rebuild from and
// are deleted, counted per integration, UTC day and status in delivery_days.

/** Vendor payloads edited by path; typing them would add nothing the assertions do not check. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = Record<string, any>;

const sha = (n: number) => n.toString(16).repeat(40).slice(0, 40);
const ZERO = "0".repeat(40);
const WINDOW = "from=2025-12-01T00:00:00Z&to=2025-12-31T00:00:00Z";
const OLD = "2026-01-01T10:00:00Z";
const OLD_NEXT_DAY = "2026-01-02T23:30:00Z";
const RECENT = "2026-03-20T10:00:00Z";
/** 90 days before this is 2026-01-15: OLD and OLD_NEXT_DAY are past retention, RECENT is not. */
const NOW = new Date("2026-04-15T00:00:00Z");

function example(event: string, pick: (e: Loose) => boolean = () => true): Loose {
  const found = octokitExamples(event).find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return found;
}

/** Two production deployments of octo/shop and an incident, as GitHub sends them. */
function history(): Array<[string, Loose]> {
  const repository = { ...example("push").repository, full_name: "octo/shop", name: "shop" };
  const push = (before: string, commits: Array<[number, string]>) => {
    const p = example("push", (e) => Array.isArray(e.commits) && e.commits.length > 0);
    const template = p.commits[0];
    p.repository = repository;
    p.ref = "refs/heads/main";
    p.before = before;
    p.commits = commits.map(([n, at]) => ({ ...template, id: sha(n), timestamp: at, added: [], modified: ["src/app.ts"], removed: [] }));
    p.head_commit = p.commits.at(-1);
    p.after = sha(commits.at(-1)?.[0] ?? 0);
    return p;
  };
  const deployment = (id: number, commit: number, at: string) => {
    const d = example("deployment");
    d.repository = repository;
    d.deployment = { ...d.deployment, id, sha: sha(commit), ref: "main", environment: "production", created_at: at, updated_at: at };
    return d;
  };
  const status = (id: number, commit: number, state: string, at: string) => {
    const s = example("deployment_status");
    s.repository = repository;
    s.deployment = { ...s.deployment, id, sha: sha(commit), ref: "main", environment: "production", created_at: at };
    s.deployment_status = { ...s.deployment_status, state, environment: "production", created_at: at, updated_at: at };
    return s;
  };
  const issue = (action: string, closedAt: string | null) => {
    const i = example("issues", (e) => e.action === "opened");
    i.action = action;
    i.repository = repository;
    i.issue = {
      ...i.issue,
      id: 9001,
      state: closedAt ? "closed" : "open",
      created_at: "2025-12-10T12:00:00Z",
      closed_at: closedAt,
      labels: [{ id: 1, name: "incident", color: "ff0000", default: false, description: null, node_id: "x", url: "https://example.invalid" }],
    };
    return i;
  };
  return [
    ["push", push(ZERO, [[1, "2025-12-10T08:00:00Z"], [2, "2025-12-10T09:00:00Z"]])],
    ["deployment", deployment(101, 2, "2025-12-10T10:00:00Z")],
    ["deployment_status", status(101, 2, "success", "2025-12-10T10:05:00Z")],
    ["push", push(sha(2), [[3, "2025-12-10T11:00:00Z"], [4, "2025-12-10T12:30:00Z"]])],
    ["deployment", deployment(102, 4, "2025-12-10T13:00:00Z")],
    ["deployment_status", status(102, 4, "success", "2025-12-10T13:30:00Z")],
    ["issues", issue("opened", null)],
    ["issues", issue("closed", "2025-12-10T13:00:00Z")],
  ];
}

async function post(t: TestApp, integration: { url: string; secret: string }, at: string, event: string, payload: unknown, deliveryId: string) {
  t.setNow(at);
  const response = await postGithub(t, integration, event, payload, { deliveryId });
  expect(response.status).toBe(202);
  return ((await response.json()) as { status: string }).status;
}

const stored = (t: TestApp) =>
  t.database.db
    .select({
      deliveryId: deliveries.deliveryId,
      status: deliveries.status,
      body: deliveries.body,
      events: deliveries.events,
    })
    .from(deliveries)
    .orderBy(asc(deliveries.id));

const days = (t: TestApp) =>
  t.database.db
    .select({ integrationId: deliveryDays.integrationId, day: deliveryDays.day, status: deliveryDays.status, deliveries: deliveryDays.deliveries })
    .from(deliveryDays)
    .orderBy(asc(deliveryDays.day), asc(deliveryDays.status), asc(deliveryDays.integrationId));

async function metricsOf(t: TestApp) {
  const response = await t.request(`/api/v1/metrics?service=shop&${WINDOW}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Loose;
}

describe("deliveries past their retention", () => {
  let t: TestApp;
  let github: { id: string; url: string; secret: string };
  let other: { id: string; url: string; secret: string };
  let metricsBefore: Loose;
  let deliveriesBefore: Awaited<ReturnType<typeof stored>>;

  beforeAll(async () => {
    t = await createTestApp({ now: OLD });
    github = await createIntegration(t, "github");
    other = await createIntegration(t, "github");
    for (const [n, [event, payload]] of history().entries()) {
      expect(await post(t, github, OLD, event, payload, `history-${n}`)).toBe("processed");
    }
    const ping = { zen: "Keep it logically awesome.", hook_id: 1 };
    expect(await post(t, github, OLD, "ping", ping, "ping-old")).toBe("ignored");
    expect(await post(t, github, OLD, "star", { action: "created" }, "star-old-1")).toBe("ignored");
    expect(await post(t, github, OLD_NEXT_DAY, "star", { action: "created" }, "star-old-2")).toBe("ignored");
    expect(await post(t, other, OLD, "star", { action: "created" }, "star-old-other")).toBe("ignored");
    expect(await post(t, github, OLD, "push", { ref: 42, commits: "nope" }, "failed-old")).toBe("failed");
    expect(await post(t, github, RECENT, "star", { action: "deleted" }, "star-recent")).toBe("ignored");
    expect(await post(t, github, RECENT, "push", { ref: 43, commits: "nope" }, "failed-recent")).toBe("failed");
    t.setNow(NOW);
    metricsBefore = await metricsOf(t);
    expect(metricsBefore.deployment_frequency.deployments).toBe(2);
    deliveriesBefore = await stored(t);
    // Batches of two: every kind of work takes several transactions.
    await applyRetention({ database: t.database, days: 90, now: NOW, batchSize: 2 });
  });
  afterAll(() => t.close());

  test("ignored ones are deleted and counted per integration, UTC day and status", async () => {
    const left = (await stored(t)).map((d) => d.deliveryId);
    for (const gone of ["ping-old", "star-old-1", "star-old-2", "star-old-other"]) expect(left).not.toContain(gone);
    expect(await days(t)).toEqual([
      ...[
        { integrationId: github.id, day: "2026-01-01", status: "ignored", deliveries: 2 },
        { integrationId: other.id, day: "2026-01-01", status: "ignored", deliveries: 1 },
      ].sort((a, b) => a.integrationId.localeCompare(b.integrationId)),
      { integrationId: github.id, day: "2026-01-02", status: "ignored", deliveries: 1 },
    ].sort((a, b) => a.day.localeCompare(b.day)));
  });

  test("processed ones lose their body and keep their events", async () => {
    const after = new Map((await stored(t)).map((d) => [d.deliveryId, d]));
    for (const before of deliveriesBefore.filter((d) => d.deliveryId.startsWith("history-"))) {
      expect(after.get(before.deliveryId)).toEqual({ ...before, body: null });
      expect(before.events?.length).toBeGreaterThan(0);
    }
  });

  test("failed ones keep their body: they are stored for reprocessing", async () => {
    const failed = (await stored(t)).find((d) => d.deliveryId === "failed-old");
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed?.body).toBe(JSON.stringify({ ref: 42, commits: "nope" }));
  });

  test("deliveries within the retention period are untouched", async () => {
    const after = new Map((await stored(t)).map((d) => [d.deliveryId, d]));
    for (const recent of ["star-recent", "failed-recent"]) {
      expect(after.get(recent)).toEqual(deliveriesBefore.find((d) => d.deliveryId === recent));
    }
  });

  test("the deliveries list shows what is left, with body_retained saying which bodies are kept", async () => {
    const listed = await read(t.request("/api/v1/deliveries?limit=1000"));
    const retained = Object.fromEntries(listed.items.map((d: { delivery_id: string; body_retained: boolean }) => [d.delivery_id, d.body_retained]));
    expect(retained).toEqual({
      ...Object.fromEntries(history().map((_, n) => [`history-${n}`, false])),
      "failed-old": true,
      "star-recent": true,
      "failed-recent": true,
    });
  });

  test("a rebuild afterwards gives the same metrics, and maps the failed ones again from their bodies", async () => {
    const report = await read(t.request("/api/v1/admin/reprocess", { method: "POST" }));
    expect(report).toMatchObject({ deliveries: history().length + 3, processed: history().length, ignored: 1, failed: 2 });
    expect(await metricsOf(t)).toEqual(metricsBefore);
  });

  test("a later run adds to the same day's counts; 0 days keeps everything", async () => {
    expect(await post(t, github, OLD, "star", { action: "created" }, "star-old-late")).toBe("ignored");
    t.setNow(NOW);
    expect(await applyRetention({ database: t.database, days: 0, now: NOW })).toBe(0);
    expect((await stored(t)).map((d) => d.deliveryId)).toContain("star-old-late");
    await applyRetention({ database: t.database, days: 90, now: NOW });
    expect((await stored(t)).map((d) => d.deliveryId)).not.toContain("star-old-late");
    expect((await days(t)).find((d) => d.integrationId === github.id && d.day === "2026-01-01")).toMatchObject({ deliveries: 3 });
  });

  test("a failed delivery whose body an earlier version dropped has nothing left to rebuild from: deleted and counted", async () => {
    await t.database.db.update(deliveries).set({ body: null }).where(eq(deliveries.deliveryId, "failed-old"));
    await applyRetention({ database: t.database, days: 90, now: NOW });
    expect((await stored(t)).map((d) => d.deliveryId)).not.toContain("failed-old");
    expect((await days(t)).filter((d) => d.status === "failed")).toEqual([{ integrationId: github.id, day: "2026-01-01", status: "failed", deliveries: 1 }]);
  });

  describe("GET /api/v1/deliveries/daily", () => {
    test("lists the counts, latest day first, per integration and status", async () => {
      const listed = await read(t.request("/api/v1/deliveries/daily"));
      expect(listed.next_cursor).toBeNull();
      expect(listed.items.map((d: { day: string }) => d.day)).toEqual(["2026-01-02", "2026-01-01", "2026-01-01", "2026-01-01"]);
      expect(listed.items).toEqual(
        expect.arrayContaining([
          { day: "2026-01-02", integration_id: github.id, source: "github", status: "ignored", deliveries: 1 },
          { day: "2026-01-01", integration_id: github.id, source: "github", status: "ignored", deliveries: 3 },
          { day: "2026-01-01", integration_id: github.id, source: "github", status: "failed", deliveries: 1 },
          { day: "2026-01-01", integration_id: other.id, source: "github", status: "ignored", deliveries: 1 },
        ]),
      );
    });

    test("filters by integration and status, and pages with a cursor", async () => {
      const ofOther = await read(t.request(`/api/v1/deliveries/daily?integration=${other.id}`));
      expect(ofOther.items).toEqual([{ day: "2026-01-01", integration_id: other.id, source: "github", status: "ignored", deliveries: 1 }]);
      const failed = await read(t.request("/api/v1/deliveries/daily?status=failed"));
      expect(failed.items.map((d: { status: string }) => d.status)).toEqual(["failed"]);
      const whole = (await read(t.request("/api/v1/deliveries/daily"))).items;
      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page = await read(t.request(`/api/v1/deliveries/daily?limit=1${cursor ? `&cursor=${cursor}` : ""}`));
        paged.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor);
      expect(paged).toEqual(whole);
    });

    test("needs the admin scope; a bad cursor is a 400", async () => {
      const reader = await t.token(["read"]);
      expect((await t.request("/api/v1/deliveries/daily", { token: reader })).status).toBe(403);
      expect((await t.request("/api/v1/deliveries/daily", { token: null })).status).toBe(401);
      for (const cursor of ["nope", "d1:2026-02-30:ignored:abc", "d1:2026-13-01:ignored:abc"]) {
        const response = await t.request(`/api/v1/deliveries/daily?cursor=${Buffer.from(cursor).toString("base64url")}`);
        expect(response.status, cursor).toBe(400);
      }
    });
  });
});

describe("a backlog larger than one batch", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: OLD });
  });
  afterAll(() => t.close());

  test("is worked through in batches of 5,000 until none is left, every row counted once", async () => {
    const github = await createIntegration(t, "github");
    const total = 12_001;
    // Rows as the ignored and processed paths store them, spread over three days past retention.
    await t.database.db.execute(sql`
      insert into deliveries (integration_id, source, delivery_id, headers, body, received_at, status, event, events, processed_at)
      select ${github.id}, 'github', 'bulk-' || n, '{}'::jsonb, '{"zen":"Keep it logically awesome."}',
             timestamptz '2026-01-01T00:00:00Z' + (n % 3) * interval '1 day', case when n % 2 = 0 then 'ignored' else 'processed' end,
             'ping', case when n % 2 = 0 then '[]'::jsonb else '[{"kind":"change"}]'::jsonb end, timestamptz '2026-01-01T00:00:00Z'
      from generate_series(1, ${total}) as n`);
    const acted = await applyRetention({ database: t.database, days: 90, now: NOW });
    expect(acted).toBe(total);
    const [left] = await rows<{ ignored: number; processed: number; bodies: number }>(
      t.database.db,
      sql`select count(*) filter (where status = 'ignored')::int as ignored, count(*) filter (where status = 'processed')::int as processed,
                 count(body)::int as bodies from deliveries`,
    );
    expect(left).toEqual({ ignored: 0, processed: 6001, bodies: 0 });
    const counted = await days(t);
    expect(counted.map((d) => d.deliveries)).toEqual([2000, 2000, 2000]);
    expect(await applyRetention({ database: t.database, days: 90, now: NOW })).toBe(0);
  });
});
