import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, history, sha } from "../support/history.ts";
import { createIntegration } from "../support/webhooks.ts";
import type { Json } from "./gates-helpers.ts";

// docs/metrics.md "Negative spans" (SPEC 4): a duration that comes out negative is a clock or
// data error, left out of every median, percentile and count of its metric and listed by
// GET /api/v1/data-quality. Issue 18: a pull request merged after the deployment that shipped it
// gave a deploy time and a lead-time median of -84,197 s, rated "elite".

const window = { from: "2026-03-01T00:00:00Z", to: "2026-03-08T00:00:00Z" };
const alertmanagerFixture = readFileSync(new URL("../../collectors/test/fixtures/alertmanager/grouped.json", import.meta.url), "utf8");

/** Every path in a JSON answer that holds a negative number. */
function negatives(value: unknown, path = "$"): string[] {
  if (typeof value === "number") return value < 0 ? [`${path} = ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => negatives(item, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => negatives(item, `${path}.${key}`));
  }
  return [];
}

describe("negative spans", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const deployments: Record<string, DeploymentView> = {};
  const json = async (path: string): Promise<Json> => {
    const response = await t.request(path);
    expect(response.status, `${path}: ${response.status}`).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-08T00:00:00Z" });
    h = history(t);
    await h.service("shop");
    await h.service("pager");
    await h.push("octo/shop", [{ label: "c0", at: "2026-03-01T08:00:00Z" }]);
    deployments.d0 = await h.deploy("shop", { id: "d0", commit: "c0", at: "2026-03-01T09:00:00Z" }); // the baseline
    // c2's clock is 8 hours ahead: committed after d1, which shipped it, finished.
    await h.push(
      "octo/shop",
      [
        { label: "c1", at: "2026-03-02T08:00:00Z" },
        { label: "c2", at: "2026-03-02T20:00:00Z" },
      ],
      "c0",
    );
    deployments.d1 = await h.deploy("shop", { id: "d1", commit: "c2", at: "2026-03-02T12:00:00Z" });
    // Issue 18's case: pull request #5 merged (its merge commit dated) 84,197 s after d2 finished.
    await h.push(
      "octo/shop",
      [
        {
          label: "c3",
          at: "2026-03-04T11:23:17Z",
          pr: { number: 5, first_commit_at: "2026-03-03T08:00:00Z", opened_at: "2026-03-03T09:00:00Z", merged_at: "2026-03-04T11:23:17Z" },
        },
      ],
      "c2",
    );
    deployments.d2 = await h.deploy("shop", { id: "d2", commit: "c3", at: "2026-03-03T12:00:00Z" });
    // Pull request #6: its first commit is dated an hour after it was opened.
    await h.push(
      "octo/shop",
      [
        {
          label: "c4",
          at: "2026-03-05T11:00:00Z",
          pr: { number: 6, first_commit_at: "2026-03-05T10:00:00Z", opened_at: "2026-03-05T09:00:00Z", merged_at: "2026-03-05T11:00:00Z" },
        },
      ],
      "c3",
    );
    deployments.d3 = await h.deploy("shop", { id: "d3", commit: "c4", at: "2026-03-05T12:00:00Z" });
    // Pull request #7: every span positive.
    await h.push(
      "octo/shop",
      [
        {
          label: "c5",
          at: "2026-03-06T10:00:00Z",
          pr: { number: 7, first_commit_at: "2026-03-06T08:00:00Z", opened_at: "2026-03-06T09:00:00Z", merged_at: "2026-03-06T10:00:00Z" },
        },
      ],
      "c4",
    );
    deployments.d4 = await h.deploy("shop", { id: "d4", commit: "c5", at: "2026-03-06T12:00:00Z" });
    await h.incident("shop", { id: "inc-d4", started: "2026-03-06T13:00:00Z", resolved: "2026-03-06T15:00:00Z" }); // d4 recovers after 3 h
    await h.push("octo/shop", [{ label: "c6", at: "2026-03-07T08:00:00Z" }], "c5");
    deployments.d5 = await h.deploy("shop", { id: "d5", commit: "c6", at: "2026-03-07T12:00:00Z" });
    // An incident that names d5 but resolved an hour before d5 finished: a recovery of -3,600 s.
    await h.incident("shop", {
      id: "inc-d5",
      started: "2026-03-07T10:00:00Z",
      resolved: "2026-03-07T11:00:00Z",
      deployment_id: (deployments.d5 as DeploymentView).id,
    });

    // The API refuses resolved_at before started_at (400); an alert whose endsAt precedes its
    // startsAt still arrives by webhook. Alertmanager's example, its one resolved alert retimed.
    const alertmanager = await createIntegration(t, "alertmanager");
    const body = JSON.parse(alertmanagerFixture) as { alerts: Array<Record<string, unknown> & { status: string; labels: Record<string, string> }> };
    const resolved = body.alerts.find((a) => a.status === "resolved") as (typeof body.alerts)[number];
    resolved.labels.service = "pager";
    resolved.startsAt = "2026-03-07T15:00:00Z";
    resolved.endsAt = "2026-03-07T14:00:00Z";
    body.alerts = [resolved];
    const delivered = await t.app.request(alertmanager.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${alertmanager.secret}` },
      body: JSON.stringify(body),
    });
    expect(await delivered.json()).toMatchObject({ status: "processed" });
  });
  afterAll(() => t.close());

  test("the incidents API refuses an incident resolved before it started", async () => {
    const response = await t.request("/api/v1/incidents", {
      method: "POST",
      json: { service: "shop", external_id: "backwards", started_at: "2026-03-07T10:00:00Z", resolved_at: "2026-03-07T09:00:00Z" },
    });
    expect(response.status).toBe(400);
  });

  test("lead time leaves out changes committed after their deployment; each pull request stage its negative spans", async () => {
    const m = await h.metrics({ service: "shop", ...window });
    // counted: c4 1 h, c5 2 h, c1 4 h, c6 4 h; left out: c2 (-28,800 s) and c3 (-84,197 s)
    expect(m.lead_time).toEqual({
      changes: 4,
      median_seconds: 10_800,
      p75_seconds: 14_400,
      p90_seconds: 14_400,
      level: "elite",
      breakdown: {
        pull_requests: 3,
        coding_median_seconds: 3_600, // #5 1 h, #7 1 h; #6's first commit came after it was opened
        review_median_seconds: 7_200, // #5 94,997 s, #6 2 h, #7 1 h
        deploy_median_seconds: 5_400, // #6 1 h, #7 2 h; #5 was merged after d2 finished
      },
    });
  });

  test("recovery time leaves out a recovery before the failure; time to restore an incident resolved before it started", async () => {
    const m = await h.metrics({ service: "shop", ...window });
    expect(m.recovery_time).toEqual({ failures: 2, recovered: 1, median_seconds: 10_800, p90_seconds: 10_800, level: "high" });
    expect(m.time_to_restore).toMatchObject({ incidents: 2, median_seconds: 5_400 });
    const pager = await h.metrics({ service: "pager", ...window });
    expect(pager.time_to_restore).toMatchObject({ incidents: 0, median_seconds: null, p90_seconds: null });
    const everything = await h.metrics(window);
    expect(everything.time_to_restore).toMatchObject({ incidents: 2, median_seconds: 5_400 });
  });

  test("no answer of the metrics or deployments endpoints holds a negative number", async () => {
    const query = new URLSearchParams(window);
    const answers: Record<string, unknown> = {
      metrics: await json(`/api/v1/metrics?${query}`),
      shop: await json(`/api/v1/metrics?${query}&service=shop`),
      timeseries: await json(`/api/v1/metrics/timeseries?${query}&interval=day`),
      breakdown: await json(`/api/v1/metrics/breakdown?${query}&group_by=service`),
      teams: await json(`/api/v1/metrics/breakdown?${query}&group_by=team`),
      deployments: await json("/api/v1/deployments?service=shop"),
      incidents: await json("/api/v1/incidents?service=shop"),
    };
    for (const d of Object.values(deployments)) answers[`deployment ${d.external_id}`] = await json(`/api/v1/deployments/${d.id}`);
    expect(Object.entries(answers).flatMap(([name, answer]) => negatives(answer, name))).toEqual([]);
  });

  test("a deployment's lead times and recovery leave out its negative spans; its commits show null", async () => {
    const d1 = await h.deployment((deployments.d1 as DeploymentView).id);
    expect(d1).toMatchObject({ changes: 2, lead_time: { counted: true, median_seconds: 14_400, max_seconds: 14_400 } });
    const detail = (await json(`/api/v1/deployments/${(deployments.d1 as DeploymentView).id}`)) as {
      commits: Array<{ sha: string; lead_time_seconds: number | null }>;
    };
    expect(Object.fromEntries(detail.commits.map((c) => [c.sha, c.lead_time_seconds]))).toEqual({ [sha("c1")]: 14_400, [sha("c2")]: null });
    const d2 = await h.deployment((deployments.d2 as DeploymentView).id);
    expect(d2).toMatchObject({ changes: 1, lead_time: { median_seconds: null, max_seconds: null } });
    const d5 = (await json(`/api/v1/deployments/${(deployments.d5 as DeploymentView).id}`)) as DeploymentView & { recovery_seconds: number | null };
    expect(d5).toMatchObject({ failed: true, recovered_at: "2026-03-07T11:00:00.000Z", recovery_seconds: null });
  });

  test("GET /api/v1/data-quality lists each negative span with the record behind it", async () => {
    const report = await json(`/api/v1/data-quality?${new URLSearchParams(window)}`);
    const spans = report.negative_spans;
    expect(spans.lead_time.count).toBe(2);
    expect(spans.lead_time.rows).toEqual([
      expect.objectContaining({
        sha: sha("c3"),
        service: "shop",
        deployment_id: (deployments.d2 as DeploymentView).id,
        external_id: "d2",
        committed_at: "2026-03-04T11:23:17.000Z",
        finished_at: "2026-03-03T12:00:00.000Z",
        seconds: -84_197,
      }),
      expect.objectContaining({ sha: sha("c2"), deployment_id: (deployments.d1 as DeploymentView).id, seconds: -28_800 }),
    ]);
    expect(spans.deploy).toEqual({
      count: 1,
      rows: [expect.objectContaining({ sha: sha("c3"), pull_request: 5, merged_at: "2026-03-04T11:23:17.000Z", seconds: -84_197 })],
    });
    expect(spans.coding).toEqual({
      count: 1,
      rows: [expect.objectContaining({ sha: sha("c4"), pull_request: 6, first_commit_at: "2026-03-05T10:00:00.000Z", opened_at: "2026-03-05T09:00:00.000Z", seconds: -3_600 })],
    });
    expect(spans.review).toEqual({ count: 0, rows: [] });
    expect(spans.recovery).toEqual({
      count: 1,
      rows: [expect.objectContaining({ id: (deployments.d5 as DeploymentView).id, external_id: "d5", recovered_at: "2026-03-07T11:00:00.000Z", seconds: -3_600 })],
    });
    expect(spans.time_to_restore).toEqual({
      count: 1,
      rows: [expect.objectContaining({ service: "pager", started_at: "2026-03-07T15:00:00.000Z", resolved_at: "2026-03-07T14:00:00.000Z", seconds: -3_600 })],
    });
  });
});
