import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { history } from "../support/history.ts";

// SPEC 4.1 and docs/metrics.md "Performance levels": each cut-off, just inside and just outside,
// for the three benchmarks.

const DAY = 86_400;
const iso = (ms: number) => new Date(ms).toISOString();
const NOON = Date.parse("2026-03-02T12:00:00Z");
const week = { from: "2026-03-02T00:00:00Z", to: "2026-03-09T00:00:00Z" };

describe("GET /api/v1/metrics: performance levels", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const level = async (service: string, benchmark: string, window: { from: string; to: string } = week) =>
    h.metrics({ service, benchmark, ...window });

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-20T00:00:00Z" });
    h = history(t);
  });
  afterAll(() => t.close());

  test("change failure rate: at most 15/20/30% (2021), 5/10/15% (2023), 5/20/40% (2024)", async () => {
    const expected: Record<number, [string, string, string]> = {
      1: ["elite", "elite", "elite"], // 5%
      2: ["elite", "high", "high"], // 10%
      3: ["elite", "medium", "high"], // 15%
      4: ["high", "low", "high"], // 20%
      5: ["medium", "low", "medium"], // 25%
      6: ["medium", "low", "medium"], // 30%
      7: ["low", "low", "medium"], // 35%
      8: ["low", "low", "medium"], // 40%
      9: ["low", "low", "low"], // 45%
    };
    for (const failed of Object.keys(expected).map(Number)) {
      const service = `cfr-${failed}`;
      await h.service(service);
      for (let i = 0; i < 20; i++) {
        const d = await h.deploy(service, { id: `${service}-${i}`, commit: `${service}-${i}`, at: iso(NOON + i * 60_000) });
        if (i < failed) await h.markFailed(d.id);
      }
    }
    for (const [failed, levels] of Object.entries(expected)) {
      const found = [];
      for (const benchmark of ["2021", "2023", "2024"]) found.push((await level(`cfr-${failed}`, benchmark)).change_failure_rate.level);
      expect([failed, ...found]).toEqual([failed, ...levels]);
    }
    // overall: the lowest level among the metrics with data (frequency high, no lead time, no recovery)
    expect((await level("cfr-1", "2024")).level).toBe("high");
    expect((await level("cfr-9", "2024")).level).toBe("low");
  });

  test("lead time (median): under 1h / 7d / 182d (2021), under 1d / 7d / 30d (2023, 2024)", async () => {
    const expected: Array<[number, string, string]> = [
      [3_599, "elite", "elite"],
      [3_600, "high", "elite"],
      [DAY - 1, "high", "elite"],
      [DAY, "high", "high"],
      [7 * DAY - 1, "high", "high"],
      [7 * DAY, "medium", "medium"],
      [30 * DAY - 1, "medium", "medium"],
      [30 * DAY, "medium", "low"],
      [182 * DAY - 1, "medium", "low"],
      [182 * DAY, "low", "low"],
    ];
    for (const [seconds] of expected) {
      const service = `lead-${seconds}`;
      await h.service(service);
      // a first deployment listing its commit explicitly counts for lead time
      await h.deploy(service, { id: service, commit: service, at: iso(NOON), commits: [{ label: service, at: iso(NOON - seconds * 1000) }] });
    }
    for (const [seconds, in2021, in2024] of expected) {
      const found = [
        (await level(`lead-${seconds}`, "2021")).lead_time,
        (await level(`lead-${seconds}`, "2023")).lead_time,
        (await level(`lead-${seconds}`, "2024")).lead_time,
      ];
      expect([seconds, found[0]?.median_seconds, ...found.map((f) => f?.level)]).toEqual([seconds, seconds, in2021, in2024, in2024]);
    }
  });

  test("recovery (median): under 1h / 1d / 7d, from recovery time (2023, 2024) or time to restore (2021)", async () => {
    const expected: Array<[number, string]> = [
      [3_599, "elite"],
      [3_600, "high"],
      [DAY - 1, "high"],
      [DAY, "medium"],
      [7 * DAY - 1, "medium"],
      [7 * DAY, "low"],
    ];
    const window = { from: "2026-03-02T00:00:00Z", to: "2026-03-20T00:00:00Z" };
    for (const [seconds] of expected) {
      const service = `recovery-${seconds}`;
      await h.service(service);
      await h.deploy(service, { id: service, commit: service, at: iso(NOON) });
      await h.incident(service, { id: service, started: iso(NOON), resolved: iso(NOON + seconds * 1000) });
    }
    for (const [seconds, expectedLevel] of expected) {
      for (const benchmark of ["2021", "2023", "2024"]) {
        const m = await level(`recovery-${seconds}`, benchmark, window);
        expect([seconds, benchmark, m.recovery_time.median_seconds, m.time_to_restore.median_seconds, m.recovery_time.level]).toEqual([
          seconds,
          benchmark,
          seconds,
          seconds,
          expectedLevel,
        ]);
      }
    }
  });

  test("deployment frequency: median deploy days per week >= 5 / >= 1, else >= 1 deployment per 30 days (2021: per 30 / 182 days)", async () => {
    await h.service("five-days");
    await h.service("four-days");
    for (let day = 0; day < 5; day++) {
      await h.deploy("five-days", { id: `five-${day}`, commit: `five-${day}`, at: iso(NOON + day * DAY * 1000) });
      if (day < 4) await h.deploy("four-days", { id: `four-${day}`, commit: `four-${day}`, at: iso(NOON + day * DAY * 1000) });
    }
    await h.service("once");
    await h.deploy("once", { id: "once", commit: "once", at: iso(NOON) });
    const to = Date.parse("2026-03-07T00:00:00Z");
    const days = (n: number) => ({ from: iso(to - n * DAY * 1000), to: iso(to) });

    const cases: Array<[string, { from: string; to: string }, string, string]> = [
      ["five-days", week, "elite", "elite"],
      ["four-days", week, "high", "high"],
      ["once", week, "high", "high"], // one deploy day in the one week
      ["once", { from: "2026-03-01T00:00:00Z", to: "2026-03-15T00:00:00Z" }, "high", "medium"], // weeks 1 and 0: median 0.5
      ["once", days(30), "high", "medium"],
      ["once", days(31), "medium", "low"],
      ["once", days(182), "medium", "low"],
      ["once", days(183), "low", "low"],
    ];
    for (const [service, window, in2021, in2024] of cases) {
      const found = [
        (await level(service, "2021", window)).deployment_frequency.level,
        (await level(service, "2023", window)).deployment_frequency.level,
        (await level(service, "2024", window)).deployment_frequency.level,
      ];
      expect([service, window.from, ...found]).toEqual([service, window.from, in2021, in2024, in2024]);
    }
  });
});
