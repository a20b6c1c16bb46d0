import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, history, sha } from "../support/history.ts";

// docs/metrics.md "Lead time for changes", "Baseline deployment" and "Monorepos": the same
// histories and numbers.

describe("GET /api/v1/metrics: lead time for changes", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const window = { from: "2026-03-01T00:00:00Z", to: "2026-03-08T00:00:00Z" };
  const deployments: Record<string, DeploymentView> = {};

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-08T00:00:00Z" });
    h = history(t);
    await h.service("checkout");
    await h.push("octo/checkout", [
      { label: "c1", at: "2026-03-01T09:00:00Z" },
      { label: "c2", at: "2026-03-01T10:00:00Z" },
    ]);
    deployments.d1 = await h.deploy("checkout", { id: "d1", commit: "c2", at: "2026-03-01T12:00:00Z" });
    // d2 is posted before the pushes that lead to it: the changes attach when the pushes arrive.
    deployments.d2 = await h.deploy("checkout", { id: "d2", commit: "c5", at: "2026-03-02T12:00:00Z" });
    await h.push(
      "octo/checkout",
      [
        { label: "c3", at: "2026-03-02T08:00:00Z" },
        { label: "c4", at: "2026-03-02T10:00:00+01:00" }, // 09:00Z
        {
          label: "c5",
          at: "2026-03-02T11:00:00Z",
          pr: { number: 7, opened_at: "2026-03-02T09:00:00Z", merged_at: "2026-03-02T11:00:00Z", first_commit_at: "2026-03-02T08:00:00Z" },
        },
      ],
      "c2",
    );
    await h.push(
      "octo/checkout",
      [
        {
          label: "c6",
          at: "2026-03-03T12:00:00Z",
          pr: { number: 8, opened_at: "2026-03-03T10:00:00Z", merged_at: "2026-03-03T12:00:00Z", first_commit_at: "2026-03-03T09:00:00Z" },
        },
      ],
      "c5",
    );
    deployments.d3 = await h.deploy("checkout", { id: "d3", commit: "c6", at: "2026-03-04T10:00:00Z" });
  });
  afterAll(() => t.close());

  test("each change deployed in the window counts finished_at - committed_at; percentiles interpolate like percentile_cont", async () => {
    const m = await h.metrics({ service: "checkout", ...window });
    // c5 1h, c4 3h, c3 4h, c6 22h; the baseline d1's c1 and c2 are left out
    expect(m.lead_time).toEqual({
      changes: 4,
      median_seconds: 12_600, // (3h + 4h) / 2
      p75_seconds: 30_600, // 4h + 0.25 * (22h - 4h)
      p90_seconds: 59_760, // 4h + 0.70 * (22h - 4h)
      level: "elite",
      breakdown: {
        pull_requests: 2,
        coding_median_seconds: 3_600, // first commit -> opened: 1h and 1h
        review_median_seconds: 7_200, // opened -> merged: 2h and 2h
        deploy_median_seconds: 41_400, // merged -> deployed: 1h and 22h
      },
    });
    expect((await h.metrics({ service: "checkout", benchmark: "2021", ...window })).lead_time.level).toBe("high");
  });

  test("the baseline deployment's changes are recorded but not counted, and it still counts as a deployment", async () => {
    const d1 = await h.deployment((deployments.d1 as DeploymentView).id);
    expect(d1).toMatchObject({ baseline: true, changes: 2, lead_time: { counted: false, median_seconds: null } });
    const m = await h.metrics({ service: "checkout", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z" });
    expect(m.deployment_frequency.deployments).toBe(1);
    expect(m.change_failure_rate.deployments).toBe(1);
    expect(m.lead_time.changes).toBe(0);
    expect(m.lead_time.median_seconds).toBeNull();
  });

  test("the deployment drill-down lists each commit with its lead time", async () => {
    const response = await t.request(`/api/v1/deployments/${(deployments.d2 as DeploymentView).id}`);
    const d2 = (await response.json()) as DeploymentView & { commits: Array<{ sha: string; lead_time_seconds: number; pull_request: { number: number } | null }> };
    expect(d2).toMatchObject({ baseline: false, changes: 3, lead_time: { counted: true, median_seconds: 10_800, max_seconds: 14_400 } });
    expect(d2.commits.map((c) => [c.sha, c.lead_time_seconds, c.pull_request?.number ?? null])).toEqual([
      [sha("c5"), 3_600, 7],
      [sha("c4"), 10_800, null],
      [sha("c3"), 14_400, null],
    ]);
  });

  test("a first deployment that lists its commits explicitly counts them (no baseline exclusion)", async () => {
    await h.service("billing");
    const b1 = await h.deploy("billing", {
      id: "b1",
      commit: "b2",
      at: "2026-03-05T12:00:00Z",
      commits: [
        { label: "b1", at: "2026-03-05T10:00:00Z" },
        { label: "b2", at: "2026-03-05T11:00:00Z" },
      ],
    });
    expect(b1).toMatchObject({ baseline: true, changes: 2, lead_time: { counted: true } });
    const m = await h.metrics({ service: "billing", ...window });
    expect(m.lead_time).toMatchObject({ changes: 2, median_seconds: 5_400, p90_seconds: 6_840 });
  });

  test("in a monorepo, only commits touching a service's path_prefix are its changes", async () => {
    await h.service("cart", { repository: "octo/mono", pathPrefix: "cart/" });
    await h.service("search", { repository: "octo/mono", pathPrefix: "search/" });
    await h.push("octo/mono", [{ label: "m0", at: "2026-03-01T08:00:00Z", files: ["cart/init.ts", "search/init.ts"] }]);
    await h.deploy("cart", { id: "cart-0", commit: "m0", at: "2026-03-01T09:00:00Z" });
    await h.deploy("search", { id: "search-0", commit: "m0", at: "2026-03-01T09:00:00Z" });
    await h.push(
      "octo/mono",
      [
        { label: "m1", at: "2026-03-02T08:00:00Z", files: ["cart/a.ts"] },
        { label: "m2", at: "2026-03-02T09:00:00Z", files: ["search/x.ts"] },
        { label: "m3", at: "2026-03-02T10:00:00Z", files: ["cart/b.ts", "README.md"] },
        { label: "m4", at: "2026-03-02T11:00:00Z", files: ["docs/readme.md"] },
      ],
      "m0",
    );
    const cart = await h.deploy("cart", { id: "cart-1", commit: "m4", at: "2026-03-02T12:00:00Z" });
    const search = await h.deploy("search", { id: "search-1", commit: "m4", at: "2026-03-02T13:00:00Z" });
    expect(cart.changes).toBe(2); // m1, m3 (m2 and m4 are walked through, not counted)
    expect(search.changes).toBe(1); // m2
    expect((await h.metrics({ service: "cart", ...window })).lead_time).toMatchObject({ changes: 2, median_seconds: 10_800 });
    expect((await h.metrics({ service: "search", ...window })).lead_time).toMatchObject({ changes: 1, median_seconds: 14_400 });
  });
});
