import { readFileSync } from "node:fs";
import { derivationQueue, repositories } from "@sluice/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, history, sha } from "../support/history.ts";
import { createIntegration } from "../support/webhooks.ts";

// SPEC 4.2 and docs/metrics.md "Data quality": GET /api/v1/data-quality, every leaf.

const window = { from: "2026-03-01T00:00:00Z", to: "2026-03-08T00:00:00Z" };
const alertmanagerFixture = readFileSync(new URL("../../collectors/test/fixtures/alertmanager/grouped.json", import.meta.url), "utf8");

type Leaf = { count: number; rows: Array<Record<string, unknown>> };
type Report = {
  scope: Record<string, string | null>;
  window: { from: string; to: string; days: number };
  negative_spans: Record<"lead_time" | "coding" | "review" | "deploy" | "recovery" | "time_to_restore", Leaf>;
} & Record<
  "unknown_changes" | "undeployed_commits" | "unattributed_incidents" | "idle_services" | "stuck_deployments" | "failed_deliveries" | "set_aside",
  Leaf
>;

describe("GET /api/v1/data-quality", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  let payments: string;
  const ids: Record<string, number> = {};

  const report = async (params: Record<string, string> = {}, token?: string): Promise<Report> => {
    const response = await t.request(`/api/v1/data-quality?${new URLSearchParams({ ...window, ...params })}`, token ? { token } : {});
    if (response.status !== 200) throw new Error(`data-quality: ${response.status} ${await response.text()}`);
    return (await response.json()) as Report;
  };
  const status = async (query: string, token?: string | null) =>
    (await t.request(`/api/v1/data-quality${query}`, token === undefined ? {} : { token })).status;
  const pr = (number: number, first: string, opened: string, merged: string) => ({
    number,
    first_commit_at: first,
    opened_at: opened,
    merged_at: merged,
  });
  const alertmanager = async (alerts: Array<Record<string, unknown>>) => {
    const integration = await createIntegration(t, "alertmanager");
    const body = { ...(JSON.parse(alertmanagerFixture) as Record<string, unknown>), alerts };
    const response = await t.app.request(integration.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${integration.secret}` },
      body: JSON.stringify(body),
    });
    return (await response.json()) as { status: string };
  };
  const exampleAlert = () => {
    const alerts = (JSON.parse(alertmanagerFixture) as { alerts: Array<Record<string, unknown> & { status: string; labels: Record<string, string> }> })
      .alerts;
    return alerts.find((a) => a.status === "resolved") as (typeof alerts)[number];
  };

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-08T00:00:00Z" });
    h = history(t);
    for (const team of ["payments", "platform"]) await t.request("/api/v1/teams", { method: "POST", json: { slug: team, name: team } });
    await h.service("shop", { team: "payments" });
    await h.service("pay-idle", { team: "payments" });
    await h.service("ops", { team: "platform" });
    await h.service("bulk");
    payments = await t.token(["read"], "payments");

    await h.push("octo/shop", [{ label: "c0", at: "2026-03-01T08:00:00Z" }]);
    await h.deploy("shop", { id: "d0", commit: "c0", at: "2026-03-01T09:00:00Z" });
    // lead time: c1 committed 8 h after d1 finished
    await h.push("octo/shop", [{ label: "c1", at: "2026-03-02T20:00:00Z" }], "c0");
    ids.d1 = (await h.deploy("shop", { id: "d1", commit: "c1", at: "2026-03-02T12:00:00Z" })).id;
    // coding: #1's first commit an hour after it was opened
    await h.push("octo/shop", [{ label: "c2", at: "2026-03-03T11:00:00Z", pr: pr(1, "2026-03-03T10:00:00Z", "2026-03-03T09:00:00Z", "2026-03-03T11:00:00Z") }], "c1");
    await h.deploy("shop", { id: "d2", commit: "c2", at: "2026-03-03T12:00:00Z" });
    // review: #2 merged an hour before it was opened
    await h.push("octo/shop", [{ label: "c3", at: "2026-03-04T09:00:00Z", pr: pr(2, "2026-03-04T08:00:00Z", "2026-03-04T10:00:00Z", "2026-03-04T09:00:00Z") }], "c2");
    await h.deploy("shop", { id: "d3", commit: "c3", at: "2026-03-04T12:00:00Z" });
    // deploy: #3 merged two hours after d4 finished (its commit is older)
    await h.push("octo/shop", [{ label: "c4", at: "2026-03-05T10:00:00Z", pr: pr(3, "2026-03-05T08:00:00Z", "2026-03-05T09:00:00Z", "2026-03-05T14:00:00Z") }], "c3");
    await h.deploy("shop", { id: "d4", commit: "c4", at: "2026-03-05T12:00:00Z" });
    // recovery: an incident naming d5 resolved before d5 finished
    await h.push("octo/shop", [{ label: "c5", at: "2026-03-06T08:00:00Z" }], "c4");
    ids.d5 = (await h.deploy("shop", { id: "d5", commit: "c5", at: "2026-03-06T12:00:00Z" })).id;
    await h.incident("shop", { id: "inc-d5", started: "2026-03-06T10:00:00Z", resolved: "2026-03-06T11:00:00Z", deployment_id: ids.d5 });
    // unknown changes: a sha no push or API call ever described
    ids.d6 = (await h.deploy("shop", { id: "d6", commit: "ghost", at: "2026-03-07T09:00:00Z" })).id;
    // stuck: in progress for 48 h as of now; another for 12 h only
    for (const [id, started] of [
      ["stuck", "2026-03-06T00:00:00Z"],
      ["running", "2026-03-07T12:00:00Z"],
    ] as const) {
      const response = await t.request("/api/v1/deployments", {
        method: "POST",
        json: { service: "shop", environment: "production", sha: sha(id), status: "in_progress", started_at: started, external_id: id },
      });
      ids[id] = ((await response.json()) as DeploymentView).id;
    }
    // undeployed: turned 30 days old in the window ([Jan 30, Feb 6)); one older is out of it
    await h.push("octo/shop", [{ label: "forgotten", at: "2026-02-03T10:00:00Z" }]);
    await h.push("octo/shop", [{ label: "ancient", at: "2026-01-10T10:00:00Z" }]);

    // ops: an unattributed incident, and one (by Alertmanager) resolved before it started
    await h.incident("ops", { id: "ops-1", started: "2026-03-03T10:00:00Z" });
    const backwards = exampleAlert();
    backwards.labels.service = "ops";
    backwards.startsAt = "2026-03-04T10:00:00Z";
    backwards.endsAt = "2026-03-04T09:00:00Z";
    expect(await alertmanager([backwards])).toMatchObject({ status: "processed" });
    // a delivery that cannot be mapped (an alert without startsAt) is stored as failed
    const broken = exampleAlert();
    delete broken.startsAt;
    t.setNow("2026-03-07T20:00:00Z");
    expect(await alertmanager([broken])).toMatchObject({ status: "failed" });
    t.setNow("2026-03-08T00:00:00Z");

    // bulk: a deployment listing 105 commits, each dated after it finished
    const commits = Array.from({ length: 105 }, (_, i) => ({
      sha: sha(`bulk-${i}`),
      committed_at: new Date(Date.parse("2026-03-07T13:00:00Z") + i * 60_000).toISOString(),
    }));
    const bulk = await t.request("/api/v1/deployments", {
      method: "POST",
      json: { service: "bulk", environment: "production", sha: sha("bulk-104"), external_id: "b1", finished_at: "2026-03-07T12:00:00Z", commits },
    });
    expect(bulk.status).toBe(201);

    // Entries the deriver set aside after failing five times (db/src/derive/queue.ts).
    const service = async (slug: string) => ((await (await t.request(`/api/v1/services/${slug}`)).json()) as { id: number }).id;
    const [shopRepository] = await t.database.db.select({ id: repositories.id }).from(repositories).where(eq(repositories.name, "octo/shop"));
    const opsIncident = ((await (await t.request("/api/v1/incidents?service=ops")).json()) as { items: Array<{ id: number; external_id: string }> }).items.find(
      (i) => i.external_id === "ops-1",
    );
    await t.database.db.insert(derivationQueue).values([
      {
        serviceId: await service("shop"),
        kind: "change",
        repositoryId: shopRepository?.id ?? null,
        shas: [sha("c9")],
        attempts: 5,
        lastError: "deadlock detected",
        setAsideAt: new Date("2026-03-07T18:00:00Z"),
      },
      {
        serviceId: await service("ops"),
        kind: "incident",
        incidentId: opsIncident?.id ?? null,
        attempts: 5,
        lastError: "value too long for type character varying(200)",
        setAsideAt: new Date("2026-03-07T19:00:00Z"),
      },
    ]);
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("every leaf lists its records with the numbers that make them a problem", async () => {
      const r = await report();
      expect(r.scope).toEqual({ team: null, service: null, environment: null });
      expect(r.window).toEqual({ from: "2026-03-01T00:00:00.000Z", to: "2026-03-08T00:00:00.000Z", days: 7 });
      const spans = r.negative_spans;
      expect(spans.lead_time.count).toBe(106); // c1 and bulk's 105
      expect(spans.lead_time.rows).toContainEqual({
        id: expect.any(Number),
        sha: sha("c1"),
        repository: "octo/shop",
        service: "shop",
        deployment_id: ids.d1,
        external_id: "d1",
        committed_at: "2026-03-02T20:00:00.000Z",
        finished_at: "2026-03-02T12:00:00.000Z",
        seconds: -28_800,
      });
      expect(spans.coding).toEqual({
        count: 1,
        rows: [expect.objectContaining({ sha: sha("c2"), pull_request: 1, external_id: "d2", seconds: -3_600 })],
      });
      expect(spans.review).toEqual({
        count: 1,
        rows: [
          expect.objectContaining({
            sha: sha("c3"),
            pull_request: 2,
            opened_at: "2026-03-04T10:00:00.000Z",
            merged_at: "2026-03-04T09:00:00.000Z",
            seconds: -3_600,
          }),
        ],
      });
      expect(spans.deploy).toEqual({
        count: 1,
        rows: [expect.objectContaining({ sha: sha("c4"), pull_request: 3, merged_at: "2026-03-05T14:00:00.000Z", finished_at: "2026-03-05T12:00:00.000Z", seconds: -7_200 })],
      });
      expect(spans.recovery).toEqual({
        count: 1,
        rows: [
          {
            id: ids.d5,
            service: "shop",
            external_id: "d5",
            sha: sha("c5"),
            environment: "production",
            finished_at: "2026-03-06T12:00:00.000Z",
            recovered_at: "2026-03-06T11:00:00.000Z",
            seconds: -3_600,
          },
        ],
      });
      expect(spans.time_to_restore).toEqual({
        count: 1,
        rows: [
          expect.objectContaining({
            service: "ops",
            deployment_id: null,
            started_at: "2026-03-04T10:00:00.000Z",
            resolved_at: "2026-03-04T09:00:00.000Z",
            seconds: -3_600,
          }),
        ],
      });
      expect(r.unknown_changes).toEqual({
        count: 1,
        rows: [{ id: ids.d6, service: "shop", external_id: "d6", sha: sha("ghost"), environment: "production", finished_at: "2026-03-07T09:00:00.000Z", baseline: false }],
      });
      expect(r.undeployed_commits).toEqual({
        count: 1,
        rows: [{ id: expect.any(Number), sha: sha("forgotten"), repository: "octo/shop", committed_at: "2026-02-03T10:00:00.000Z", branch: null, pull_request: null }],
      });
      expect(r.unattributed_incidents.count).toBe(2);
      expect(r.unattributed_incidents.rows.map((i) => [i.service, i.started_at])).toEqual([
        ["ops", "2026-03-04T10:00:00.000Z"],
        ["ops", "2026-03-03T10:00:00.000Z"],
      ]);
      expect(r.unattributed_incidents.rows[1]).toMatchObject({ external_id: "ops-1", resolved_at: null });
      expect(r.idle_services).toEqual({
        count: 2,
        rows: [
          { id: expect.any(Number), service: "ops", team: "platform", last_deployment_at: null },
          { id: expect.any(Number), service: "pay-idle", team: "payments", last_deployment_at: null },
        ],
      });
      expect(r.stuck_deployments).toEqual({
        count: 1,
        rows: [{ id: ids.stuck, service: "shop", external_id: "stuck", sha: sha("stuck"), environment: "production", started_at: "2026-03-06T00:00:00.000Z", seconds: 172_800 }],
      });
      expect(r.failed_deliveries).toEqual({
        count: 1,
        rows: [
          expect.objectContaining({
            source: "alertmanager",
            integration_id: expect.any(String),
            delivery_id: expect.any(String),
            received_at: "2026-03-07T20:00:00.000Z",
            error: expect.stringMatching(/startsAt/),
          }),
        ],
      });
      expect(r.set_aside.count).toBe(2);
      expect(r.set_aside.rows).toEqual([
        expect.objectContaining({ service: "ops", kind: "incident", incident_id: expect.any(Number), deployment_id: null, shas: null, attempts: 5 }),
        expect.objectContaining({
          service: "shop",
          kind: "change",
          repository: "octo/shop",
          shas: [sha("c9")],
          attempts: 5,
          last_error: "deadlock detected",
          set_aside_at: "2026-03-07T18:00:00.000Z",
        }),
      ]);
    });

    test("a leaf lists at most 100 rows; its count is every record", async () => {
      const r = await report({ service: "bulk" });
      expect(r.negative_spans.lead_time.count).toBe(105);
      expect(r.negative_spans.lead_time.rows).toHaveLength(100);
      // the most negative first: bulk-104 was committed last
      expect(r.negative_spans.lead_time.rows[0]).toMatchObject({ sha: sha("bulk-104"), seconds: -(3_600 + 104 * 60) });
    });

    test("the scope filters narrow every leaf but the deliveries, which belong to no service", async () => {
      const ops = await report({ service: "ops" });
      expect(ops.scope).toEqual({ team: null, service: "ops", environment: null });
      expect(ops.negative_spans.lead_time.count).toBe(0);
      expect(ops.negative_spans.time_to_restore.count).toBe(1);
      expect(ops.unattributed_incidents.count).toBe(2);
      expect(ops.idle_services.rows.map((s) => s.service)).toEqual(["ops"]);
      expect(ops.stuck_deployments.count).toBe(0);
      expect(ops.set_aside.rows.map((e) => e.service)).toEqual(["ops"]);
      expect(ops.failed_deliveries.count).toBe(1);

      const team = await report({ team: "payments" });
      expect(team.negative_spans.lead_time.count).toBe(1);
      expect(team.idle_services.rows.map((s) => s.service)).toEqual(["pay-idle"]);
      expect(team.unattributed_incidents.count).toBe(0);
      expect(team.undeployed_commits.count).toBe(1);

      // Production deployments in staging: none, so every service is idle and no span is counted.
      const staging = await report({ environment: "staging" });
      expect(staging.negative_spans.lead_time.count).toBe(0);
      expect(staging.negative_spans.deploy.count).toBe(0);
      expect(staging.unknown_changes.count).toBe(0);
      expect(staging.stuck_deployments.count).toBe(0);
      expect(staging.idle_services.count).toBe(4);

      // A window before everything: the spans and incidents are outside it.
      const february = await report({ from: "2026-02-01T00:00:00Z", to: "2026-03-01T00:00:00Z" });
      expect(february.negative_spans.lead_time.count).toBe(0);
      expect(february.unattributed_incidents.count).toBe(0);
      expect(february.failed_deliveries.count).toBe(0);
      expect(february.idle_services.count).toBe(4);
    });

    test("by default the window is the 30 days ending now", async () => {
      const response = await t.request("/api/v1/data-quality");
      expect(response.status).toBe(200);
      const r = (await response.json()) as Report;
      expect(r.window).toEqual({ from: "2026-02-06T00:00:00.000Z", to: "2026-03-08T00:00:00.000Z", days: 30 });
      expect(r.negative_spans.lead_time.count).toBe(106);
    });
  });

  describe("security", () => {
    test("a team-limited token sees only its team's rows and no webhook deliveries", async () => {
      const r = await report({}, payments);
      expect(r.negative_spans.lead_time.count).toBe(1);
      expect(r.negative_spans.time_to_restore.count).toBe(0);
      expect(r.unattributed_incidents.count).toBe(0);
      expect(r.idle_services.rows.map((s) => s.service)).toEqual(["pay-idle"]);
      expect(r.set_aside.rows.map((e) => e.service)).toEqual(["shop"]);
      expect(r.failed_deliveries).toEqual({ count: 0, rows: [] });
      expect(JSON.stringify(r)).not.toContain('"ops"');
    });

    test("another team's scope is a 403; without a token a 401; without read scope a 403", async () => {
      expect(await status("?team=platform", payments)).toBe(403);
      expect(await status("?service=ops", payments)).not.toBe(200);
      expect(await status("", null)).toBe(401);
      expect(await status("", await t.token(["ingest"]))).toBe(403);
    });
  });

  describe("bad input", () => {
    test("an empty window or a malformed slug is a 400 naming the field; an unknown service a 404", async () => {
      const empty = await t.request("/api/v1/data-quality?from=2026-03-08T00:00:00Z&to=2026-03-01T00:00:00Z");
      expect(empty.status).toBe(400);
      expect(await empty.json()).toMatchObject({ error: { details: [expect.objectContaining({ field: "from" })] } });
      const slug = await t.request("/api/v1/data-quality?service=Not%20A%20Slug");
      expect(slug.status).toBe(400);
      expect(await slug.json()).toMatchObject({ error: { code: "invalid_request", details: [expect.objectContaining({ field: "service" })] } });
      expect(await status("?from=yesterday")).toBe(400);
      expect(await status("?service=no-such-service")).toBe(404);
    });
  });
});
