import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyRetention } from "../../ingest/src/webhooks/retention.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";

// Histories posted as real-shaped webhooks (published examples with the fields that matter
// set), and the numbers SPEC 4 gives for them, computed by hand in each test.

/** Vendor payloads and metric objects edited or read by path; typing them would add nothing the assertions do not check. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = Record<string, any>;

const sha = (n: number) => n.toString(16).repeat(40).slice(0, 40);
const ZERO = "0".repeat(40);
const WINDOW = "from=2026-06-01T00:00:00Z&to=2026-06-08T00:00:00Z";

function example(event: string, pick: (e: Record<string, unknown>) => boolean = () => true) {
  const found = octokitExamples(event).find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return found as Loose;
}

function githubHistory() {
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
  const status = (id: number, commit: number, state: string, at: string) => {
    const s = example("deployment_status");
    s.repository = repository;
    s.deployment = { ...s.deployment, id, sha: sha(commit), ref: "main", environment: "production", created_at: at };
    s.deployment_status = { ...s.deployment_status, state, environment: "production", created_at: at, updated_at: at };
    return s;
  };
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
  return [
    ["push", push(ZERO, [[1, "2026-06-01T08:00:00Z"], [2, "2026-06-01T09:00:00Z"]])],
    ["deployment", deployment(101, 2, "2026-06-01T10:00:00Z")],
    ["deployment_status", status(101, 2, "success", "2026-06-01T10:05:00Z")],
    ["push", push(sha(2), [[3, "2026-06-01T11:00:00Z"], [4, "2026-06-01T12:00:00Z"]])],
    ["deployment", deployment(102, 4, "2026-06-01T13:00:00Z")],
    ["deployment_status", status(102, 4, "in_progress", "2026-06-01T13:10:00Z")],
    ["deployment_status", status(102, 4, "success", "2026-06-01T13:30:00Z")],
    ["issues", issue("opened", "2026-06-01T14:00:00+02:00", null)],
    ["issues", issue("closed", "2026-06-01T14:00:00+02:00", "2026-06-01T13:00:00Z")],
  ] as const;
}

async function metricsOf(t: TestApp, service: string) {
  const response = await t.request(`/api/v1/metrics?service=${service}&${WINDOW}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Loose;
}

describe("a GitHub history posted as webhooks", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-06-10T00:00:00Z" });
    const github = await createIntegration(t, "github");
    for (const [event, payload] of githubHistory()) {
      const response = await postGithub(t, github, event, payload);
      expect(response.status).toBe(202);
      expect(((await response.json()) as { status: string }).status).toBe("processed");
    }
  });
  afterAll(() => t.close());

  test("gives the numbers of SPEC 4", async () => {
    const m = await metricsOf(t, "shop");
    // Two production deployments; the first is the baseline (its changes are not timed).
    expect(m.deployment_frequency.deployments).toBe(2);
    // Deployment 102 finished 13:30 and brought c3 (11:00) and c4 (12:00): 9000 s and 5400 s.
    expect(m.lead_time).toMatchObject({ changes: 2, median_seconds: 7200 });
    // The incident issue opened at 14:00+02:00 = 12:00Z, before 102 finished (13:30), so it is
    // attributed to 101 (finished 10:05): one failure of two deployments.
    expect(m.change_failure_rate).toMatchObject({ deployments: 2, failed: 1, rate: 0.5 });
    // 101 recovered when the issue closed, 13:00Z: 10:05 -> 13:00 is 10,500 s.
    expect(m.recovery_time).toMatchObject({ failures: 1, recovered: 1, median_seconds: 10_500 });
    // The incident itself lasted 12:00Z -> 13:00Z.
    expect(m.time_to_restore).toMatchObject({ incidents: 1, median_seconds: 3600 });
  });

  test("reprocessing every delivery rebuilds the same numbers and deployments", async () => {
    const before = await metricsOf(t, "shop");
    const deploymentsBefore = (await (await t.request("/api/v1/deployments?service=shop")).json()) as { items: Array<Record<string, unknown>> };
    const report = await t.request("/api/v1/admin/reprocess", { method: "POST" });
    expect(report.status).toBe(200);
    expect(await report.json()).toMatchObject({ deliveries: 9, processed: 9, failed: 0 });
    expect(await metricsOf(t, "shop")).toEqual(before);
    const deploymentsAfter = (await (await t.request("/api/v1/deployments?service=shop")).json()) as { items: Array<Record<string, unknown>> };
    const stable = (items: Array<Record<string, unknown>>) =>
      items.map(({ id, created_at, updated_at, rolled_back_by, fixed_by, fixes, ...rest }) => rest);
    expect(stable(deploymentsAfter.items)).toEqual(stable(deploymentsBefore.items));
  });

  test("once retention has dropped the bodies, reprocessing rebuilds the same numbers from the stored events", async () => {
    const before = await metricsOf(t, "shop");
    const dropped = await applyRetention({ database: t.database, days: 30, now: new Date("2027-01-01T00:00:00Z") });
    expect(dropped).toBe(9);
    const listed = (await (await t.request("/api/v1/deliveries")).json()) as { items: Array<{ body_retained: boolean }> };
    expect(listed.items.map((d) => d.body_retained)).toEqual(Array(9).fill(false));
    const report = await t.request("/api/v1/admin/reprocess", { method: "POST" });
    expect(await report.json()).toMatchObject({ deliveries: 9, processed: 9, failed: 0 });
    expect(await metricsOf(t, "shop")).toEqual(before);
  });

  test("the same deliveries in reverse order give the same numbers", async () => {
    const reversed = await createTestApp({ now: "2026-06-10T00:00:00Z" });
    try {
      const github = await createIntegration(reversed, "github");
      for (const [event, payload] of [...githubHistory()].reverse()) {
        expect((await postGithub(reversed, github, event, payload)).status).toBe(202);
      }
      expect(await metricsOf(reversed, "shop")).toEqual(await metricsOf(t, "shop"));
    } finally {
      await reversed.close();
    }
  });
});

const gitlabFixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../collectors/test/fixtures/gitlab/${name}`, import.meta.url), "utf8")) as Loose;

describe("a GitLab history posted as webhooks", () => {
  let t: TestApp;
  let gitlab: { url: string; secret: string };
  const post = (event: string, payload: unknown, uuid: string) =>
    t.app.request(gitlab.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-event": event, "x-gitlab-token": gitlab.secret, "x-gitlab-event-uuid": uuid },
      body: JSON.stringify(payload),
    });

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-06-10T00:00:00Z" });
    gitlab = await createIntegration(t, "gitlab");
  });
  afterAll(() => t.close());

  test("pushes, deployments and an incident give the numbers of SPEC 4", async () => {
    const project = { ...gitlabFixture("push.json").project, path_with_namespace: "acme/api", name: "api" };
    const push = (before: string, commits: Array<[number, string]>) => {
      const p = gitlabFixture("push.json");
      p.project = project;
      p.before = before;
      p.commits = commits.map(([n, at]) => ({ ...p.commits[0], id: sha(n), timestamp: at, added: ["a"], modified: [], removed: [] }));
      p.total_commits_count = commits.length;
      return p;
    };
    const deploy = (id: number, commit: number, status: string, at: string) => {
      const d = gitlabFixture("deployment.json");
      d.project = project;
      Object.assign(d, { deployment_id: id, status, environment: "production", status_changed_at: at, commit_url: `https://gitlab.example/acme/api/-/commit/${sha(commit)}` });
      return d;
    };
    const incident = (action: string, closedAt: string | null) => {
      const i = gitlabFixture("work_item.incident.open.json");
      i.project = project;
      i.object_attributes = { ...i.object_attributes, id: 77, action, created_at: "2026-06-02 09:00:00 UTC", closed_at: closedAt, state: closedAt ? "closed" : "opened" };
      return i;
    };
    const history: Array<[string, unknown]> = [
      ["Push Hook", push(ZERO, [[5, "2026-06-01 08:00:00 UTC"]])],
      ["Deployment Hook", deploy(1, 5, "success", "2026-06-01 09:00:00 UTC")],
      ["Push Hook", push(sha(5), [[6, "2026-06-02T06:00:00+02:00"], [7, "2026-06-02 05:00:00 UTC"]])],
      ["Deployment Hook", deploy(2, 7, "running", "2026-06-02 07:30:00 UTC")],
      ["Deployment Hook", deploy(2, 7, "success", "2026-06-02 08:00:00 UTC")],
      ["Issue Hook", incident("open", null)],
      ["Issue Hook", incident("close", "2026-06-02 09:45:00 UTC")],
      ["Deployment Hook", deploy(3, 5, "success", "2026-06-02 10:00:00 UTC")],
    ];
    let n = 0;
    for (const [event, payload] of history) {
      const response = await post(event, payload, `uuid-${n++}`);
      expect(response.status).toBe(202);
      expect(((await response.json()) as { status: string }).status).toBe("processed");
    }
    const m = await metricsOf(t, "api");
    // Deployments: 1 (baseline, c5), 2 (c6 04:00Z, c7 05:00Z; finished 08:00Z), 3 (redeploys c5: a rollback).
    expect(m.deployment_frequency.deployments).toBe(3);
    expect(m.lead_time).toMatchObject({ changes: 2, median_seconds: 12_600 });
    // 2 failed twice over: the incident (opened 09:00, after it finished at 08:00) and the
    // rollback by 3, which redeployed c5.
    expect(m.change_failure_rate).toMatchObject({ deployments: 3, failed: 1 });
    // Recovered when its incident resolved, 09:45: 6300 s after it finished.
    expect(m.recovery_time).toMatchObject({ failures: 1, recovered: 1, median_seconds: 6300 });
    // Deployment 3 is a rollback: rework.
    expect(m.rework_rate).toMatchObject({ deployments: 3, rework: 1 });
    const list = (await (await t.request("/api/v1/deployments?service=api&production=true")).json()) as { items: Array<{ sha: string; failure_reasons: string[] }> };
    expect(list.items.find((d) => d.sha === sha(7))?.failure_reasons).toEqual(["incident", "rolled_back"]);
  });
});
