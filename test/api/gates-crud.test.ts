import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { read } from "./gates-helpers.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const spec = {
  slug: "production-safety",
  name: "Production safety",
  applies_to: { teams: ["payments"], environments: ["production"] },
  rules: [
    { type: "change_failure_rate", max: 0.15 },
    { type: "open_incidents", min_severity: "high", on_fail: "warn" },
    { type: "freeze", recurring: [{ cron: "0 18 * * 5", duration_seconds: 223_200, timezone: "Europe/Berlin" }] },
  ],
};

describe("POST /api/v1/gates", () => {
  test("creates a gate with every rule's defaults filled in", async () => {
    const response = await t.request("/api/v1/gates", { method: "POST", json: spec });
    expect(response.status).toBe(201);
    const gate = await read(response);
    expect(gate).toMatchObject({
      slug: "production-safety",
      name: "Production safety",
      mode: "enforce",
      applies_to: { teams: ["payments"], environments: ["production"] },
      rules: [
        { type: "change_failure_rate", on_fail: "block", max: 0.15, window_days: 30, min_deployments: 5 },
        { type: "open_incidents", on_fail: "warn", max: 0, min_severity: "high" },
        {
          type: "freeze",
          on_fail: "block",
          windows: [],
          recurring: [{ cron: "0 18 * * 5", duration_seconds: 223_200, timezone: "Europe/Berlin" }],
        },
      ],
      created_at: "2026-06-15T12:00:00.000Z",
    });
  });

  test("a second gate with the same slug is a conflict", async () => {
    const response = await t.request("/api/v1/gates", { method: "POST", json: spec });
    expect(response.status).toBe(409);
    expect((await read(response)).error.code).toBe("conflict");
  });

  test("validation names the bad rule and field", async () => {
    const response = await t.request("/api/v1/gates", {
      method: "POST",
      json: {
        slug: "bad",
        rules: [
          { type: "lead_time", max_seconds: 3600 },
          { type: "soak", min_seconds: 600, colour: "blue" },
          { type: "change_failure_rate", max: 1.5 },
          { type: "vibes" },
          { type: "prometheus", url: "http://prom:9090", query: "up" },
        ],
      },
    });
    expect(response.status).toBe(400);
    const body = await read(response);
    expect(body.error.code).toBe("invalid_request");
    const fields = body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(["rules.1.colour", "rules.2.max", "rules.3.type", "rules.4.max"]);
  });

  test("an empty applies_to.environments and a bad slug are named", async () => {
    const response = await t.request("/api/v1/gates", {
      method: "POST",
      json: { slug: "Not A Slug", applies_to: { environments: [] }, rules: [] },
    });
    expect(response.status).toBe(400);
    const fields = (await read(response)).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(["slug", "applies_to.environments"]);
  });

  test("only admin tokens may create gates", async () => {
    const gateToken = await t.token(["gate", "read"]);
    const forbidden = await t.request("/api/v1/gates", { method: "POST", json: { ...spec, slug: "x" }, token: gateToken });
    expect(forbidden.status).toBe(403);
    const anonymous = await t.request("/api/v1/gates", { method: "POST", json: { ...spec, slug: "x" }, token: null });
    expect(anonymous.status).toBe(401);
  });
});

describe("reading, updating and deleting gates", () => {
  test("list and get need the read scope", async () => {
    const reader = await t.token(["read"]);
    const list = await t.request("/api/v1/gates", { token: reader });
    expect(list.status).toBe(200);
    const page = await read(list);
    expect(page.items.map((g: { slug: string }) => g.slug)).toContain("production-safety");
    expect(page.next_cursor).toBeNull();
    expect((await t.request("/api/v1/gates/production-safety", { token: reader })).status).toBe(200);
    expect((await t.request("/api/v1/gates/nope", { token: reader })).status).toBe(404);
    const gateOnly = await t.token(["gate"]);
    expect((await t.request("/api/v1/gates", { token: gateOnly })).status).toBe(403);
  });

  test("pages with a cursor", async () => {
    for (const slug of ["page-a", "page-b", "page-c"]) {
      await t.request("/api/v1/gates", { method: "POST", json: { slug, rules: [] } });
    }
    const first = await read(t.request("/api/v1/gates?limit=2"));
    expect(first.items).toHaveLength(2);
    const second = await read(t.request(`/api/v1/gates?limit=2&cursor=${first.next_cursor}`));
    expect(second.items.map((g: { slug: string }) => g.slug)).toEqual(["page-b", "page-c"]);
    expect((await t.request("/api/v1/gates?cursor=garbage")).status).toBe(400);
  });

  test("PATCH replaces the fields given and keeps the rest", async () => {
    t.setNow("2026-06-16T08:00:00Z");
    const response = await t.request("/api/v1/gates/production-safety", {
      method: "PATCH",
      json: { mode: "dry_run", rules: [{ type: "lead_time", max_seconds: 86_400 }] },
    });
    expect(response.status).toBe(200);
    expect(await read(response)).toMatchObject({
      name: "Production safety",
      mode: "dry_run",
      rules: [{ type: "lead_time", on_fail: "block", max_seconds: 86_400, window_days: 30 }],
      updated_at: "2026-06-16T08:00:00.000Z",
    });
    const invalid = await t.request("/api/v1/gates/production-safety", {
      method: "PATCH",
      json: { rules: [{ type: "lead_time", max_seconds: 86_400 }, { type: "deployment_frequency" }] },
    });
    expect((await read(invalid)).error.details.map((d: { field: string }) => d.field)).toEqual(["rules.1.min_per_week"]);
    expect((await t.request("/api/v1/gates/production-safety", { method: "PATCH", json: {} })).status).toBe(400);
    expect((await t.request("/api/v1/gates/ghost", { method: "PATCH", json: { mode: "enforce" } })).status).toBe(404);
  });

  test("DELETE removes the gate", async () => {
    const reader = await t.token(["read"]);
    expect((await t.request("/api/v1/gates/page-a", { method: "DELETE", token: reader })).status).toBe(403);
    expect((await t.request("/api/v1/gates/page-a", { method: "DELETE" })).status).toBe(204);
    expect((await t.request("/api/v1/gates/page-a")).status).toBe(404);
    expect((await t.request("/api/v1/gates/page-a", { method: "DELETE" })).status).toBe(404);
  });

  test("the gates API is in the OpenAPI document", async () => {
    const document = await read(t.request("/api/v1/openapi.json", { token: null }));
    for (const path of [
      "/api/v1/gates",
      "/api/v1/gates/{slug}",
      "/api/v1/gates/{slug}/evaluate",
      "/api/v1/gates/{slug}/check",
      "/api/v1/gates/{slug}/rollback",
      "/api/v1/gates/{slug}/overrides",
      "/api/v1/gates/{slug}/evaluations",
    ]) {
      expect(document.paths[path], path).toBeDefined();
    }
  });
});
