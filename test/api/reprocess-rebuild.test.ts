import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Database, deliveries, deployments, incidents, openDatabase, recordDeployment, services } from "@sluice/db";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { reprocessDeliveries } from "../../ingest/src/webhooks/reprocess.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";
import { type Json, read } from "./gates-helpers.ts";

// SPEC 10 (v2): reprocessing every delivery rebuilds the same metrics also when API calls
// corrected webhook data. A history of GitHub, PagerDuty and Alertmanager deliveries for one
// service, corrected through the API (a deployment marked failed, incidents naming a
// deployment by id), must read exactly the same after POST /api/v1/admin/reprocess, ids included.

const WINDOW = "from=2026-06-01T00:00:00Z&to=2026-06-08T00:00:00Z";
/** Every delivery and correction happens before this; the rebuilds start here. */
const REBUILD_AT = "2026-06-10T00:00:00Z";

const sha = (n: number) => n.toString(16).repeat(40).slice(0, 40);
const ZERO = "0".repeat(40);
const fixture = (path: string) => readFileSync(new URL(`../../collectors/test/fixtures/${path}`, import.meta.url), "utf8");

function example(event: string, pick: (e: Record<string, unknown>) => boolean = () => true): Json {
  const found = octokitExamples(event).find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return found;
}

const repository = { ...example("push").repository, full_name: "octo/shop", name: "shop" };

