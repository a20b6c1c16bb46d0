import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { history } from "../support/history.ts";

// docs/metrics.md "Deployment frequency": the same history and numbers.

describe("GET /api/v1/metrics: deployment frequency, windows, timeseries, breakdown", () => {
  let t: TestApp;
  let h: ReturnType<typeof history>;
  const window = { from: "2026-03-01T00:00:00Z", to: "2026-03-15T00:00:00Z" };

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-03-15T00:00:00Z" });
    h = history(t);
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } });
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "search", name: "Search" } });
    await h.service("checkout", { team: "payments" });
    await h.service("indexer", { team: "search" });
    await h.service("legacy");
    const deploy = (id: string, at: string, extra: { environment?: string; status?: string } = {}) =>
      h.deploy("checkout", { id, commit: id, at, ...extra });
    await deploy("d1", "2026-03-01T00:00:00Z"); // at `from`: inside
    await deploy("d2", "2026-03-02T09:00:00Z");
    await deploy("d3", "2026-03-02T15:00:00Z"); // same day as d2: one deploy day
    await deploy("d4", "2026-03-03T10:00:00Z", { environment: "staging" }); // not production
    await deploy("d5", "2026-03-04T10:00:00Z", { status: "failure" }); // not a success
    await deploy("d6", "2026-03-09T01:30:00+02:00"); // 2026-03-08T23:30Z: a deploy day of March 8 (UTC)
    await deploy("d7", "2026-03-15T00:00:00Z"); // at `to`: outside
    await deploy("d8", "2026-03-15T01:00:00+02:00"); // 2026-03-14T23:00Z: inside
    await deploy("d9", "2026-03-05T12:00:00Z");
    await h.deploy("indexer", { id: "i1", commit: "i1", at: "2026-03-10T08:00:00Z" });
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("counts production successes finished in [from, to), per day, per week and deploy days (UTC dates)", async () => {
      const m = await h.metrics({ service: "checkout", ...window });
      expect(m.scope).toEqual({ team: null, service: "checkout", environment: null });
      expect(m.window).toEqual({ from: "2026-03-01T00:00:00.000Z", to: "2026-03-15T00:00:00.000Z", days: 14 });
      expect(m.benchmark).toBe("2024");
      // d1 d2 d3 d6 d8 d9; weeks ending at `to`: [03-08, 03-15) has 2 deploy days, [03-01, 03-08) has 3
      expect(m.deployment_frequency).toEqual({
        deployments: 6,
        per_day: 0.4286,
        per_week: 3,
        deploy_days: 5,
        median_deploy_days_per_week: 2.5,
        level: "high",
      });
    });

    test("the default window is the 30 days ending at now; whole weeks end at `to`, the leftover is ignored", async () => {
      const m = await h.metrics({ service: "checkout" });
      expect(m.window).toEqual({ from: "2026-02-13T00:00:00.000Z", to: "2026-03-15T00:00:00.000Z", days: 30 });
      // weeks [03-08,03-15)=2, [03-01,03-08)=3, [02-22,03-01)=0, [02-15,02-22)=0 -> median 1; [02-13,02-15) ignored
      expect(m.deployment_frequency).toEqual({
        deployments: 6,
        per_day: 0.2,
        per_week: 1.4,
        deploy_days: 5,
        median_deploy_days_per_week: 1,
        level: "high",
      });
    });

    test("a window under 7 days is one period; a 10-day window drops its first 3 days from the weekly median", async () => {
      const short = await h.metrics({ service: "checkout", from: "2026-03-01T00:00:00Z", to: "2026-03-06T00:00:00Z" });
      expect(short.deployment_frequency).toMatchObject({ deployments: 4, deploy_days: 3, median_deploy_days_per_week: 3 });
      const ten = await h.metrics({ service: "checkout", from: "2026-03-05T00:00:00Z", to: "2026-03-15T00:00:00Z" });
      expect(ten.deployment_frequency).toMatchObject({ deployments: 3, deploy_days: 3, median_deploy_days_per_week: 2 });
    });

    test("timezone offsets in the query are read as the instants they name", async () => {
      const m = await h.metrics({ service: "checkout", from: "2026-03-01T01:00:00+01:00", to: "2026-03-15T02:00:00+02:00" });
      expect(m.window).toMatchObject({ from: "2026-03-01T00:00:00.000Z", to: "2026-03-15T00:00:00.000Z" });
      expect(m.deployment_frequency.deployments).toBe(6);
    });

    test("an empty window gives counts of 0 and nulls, never NaN", async () => {
      const m = await h.metrics({ service: "checkout", from: "2026-01-01T00:00:00Z", to: "2026-01-31T00:00:00Z" });
      expect(m.deployment_frequency).toEqual({
        deployments: 0,
        per_day: 0,
        per_week: 0,
        deploy_days: 0,
        median_deploy_days_per_week: 0,
        level: null,
      });
      expect(m.lead_time).toMatchObject({ changes: 0, median_seconds: null, p75_seconds: null, p90_seconds: null, level: null });
      expect(m.change_failure_rate).toEqual({ deployments: 0, failed: 0, rate: null, level: null });
      expect(m.recovery_time).toEqual({ failures: 0, recovered: 0, median_seconds: null, p90_seconds: null, level: null });
      expect(m.time_to_restore).toEqual({ incidents: 0, median_seconds: null, p90_seconds: null, level: null });
      expect(m.rework_rate).toEqual({ deployments: 0, rework: 0, rate: null });
      expect(m.level).toBeNull();
    });

    test("the organisation and a team add up their services", async () => {
      expect((await h.metrics(window)).deployment_frequency.deployments).toBe(7);
      const team = await h.metrics({ team: "search", ...window });
      expect(team.scope.team).toBe("search");
      expect(team.deployment_frequency.deployments).toBe(1);
      const production = await h.metrics({ service: "checkout", environment: "staging", ...window });
      expect(production.deployment_frequency.deployments).toBe(0);
    });
  });

  describe("timeseries", () => {
    type Series = { interval: string; buckets: Array<{ start: string; window: { to: string }; deployment_frequency: { deployments: number } }> };
    const series = async (params: Record<string, string>) => {
      const response = await t.request(`/api/v1/metrics/timeseries?${new URLSearchParams(params)}`);
      expect(response.status).toBe(200);
      return (await response.json()) as Series;
    };

    test("weekly buckets tile the window from `from` on and add up to it", async () => {
      const s = await series({ service: "checkout", interval: "week", ...window });
      expect(s.interval).toBe("week");
      expect(s.buckets.map((b) => [b.start, b.deployment_frequency.deployments])).toEqual([
        ["2026-03-01T00:00:00.000Z", 4],
        ["2026-03-08T00:00:00.000Z", 2],
      ]);
    });

    test("the last bucket may be partial", async () => {
      const s = await series({ service: "checkout", interval: "day", from: "2026-03-01T00:00:00Z", to: "2026-03-03T12:00:00Z" });
      expect(s.buckets.map((b) => [b.start, b.window.to, b.deployment_frequency.deployments])).toEqual([
        ["2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", 1],
        ["2026-03-02T00:00:00.000Z", "2026-03-03T00:00:00.000Z", 2],
        ["2026-03-03T00:00:00.000Z", "2026-03-03T12:00:00.000Z", 0],
      ]);
    });

    test("monthly buckets are calendar months counted from `from` (Jan 31, Feb 28, Mar 31)", async () => {
      const s = await series({ service: "checkout", interval: "month", from: "2026-01-31T00:00:00Z", to: "2026-04-15T00:00:00Z" });
      expect(s.buckets.map((b) => [b.start, b.deployment_frequency.deployments])).toEqual([
        ["2026-01-31T00:00:00.000Z", 0],
        ["2026-02-28T00:00:00.000Z", 7], // d7 (March 15) is inside this bucket
        ["2026-03-31T00:00:00.000Z", 0],
      ]);
    });
  });

  describe("breakdown", () => {
    type Items = { group_by: string; items: Array<{ scope: { team: string | null; service: string | null }; deployment_frequency: { deployments: number } }> };
    const breakdown = async (params: Record<string, string>, token?: string) => {
      const response = await t.request(`/api/v1/metrics/breakdown?${new URLSearchParams(params)}`, token ? { token } : {});
      expect(response.status).toBe(200);
      return (await response.json()) as Items;
    };

    test("by team lists every team, then the services without one", async () => {
      const b = await breakdown({ group_by: "team", ...window });
      expect(b.items.map((i) => [i.scope.team, i.scope.service, i.deployment_frequency.deployments])).toEqual([
        ["payments", null, 6],
        ["search", null, 1],
        [null, null, 0],
      ]);
    });

    test("by service lists each service with its team", async () => {
      const b = await breakdown({ group_by: "service", ...window });
      expect(b.items.map((i) => [i.scope.team, i.scope.service, i.deployment_frequency.deployments])).toEqual([
        ["payments", "checkout", 6],
        ["search", "indexer", 1],
        [null, "legacy", 0],
      ]);
    });
  });

  describe("bad input", () => {
    const bad = async (path: string, field: string) => {
      const response = await t.request(path);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; details: Array<{ field: string }> } };
      expect(body.error.code).toBe("invalid_request");
      expect(body.error.details.map((d) => d.field)).toContain(field);
    };

    test("an unparseable, empty or inverted window is a 400 naming the field", async () => {
      await bad("/api/v1/metrics?from=yesterday", "from");
      await bad("/api/v1/metrics?to=2026-13-01T00:00:00Z", "to");
      await bad("/api/v1/metrics?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from");
      await bad("/api/v1/metrics?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "from");
    });

    test("a window longer than 3 years is a 400; exactly 3 years is fine", async () => {
      await bad("/api/v1/metrics?from=2023-03-14T23:59:59Z&to=2026-03-15T00:00:00Z", "from");
      expect((await t.request("/api/v1/metrics?from=2023-03-15T00:00:00Z&to=2026-03-15T00:00:00Z")).status).toBe(200);
      expect((await t.request("/api/v1/metrics/timeseries?interval=day&from=2023-03-15T00:00:00Z&to=2026-03-15T00:00:00Z")).status).toBe(200);
    });

    test("unknown benchmark, interval or group_by is a 400; an unknown service a 404", async () => {
      await bad("/api/v1/metrics?benchmark=2022", "benchmark");
      await bad("/api/v1/metrics/timeseries?interval=year", "interval");
      await bad("/api/v1/metrics/breakdown", "group_by");
      expect((await t.request("/api/v1/metrics?service=nope")).status).toBe(404);
    });
  });

  describe("security", () => {
    test("no token is a 401; a token without read is a 403", async () => {
      expect((await t.request("/api/v1/metrics", { token: null })).status).toBe(401);
      const ingest = await t.token(["ingest"]);
      for (const path of ["/api/v1/metrics", "/api/v1/metrics/timeseries", "/api/v1/metrics/breakdown?group_by=team"]) {
        expect((await t.request(path, { token: ingest })).status).toBe(403);
      }
    });

    test("a team-limited token sees only its team's services", async () => {
      const token = await t.token(["read"], "search");
      expect((await h.metrics(window, token)).deployment_frequency.deployments).toBe(1);
      expect((await t.request("/api/v1/metrics?team=payments", { token })).status).toBe(403);
      expect((await t.request("/api/v1/metrics?service=checkout", { token })).status).toBe(403);
      const b = (await (await t.request(`/api/v1/metrics/breakdown?group_by=team`, { token })).json()) as {
        items: Array<{ scope: { team: string | null } }>;
      };
      expect(b.items.map((i) => i.scope.team)).toEqual(["search"]);
      const s = (await (await t.request(`/api/v1/metrics/breakdown?group_by=service`, { token })).json()) as {
        items: Array<{ scope: { service: string | null } }>;
      };
      expect(s.items.map((i) => i.scope.service)).toEqual(["indexer"]);
    });
  });
});
