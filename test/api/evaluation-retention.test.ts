import { gateEvaluations } from "@sluice/db";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyEvaluationRetention } from "../../ingest/src/gates/retention.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, evaluate, read } from "./gates-helpers.ts";

// SPEC 7 v2: gate evaluations are kept for SLUICE_EVALUATION_RETENTION_DAYS (default 90), with a
// daily roll-up after that.

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ now: "2026-01-01T09:00:00Z" });
  await createService(t, "checkout", "payments");
  await createService(t, "search", "discovery");
  await createGate(t, { slug: "guard", rules: [{ type: "open_incidents" }] });
  await createGate(t, { slug: "frozen", rules: [{ type: "freeze", windows: [{ start: "2025-01-01T00:00:00Z", end: "2027-01-01T00:00:00Z" }] }] });
});
afterAll(() => t.close());

async function evaluateAt(iso: string, gate: string, service: string) {
  t.setNow(iso);
  await evaluate(t, gate, { service });
}

describe("evaluations past their retention", () => {
  test("are rolled up into daily counts per service, environment and decision, and deleted; newer ones stay", async () => {
    await evaluateAt("2026-01-01T09:00:00Z", "guard", "checkout");
    await evaluateAt("2026-01-01T23:59:59Z", "guard", "checkout");
    await evaluateAt("2026-01-02T00:00:00Z", "guard", "checkout");
    await evaluateAt("2026-01-01T10:00:00Z", "guard", "search");
    await evaluateAt("2026-01-01T11:00:00Z", "frozen", "checkout");
    await evaluateAt("2026-03-30T12:00:00Z", "guard", "checkout");

    const now = new Date("2026-04-03T00:00:00Z");
    expect(await applyEvaluationRetention({ database: t.database, days: 90, now })).toBe(5);
    const left = await t.database.db.select({ evaluatedAt: gateEvaluations.evaluatedAt }).from(gateEvaluations);
    expect(left.map((row) => row.evaluatedAt.toISOString())).toEqual(["2026-03-30T12:00:00.000Z"]);

    const days = await read(t.request("/api/v1/gates/guard/evaluations/daily"));
    expect(days.items).toHaveLength(3);
    expect(days.items).toEqual(
      expect.arrayContaining([
        { day: "2026-01-01", service: "checkout", environment: "production", decision: "pass", evaluations: 2, allowed: 2 },
        { day: "2026-01-02", service: "checkout", environment: "production", decision: "pass", evaluations: 1, allowed: 1 },
        { day: "2026-01-01", service: "search", environment: "production", decision: "pass", evaluations: 1, allowed: 1 },
      ]),
    );
    const frozen = await read(t.request("/api/v1/gates/frozen/evaluations/daily"));
    expect(frozen.items).toEqual([{ day: "2026-01-01", service: "checkout", environment: "production", decision: "pending", evaluations: 1, allowed: 0 }]);
    // What stays is still listed whole.
    expect((await read(t.request("/api/v1/gates/guard/evaluations"))).items).toHaveLength(1);
  });

  test("a later run adds to the same day's counts; 0 days keeps everything", async () => {
    await evaluateAt("2026-01-01T15:00:00Z", "guard", "checkout");
    expect(await applyEvaluationRetention({ database: t.database, days: 0, now: new Date("2026-06-01T00:00:00Z") })).toBe(0);
    expect(await applyEvaluationRetention({ database: t.database, days: 90, now: new Date("2026-04-03T00:00:00Z") })).toBe(1);
    const days = await read(t.request("/api/v1/gates/guard/evaluations/daily?service=checkout"));
    expect(days.items.find((d: { day: string }) => d.day === "2026-01-01")).toMatchObject({ evaluations: 3, allowed: 3 });
  });

  test("a team-limited token sees only its team's services' counts", async () => {
    const discovery = await t.token(["read"], "discovery");
    const days = await read(t.request("/api/v1/gates/guard/evaluations/daily", { token: discovery }));
    expect(days.items.map((d: { service: string }) => d.service)).toEqual(["search"]);
  });
});