const push = (before: string, commits: Array<[number, string]>) => {
  const p = example("push", (e) => Array.isArray(e.commits) && (e.commits as unknown[]).length > 0);
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

const deploymentStatus = (id: number, commit: number, state: string, at: string, logUrl?: string) => {
  const s = example("deployment_status");
  s.repository = repository;
  s.deployment = { ...s.deployment, id, sha: sha(commit), ref: "main", environment: "production", created_at: at };
  s.deployment_status = { ...s.deployment_status, state, environment: "production", created_at: at, updated_at: at, log_url: logUrl };
  return s;
};

const LOG_URL = "https://github.com/octo/shop/actions/runs/104/job/1";

const issue = (action: string, openedAt: string, closedAt: string | null) => {
  const i = example("issues", (e) => e.action === "opened");
  i.action = action;
  i.repository = repository;
  i.issue = {
    ...i.issue,
    id: 9001,
    state: closedAt ? "closed" : "open",
    created_at: openedAt,
    closed_at: closedAt,
    labels: [{ id: 1, name: "incident", color: "ff0000", default: false, description: null, node_id: "x", url: "https://example.invalid" }],
  };
  return i;
};

/** A completed run of the workflow "deploy staging": a staging deployment while the service's pattern matches it. */
const workflowRun = (id: number, commit: number, at: string) => {
  const w = example("workflow_run", (e) => e.action === "completed");
  w.repository = repository;
  w.workflow = { ...w.workflow, name: "deploy staging" };
  w.workflow_run = {
    ...w.workflow_run,
    id,
    name: "deploy staging",
    run_attempt: 1,
    head_sha: sha(commit),
    head_branch: "main",
    conclusion: "success",
    run_started_at: at,
    created_at: at,
    updated_at: at,
  };
  return w;
};

const pagerduty = (type: "incident.triggered" | "incident.resolved", occurredAt: string) => {
  const body = JSON.parse(fixture(`pagerduty/${type}.json`)) as Json;
  body.event.occurred_at = occurredAt;
  body.event.data.created_at = "2026-06-03T10:00:00Z";
  body.event.data.service.summary = "shop";
  return JSON.stringify(body);
};

/** One Alertmanager alert on the label `app` (the integration's service_label), resolved 30 minutes later. */
const alert = () => {
  const body = JSON.parse(fixture("alertmanager/grouped.json")) as Json;
  const resolved = body.alerts.find((a: Json) => a.status === "resolved");
  resolved.labels = { ...resolved.labels, app: "shop" };
  delete resolved.labels.service;
  resolved.startsAt = "2026-06-04T10:00:00Z";
  resolved.endsAt = "2026-06-04T10:30:00Z";
  body.alerts = [resolved];
  return JSON.stringify(body);
};

interface Snapshot {
  metrics: Json;
  organisation: Json;
  deployments: Json[];
  details: Json[];
  incidents: Json[];
}

/** Everything a reader sees of the service: its metrics, the organisation's, every deployment (listed and one by one) and incident. */
async function snapshot(t: TestApp): Promise<Snapshot> {
  const metrics = await read(t.request(`/api/v1/metrics?service=shop&${WINDOW}`));
  const organisation = await read(t.request(`/api/v1/metrics?${WINDOW}`));
  const listed = (await read(t.request(`/api/v1/deployments?service=shop&limit=1000&${WINDOW}`))).items as Json[];
  const details: Json[] = [];
  for (const item of listed) details.push(await read(t.request(`/api/v1/deployments/${item.id}`)));
  const incidentList = (await read(t.request(`/api/v1/incidents?service=shop&limit=1000&${WINDOW}`))).items as Json[];
  return { metrics, organisation, deployments: listed, details, incidents: incidentList };
}

/**
 * The snapshot with 104's updated_at left out: its deployment event and its status name different
 * URLs (the API's, the log's), and applying the two again in order moves the URL there and back.
 * The value it ends with is the same; every other row is left exactly as it was.
 */
function settled(s: Snapshot, id: number): Snapshot {
  const without = (d: Json) => (d.id === id ? { ...d, updated_at: "(moved)" } : d);
  return { ...s, deployments: s.deployments.map(without), details: s.details.map(without) };
}

async function reprocess(t: TestApp) {
  const response = await t.request("/api/v1/admin/reprocess", { method: "POST" });
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

describe("reprocessing deliveries that API calls corrected", () => {
  let t: TestApp;
  let alertmanager: { id: string; url: string; secret: string };
  /** Webhook deployment ids by GitHub deployment id, and the API's incident. */
  const ids: Record<string, number> = {};
  let before: Snapshot;
  const deliveryCount = 19;
  const expectUnchanged = async () => {
    const moved = ids["github-deployment-104"] as number;
    const after = await snapshot(t);
    expect(settled(after, moved)).toEqual(settled(before, moved));
    expect(after.deployments.find((d) => d.id === moved)?.url).toBe(LOG_URL);
  };

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-06-01T00:00:00Z" });
    const github = await createIntegration(t, "github");
    const pd = await createIntegration(t, "pagerduty");
    alertmanager = await createIntegration(t, "alertmanager", { settings: { service_label: "app" } });
    const at = async (time: string, send: () => Response | Promise<Response>) => {
      // Deliveries arrive when they happen; some share a received_at, so pages also split ties.
      t.setNow(time);
      const response = await send();
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ status: "processed" });
    };
    const gh = (event: string, payload: unknown) => () => postGithub(t, github, event, payload);
    let pdDelivery = 0;
    const pdPost = (body: string) => () =>
      t.app.request(pd.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-pagerduty-signature": `v1=${createHmac("sha256", pd.secret).update(body).digest("hex")}`,
          "x-webhook-id": `pd-${++pdDelivery}`,
        },
        body,
      });

    await at("2026-06-01T09:01:00Z", gh("push", push(ZERO, [[1, "2026-06-01T08:00:00Z"], [2, "2026-06-01T09:00:00Z"]])));
    await at("2026-06-01T10:00:00Z", gh("deployment", deployment(101, 2, "2026-06-01T10:00:00Z")));
    await at("2026-06-01T10:05:00Z", gh("deployment_status", deploymentStatus(101, 2, "success", "2026-06-01T10:05:00Z")));
    await at("2026-06-01T12:01:00Z", gh("push", push(sha(2), [[3, "2026-06-01T11:00:00Z"], [4, "2026-06-01T12:00:00Z"]])));
    await at("2026-06-01T13:00:00Z", gh("deployment", deployment(102, 4, "2026-06-01T13:00:00Z")));
    await at("2026-06-01T13:10:00Z", gh("deployment_status", deploymentStatus(102, 4, "in_progress", "2026-06-01T13:10:00Z")));
    await at("2026-06-01T13:30:00Z", gh("deployment_status", deploymentStatus(102, 4, "success", "2026-06-01T13:30:00Z")));
    await at("2026-06-01T13:30:00Z", gh("issues", issue("opened", "2026-06-01T14:00:00+02:00", null)));
    await at("2026-06-01T13:30:00Z", gh("issues", issue("closed", "2026-06-01T14:00:00+02:00", "2026-06-01T13:00:00Z")));
    await at("2026-06-02T08:01:00Z", gh("push", push(sha(4), [[5, "2026-06-02T08:00:00Z"]])));
    await at("2026-06-02T09:00:00Z", gh("deployment", deployment(103, 5, "2026-06-02T09:00:00Z")));
    await at("2026-06-02T09:10:00Z", gh("deployment_status", deploymentStatus(103, 5, "success", "2026-06-02T09:10:00Z")));
    await at("2026-06-02T09:20:00Z", gh("workflow_run", workflowRun(5001, 5, "2026-06-02T09:20:00Z")));
    await at("2026-06-03T08:01:00Z", gh("push", push(sha(5), [[6, "2026-06-03T08:00:00Z"]])));
    await at("2026-06-03T09:00:00Z", gh("deployment", deployment(104, 6, "2026-06-03T09:00:00Z")));
    await at("2026-06-03T09:10:00Z", gh("deployment_status", deploymentStatus(104, 6, "success", "2026-06-03T09:10:00Z", LOG_URL)));
    await at("2026-06-03T10:00:00Z", pdPost(pagerduty("incident.triggered", "2026-06-03T10:00:00Z")));
    await at("2026-06-03T11:00:00Z", pdPost(pagerduty("incident.resolved", "2026-06-03T11:00:00Z")));
    await at("2026-06-04T10:30:00Z", () =>
      t.app.request(alertmanager.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${alertmanager.secret}` },
        body: alert(),
      }),
    );

    t.setNow("2026-06-05T00:00:00Z");
    const listed = (await read(t.request(`/api/v1/deployments?service=shop&limit=1000&${WINDOW}`))).items as Json[];
    for (const d of listed) ids[d.external_id] = d.id;
    // Corrections through the API: deployment 102 was bad although no incident says so, an
    // outage posted by hand names 103 (it started after 104 finished, so time alone would pick
    // 104), and PagerDuty's incident is pinned on 101 by naming it.
    const marked = await t.request(`/api/v1/deployments/${ids["github-deployment-102"]}`, { method: "PATCH", json: { failed: true } });
    expect(marked.status).toBe(200);
    const outage = await t.request("/api/v1/incidents", {
      method: "POST",
      json: {
        service: "shop",
        external_id: "outage-7",
        started_at: "2026-06-03T12:00:00Z",
        resolved_at: "2026-06-03T12:45:00Z",
        deployment_id: ids["github-deployment-103"],
      },
    });
    expect(outage.status).toBe(201);
    const pinned = await t.request("/api/v1/incidents", {
      method: "POST",
      json: { service: "shop", external_id: "pagerduty-PGR0VU2", started_at: "2026-06-03T10:00:00Z", deployment_id: ids["github-deployment-101"] },
    });
    expect(pinned.status).toBe(200);

    t.setNow(REBUILD_AT);
    before = await snapshot(t);
  });
  afterAll(() => t.close());

  test("the history reads as corrected: 102 marked failed, the outage on 103, PagerDuty's incident on 101", () => {
    expect(Object.keys(ids).sort()).toEqual([
      "github-deployment-101",
      "github-deployment-102",
      "github-deployment-103",
      "github-deployment-104",
      "github-workflow-run-5001-1",
    ]);
    const byId = new Map(before.deployments.map((d) => [d.id, d]));
    expect(byId.get(ids["github-deployment-101"])).toMatchObject({ failed: true, failure_reasons: ["incident"] });
    expect(byId.get(ids["github-deployment-102"])).toMatchObject({ failed: true, failure_reasons: ["marked"] });
    expect(byId.get(ids["github-deployment-103"])).toMatchObject({ failed: true, failure_reasons: ["incident"] });
    // The alert (06-04 10:00) is attributed by time to 104, the latest production deployment.
    expect(byId.get(ids["github-deployment-104"])).toMatchObject({ failed: true, failure_reasons: ["incident"], url: LOG_URL });
    const incident = (external: string) => before.incidents.find((i) => i.external_id === external);
    expect(incident("outage-7")?.deployment?.id).toBe(ids["github-deployment-103"]);
    expect(incident("pagerduty-PGR0VU2")).toMatchObject({ source: "pagerduty", deployment: { id: ids["github-deployment-101"] } });
    expect(before.metrics.change_failure_rate).toMatchObject({ deployments: 4, failed: 4 });
    expect(before.incidents).toHaveLength(4);
  });

  test("a rebuild keeps every id and correction: every number, deployment and incident reads the same", async () => {
    const report = await reprocess(t);
    expect(report).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount, ignored: 0, failed: 0 });
    await expectUnchanged();
  });

  test("a second rebuild changes nothing either", async () => {
    t.setNow("2026-06-11T00:00:00Z");
    const report = await reprocess(t);
    expect(report).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount, ignored: 0, failed: 0 });
    await expectUnchanged();
  });

  test("a rebuild in pages smaller than the history gives the same, ties of received_at included", async () => {
    const report = await reprocessDeliveries({
      database: t.database,
      now: new Date("2026-06-12T00:00:00Z"),
      logger: t.logger,
      autoServiceQuota: 100,
      pageSize: 2,
    });
    expect(report).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount, ignored: 0, failed: 0 });
    await expectUnchanged();
  });

  test("two rebuilds asked for at once both finish, with the same result", async () => {
    t.setNow("2026-06-13T00:00:00Z");
    const reports = await Promise.all([reprocess(t), reprocess(t)]);
    for (const report of reports) expect(report).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount, failed: 0 });
    await expectUnchanged();
  });

  test.skipIf(!process.env.TEST_DATABASE_URL)("on PostgreSQL a rebuild waits while another replica's rebuild holds the lock", async () => {
    const url = (t.database as Database & { url?: string }).url;
    const replica = await openDatabase({ url, poolSize: 2, migrate: false });
    try {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let holding = () => {};
      const held = new Promise<void>((resolve) => {
        holding = resolve;
      });
      const other = replica.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(7305158114201903)`);
        holding();
        await released;
      });
      await held;
      const now = new Date("2026-06-13T12:00:00Z");
      let finished = false;
      const rebuild = reprocessDeliveries({ database: t.database, now, logger: t.logger, autoServiceQuota: 100, pageSize: 4 }).finally(() => {
        finished = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(finished).toBe(false);
      const touched = await t.database.db.select({ id: deliveries.id }).from(deliveries).where(eq(deliveries.processedAt, now));
      expect(touched).toEqual([]);
      release();
      await other;
      expect(await rebuild).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount });
      await expectUnchanged();
    } finally {
      await replica.close();
    }
  });

  test("a delivery that now maps to nothing loses its rows; a row written after the rebuild started is kept", async () => {
    // The staging workflow no longer counts as a deployment, and the alert names no service.
    const shop = await t.request("/api/v1/services/shop", { method: "PATCH", json: { deployment_pattern: "^release" } });
    expect(shop.status).toBe(200);
    const settings = await t.request(`/api/v1/integrations/${alertmanager.id}`, { method: "PATCH", json: { settings: {} } });
    expect(settings.status).toBe(200);
    // As if a live delivery recorded it while the rebuild ran (its clock is past the rebuild's start).
    const [service] = await t.database.db.select({ id: services.id }).from(services).where(eq(services.slug, "shop"));
    const live = await recordDeployment(
      t.database.db,
      { serviceId: service?.id ?? -1, environment: "canary", sha: sha(6), status: "success", source: "github", externalId: "github-deployment-200" },
      new Date("2026-06-14T00:00:01Z"),
    );

    const report = await reprocessDeliveries({
      database: t.database,
      now: new Date("2026-06-14T00:00:00Z"),
      logger: t.logger,
      autoServiceQuota: 100,
      pageSize: 3,
    });
    // The alert is ignored now; the workflow run still maps, but ingest drops its deployment.
    expect(report).toMatchObject({ deliveries: deliveryCount, processed: deliveryCount - 1, ignored: 1, failed: 0 });

    t.setNow("2026-06-14T00:00:00Z");
    const after = await snapshot(t);
    const kept = await t.database.db.select({ id: deployments.id }).from(deployments).where(eq(deployments.id, live.deployment.id));
    expect(kept).toHaveLength(1);
    expect(after.deployments.map((d) => d.external_id).sort()).toEqual([
      "github-deployment-101",
      "github-deployment-102",
      "github-deployment-103",
      "github-deployment-104",
    ]);
    // The others keep their ids, 102 its mark and the outage its deployment.
    for (const d of after.deployments) expect(d.id).toBe(ids[d.external_id]);
    const byId = new Map(after.deployments.map((d) => [d.id, d]));
    expect(byId.get(ids["github-deployment-102"])).toMatchObject({ failed: true, failure_reasons: ["marked"] });
    // Without the alert 104 is failed by nothing.
    expect(byId.get(ids["github-deployment-104"])).toMatchObject({ failed: false, failure_reasons: [] });
    const alertIncidents = await t.database.db.select({ id: incidents.id }).from(incidents).where(eq(incidents.source, "alertmanager"));
    expect(alertIncidents).toEqual([]);
    expect(after.incidents.map((i) => [i.id, i.external_id, i.deployment?.id])).toEqual(
      before.incidents.filter((i) => i.source !== "alertmanager").map((i) => [i.id, i.external_id, i.deployment?.id]),
    );
    expect(after.metrics.change_failure_rate).toMatchObject({ deployments: 4, failed: 3 });
  });
});
