import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { type DeploymentView, history } from "../support/history.ts";

// docs/metrics.md "Rework rate": the same history and numbers.

const at = (time: string) => `2026-03-02T${time}Z`;

describe("GET /api/v1/metrics: rework rate (DORA 2024)", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const w: Record<string, DeploymentView> = {};

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-03T00:00:00Z" });
    h = history(t);
    await h.service("rework");
    const deploy = async (id: string, time: string, extra: { branch?: string; hotfix?: boolean } = {}) => {
      w[id] = await h.deploy("rework", { id, commit: id, at: at(time), ...extra });
    };
    await deploy("w1", "10:00:00");
    await deploy("w2", "11:00:00", { branch: "hotfix/login" });
    await deploy("w3", "12:00:00", { hotfix: true });
    await deploy("w4", "13:00:00");
    await h.incident("rework", { id: "inc-a", started: at("13:10:00"), resolved: at("15:00:00") }); // w4 fails
    await deploy("w5", "14:00:00"); // first after w4, before w4 recovered
    await deploy("w6", "16:00:00");
    await h.incident("rework", { id: "inc-b", started: at("16:05:00"), resolved: at("16:30:00") }); // w6 fails
    await deploy("w7", "17:00:00", { branch: "release/1.2" }); // after w6 recovered
  });
  afterAll(() => t.close());

  test("hotfix branches and flags, and the first deployment after an unrecovered failure, are rework", async () => {
    const reasons: Record<string, string[]> = {};
    for (const [id, d] of Object.entries(w)) reasons[id] = (await h.deployment(d.id)).rework_reasons;
    expect(reasons).toEqual({
      w1: [],
      w2: ["hotfix"],
      w3: ["hotfix"],
      w4: [],
      w5: ["after_failure"],
      w6: [],
      w7: [],
    });
    const m = await h.metrics({ service: "rework", from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z" });
    expect(m.rework_rate).toEqual({ deployments: 7, rework: 3, rate: 0.4286 });
    expect(m.change_failure_rate).toMatchObject({ deployments: 7, failed: 2 });
    const listed = (await (await t.request("/api/v1/deployments?service=rework&rework=true")).json()) as { items: DeploymentView[] };
    expect(listed.items.map((d) => d.external_id)).toEqual(["w5", "w3", "w2"]);
  });
});
