import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, evaluate, read } from "./gates-helpers.ts";

/** SPEC 7 v2: a team-limited token sees only the gates that apply to its team's services, or to all. */

let t: TestApp;
let paymentsReader: string;

const rules = [{ type: "open_incidents" }];

beforeAll(async () => {
  t = await createTestApp();
  await createService(t, "checkout", "payments");
  await createService(t, "search-api", "search");
  await createService(t, "orphan");
  await createGate(t, { slug: "by-payments-team", applies_to: { teams: ["payments"] }, rules });
  await createGate(t, { slug: "search-team", applies_to: { teams: ["search"] }, rules });
  await createGate(t, { slug: "everything", rules });
  await createGate(t, { slug: "by-checkout-service", applies_to: { services: ["checkout"] }, rules });
  await createGate(t, { slug: "search-service", applies_to: { services: ["search-api", "orphan"] }, rules });
  await createGate(t, { slug: "mixed", applies_to: { teams: ["search"], services: ["checkout"] }, rules });
  await createGate(t, { slug: "staging-only", applies_to: { environments: ["staging"] }, rules });
  paymentsReader = await t.token(["read"], "payments");
  await evaluate(t, "search-team", { service: "search-api" });
});
afterAll(() => t.close());

const slugs = (page: { items: Array<{ slug: string }> }) => page.items.map((gate) => gate.slug);

describe("gates as a team-limited token sees them", () => {
  test("the list holds its team's gates and the gates for every service, nothing else", async () => {
    const page = await read(t.request("/api/v1/gates", { token: paymentsReader }));
    expect(slugs(page)).toEqual(["by-payments-team", "everything", "by-checkout-service", "mixed", "staging-only"]);
    const all = await read(t.request("/api/v1/gates"));
    expect(slugs(all)).toHaveLength(7);
  });

  test("pages of the list skip what the token may not see", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ slug: string }>; next_cursor: string | null } = await read(
        t.request(`/api/v1/gates?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: paymentsReader }),
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...slugs(page));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(["by-payments-team", "everything", "by-checkout-service", "mixed", "staging-only"]);
  });

  test("another team's gate is not found, its evaluations too; its own are readable", async () => {
    for (const slug of ["search-team", "search-service"]) {
      expect((await t.request(`/api/v1/gates/${slug}`, { token: paymentsReader })).status).toBe(404);
      expect((await t.request(`/api/v1/gates/${slug}/evaluations`, { token: paymentsReader })).status).toBe(404);
    }
    for (const slug of ["by-payments-team", "everything", "mixed"]) {
      expect((await t.request(`/api/v1/gates/${slug}`, { token: paymentsReader })).status).toBe(200);
      expect((await t.request(`/api/v1/gates/${slug}/evaluations`, { token: paymentsReader })).status).toBe(200);
    }
    expect((await t.request("/api/v1/gates/search-team")).status).toBe(200);
  });
});

describe("gates as a team-limited pipeline asks them", () => {
  test("another team's gate is not found for /evaluate and /check either: its existence is not revealed", async () => {
    const pipeline = await t.token(["gate"], "payments");
    for (const action of ["evaluate", "check"]) {
      const hidden = await t.request(`/api/v1/gates/search-team/${action}`, { method: "POST", token: pipeline, json: { service: "checkout" } });
      expect(hidden.status, action).toBe(404);
      const unknown = await t.request(`/api/v1/gates/no-such-gate/${action}`, { method: "POST", token: pipeline, json: { service: "checkout" } });
      const unknownError = ((await unknown.json()) as { error: Record<string, unknown> }).error;
      expect(await hidden.json()).toEqual({ error: { ...unknownError, message: 'gate "search-team" not found' } });
    }
    const own = await t.request("/api/v1/gates/by-payments-team/evaluate", { method: "POST", token: pipeline, json: { service: "checkout" } });
    expect(own.status).toBe(200);
  });
});
