import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, history } from "../support/history.ts";

// docs/metrics.md "Change failure rate", "Incident attribution", "Failed deployment recovery
// time" and "Time to restore service": the same histories and numbers.

const at = (time: string) => `2026-03-02T${time}Z`;
const window = { from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z" };

describe("GET /api/v1/metrics: change failure rate, recovery, time to restore", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const reread = (d: DeploymentView) => h.deployment(d.id);

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-03T00:00:00Z" });
    h = history(t);
  });
  afterAll(() => t.close());

  test("a redeploy of an earlier sha rolls back every deployment in between", async () => {
    await h.service("redeploy");
    const r1 = await h.deploy("redeploy", { id: "r1", commit: "A", at: at("10:00:00") });
    const r2 = await h.deploy("redeploy", { id: "r2", commit: "B", at: at("11:00:00") });
    const r3 = await h.deploy("redeploy", { id: "r3", commit: "C", at: at("12:00:00") });
    const r4 = await h.deploy("redeploy", { id: "r4", commit: "A", at: at("12:30:00") });
    expect(await reread(r1)).toMatchObject({ failed: false, failure_reasons: [] });
    expect(await reread(r2)).toMatchObject({ failed: true, failure_reasons: ["rolled_back"], rolled_back_by: r4.id, recovered_at: at("12:30:00.000") });
    expect(await reread(r3)).toMatchObject({ failed: true, failure_reasons: ["rolled_back"], rolled_back_by: r4.id, recovered_at: at("12:30:00.000") });
    expect(await reread(r4)).toMatchObject({ failed: false, rework: true, rework_reasons: ["rollback"] });

    const m = await h.metrics({ service: "redeploy", ...window });
    expect(m.change_failure_rate).toEqual({ deployments: 4, failed: 2, rate: 0.5, level: "low" });
    // r2 recovered after 1h30, r3 after 30 min
    expect(m.recovery_time).toEqual({ failures: 2, recovered: 2, median_seconds: 3_600, p90_seconds: 5_040, level: "high" });

    const listed = (await (await t.request("/api/v1/deployments?service=redeploy&failure_reason=rolled_back")).json()) as { items: DeploymentView[] };
    expect(listed.items.map((d) => d.external_id)).toEqual(["r3", "r2"]);
  });

  test("a deployment flagged rollback rolls back the one before it", async () => {
    await h.service("flagged");
    const f1 = await h.deploy("flagged", { id: "f1", commit: "A", at: at("10:00:00") });
    const f2 = await h.deploy("flagged", { id: "f2", commit: "B", at: at("11:00:00") });
    const f3 = await h.deploy("flagged", { id: "f3", commit: "revert-B", at: at("11:20:00"), rollback: true });
    expect(await reread(f1)).toMatchObject({ failed: false });
    expect(await reread(f2)).toMatchObject({ failed: true, failure_reasons: ["rolled_back"], rolled_back_by: f3.id });
    expect(await reread(f3)).toMatchObject({ failed: false, rework_reasons: ["rollback"] });
    const m = await h.metrics({ service: "flagged", ...window });
    expect(m.change_failure_rate).toMatchObject({ deployments: 3, failed: 1, rate: 0.3333 });
    expect(m.recovery_time).toMatchObject({ failures: 1, recovered: 1, median_seconds: 1_200, level: "elite" });
    expect(m.rework_rate).toEqual({ deployments: 3, rework: 1, rate: 0.3333 });
  });

  test("a fix-forward naming a deployment by id or by sha fails it; it recovers when the fix finishes", async () => {
    await h.service("fixes");
    await h.deploy("fixes", { id: "x1", commit: "A", at: at("10:00:00") });
    const x2 = await h.deploy("fixes", { id: "x2", commit: "B", at: at("11:00:00") });
    const x3 = await h.deploy("fixes", { id: "x3", commit: "C", at: at("11:45:00"), fixes: x2.id });
    const x4 = await h.deploy("fixes", { id: "x4", commit: "D", at: at("12:00:00") });
    const x5 = await h.deploy("fixes", { id: "x5", commit: "E", at: at("12:10:00"), fixes: "D" });
    expect(await reread(x2)).toMatchObject({ failed: true, failure_reasons: ["fixed"], fixed_by: x3.id, recovered_at: at("11:45:00.000") });
    expect(await reread(x3)).toMatchObject({ failed: false, fixes: x2.id, rework_reasons: ["fix_forward"] });
    expect(await reread(x4)).toMatchObject({ failed: true, failure_reasons: ["fixed"], fixed_by: x5.id });
    const m = await h.metrics({ service: "fixes", ...window });
    expect(m.change_failure_rate).toMatchObject({ deployments: 5, failed: 2, rate: 0.4 });
    expect(m.recovery_time).toMatchObject({ failures: 2, recovered: 2, median_seconds: 1_650, p90_seconds: 2_490 });
  });

  test("a deployment marked failed through the API fails without a recovery", async () => {
    await h.service("marked");
    const k1 = await h.deploy("marked", { id: "k1", commit: "A", at: at("10:00:00") });
    await h.deploy("marked", { id: "k2", commit: "B", at: at("11:00:00") });
    await h.markFailed(k1.id);
    expect(await reread(k1)).toMatchObject({ failed: true, failure_reasons: ["marked"], recovered_at: null });
    const m = await h.metrics({ service: "marked", ...window });
    expect(m.change_failure_rate).toMatchObject({ deployments: 2, failed: 1, rate: 0.5 });
    expect(m.recovery_time).toEqual({ failures: 1, recovered: 0, median_seconds: null, p90_seconds: null, level: null });
  });

  test("incidents: named by id or by sha, else the latest deployment; an open one keeps its deployment unrecovered", async () => {
    await h.service("incidents");
    await h.deploy("incidents", { id: "n1", commit: "A", at: at("10:00:00") });
    const n2 = await h.deploy("incidents", { id: "n2", commit: "B", at: at("11:00:00") });
    const n3 = await h.deploy("incidents", { id: "n3", commit: "C", at: at("12:00:00") });
    // named by id, although it started after n3
    const inc1 = await h.incident("incidents", { id: "inc-1", started: at("12:30:00"), resolved: at("13:00:00"), deployment_id: n2.id });
    expect(inc1.deployment?.id).toBe(n2.id);
    // named by sha
    const inc2 = await h.incident("incidents", { id: "inc-2", started: at("12:15:00"), resolved: at("12:45:00"), commit: "C" });
    expect(inc2.deployment?.id).toBe(n3.id);
    // nothing named: the latest production deployment finished at or before it started
    const inc3 = await h.incident("incidents", { id: "inc-3", started: at("14:00:00") });
    expect(inc3.deployment?.id).toBe(n3.id);
    // before any deployment: unattributed, still a restore
    const inc4 = await h.incident("incidents", { id: "inc-4", started: "2026-03-01T23:00:00Z", resolved: at("01:00:00") });
    expect(inc4.deployment).toBeNull();

    expect(await reread(n2)).toMatchObject({ failed: true, failure_reasons: ["incident"], recovered_at: at("13:00:00.000") });
    expect(await reread(n3)).toMatchObject({ failed: true, failure_reasons: ["incident"], recovered_at: null });
    const m = await h.metrics({ service: "incidents", ...window });
    expect(m.change_failure_rate).toMatchObject({ deployments: 3, failed: 2 });
    expect(m.recovery_time).toEqual({ failures: 2, recovered: 1, median_seconds: 7_200, p90_seconds: 7_200, level: "high" });
    // resolved in the window: inc-1 30 min, inc-2 30 min, inc-4 2h (started before the window)
    expect(m.time_to_restore).toEqual({ incidents: 3, median_seconds: 1_800, p90_seconds: 6_120, level: "elite" });
    // 2021 reads time to restore for the recovery level
    expect((await h.metrics({ service: "incidents", benchmark: "2021", ...window })).recovery_time.level).toBe("elite");

    // the drill-down behind time to restore: incidents resolved in the window
    const restored = (await (
      await t.request(`/api/v1/incidents?service=incidents&resolved_from=${window.from}&resolved_to=${window.to}`)
    ).json()) as { items: Array<{ external_id: string }> };
    expect(restored.items.map((i) => i.external_id).sort()).toEqual(["inc-1", "inc-2", "inc-4"]);
    const unattributed = (await (await t.request("/api/v1/incidents?service=incidents&attributed=false")).json()) as {
      items: Array<{ external_id: string }>;
    };
    expect(unattributed.items.map((i) => i.external_id)).toEqual(["inc-4"]);

    // resolving the open incident recovers n3 at its resolution
    await h.incident("incidents", { id: "inc-3", started: at("14:00:00"), resolved: at("15:00:00") });
    expect(await reread(n3)).toMatchObject({ recovered_at: at("15:00:00.000") });

    const open = (await (await t.request("/api/v1/incidents?service=incidents")).json()) as { items: Array<{ external_id: string; deployment: { id: number } | null }> };
    expect(Object.fromEntries(open.items.map((i) => [i.external_id, i.deployment?.id ?? null]))).toEqual({
      "inc-1": n2.id,
      "inc-2": n3.id,
      "inc-3": n3.id,
      "inc-4": null,
    });
  });

  test("the attribution window: exactly at its edge attributes, one second past does not, 0 means no limit", async () => {
    await h.service("edge", { attributionWindow: 3600 });
    const e1 = await h.deploy("edge", { id: "e1", commit: "A", at: at("10:00:00") });
    expect((await h.incident("edge", { id: "at-finish", started: at("10:00:00"), resolved: at("10:10:00") })).deployment?.id).toBe(e1.id);
    expect((await h.incident("edge", { id: "at-edge", started: at("11:00:00"), resolved: at("11:10:00") })).deployment?.id).toBe(e1.id);

    await h.service("past-edge", { attributionWindow: 3600 });
    const p1 = await h.deploy("past-edge", { id: "p1", commit: "A", at: at("10:00:00") });
    expect((await h.incident("past-edge", { id: "late", started: at("11:00:01"), resolved: at("11:30:01") })).deployment).toBeNull();
    expect(await reread(p1)).toMatchObject({ failed: false });
    const m = await h.metrics({ service: "past-edge", ...window });
    expect(m.change_failure_rate).toMatchObject({ deployments: 1, failed: 0, rate: 0 });
    expect(m.time_to_restore).toMatchObject({ incidents: 1, median_seconds: 1_800 });

    await h.service("unlimited", { attributionWindow: 0 });
    const u1 = await h.deploy("unlimited", { id: "u1", commit: "A", at: "2025-01-01T00:00:00Z" });
    expect((await h.incident("unlimited", { id: "much-later", started: at("10:00:00") })).deployment?.id).toBe(u1.id);
  });
});
