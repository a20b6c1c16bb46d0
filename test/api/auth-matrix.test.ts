import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

type Scope = "read" | "ingest" | "gate" | "admin";

interface Route {
  method: string;
  path: string;
  scope: Scope;
  /** The route names a service or team of "payments": a token limited to another team gets 403. */
  team?: boolean;
  body?: unknown;
}

const sha = "c".repeat(40);

// Every route of the API with the scope it needs (SPEC 5 and 7). Bodies are valid enough to
// get past validation where that matters; what is checked is only who may call.
const ROUTES: Route[] = [
  { method: "GET", path: "/api/v1/tokens", scope: "admin" },
  { method: "POST", path: "/api/v1/tokens", scope: "admin", body: { name: "x", scopes: ["read"] } },
  { method: "DELETE", path: "/api/v1/tokens/999999", scope: "admin" },
  { method: "GET", path: "/api/v1/teams", scope: "read" },
  { method: "POST", path: "/api/v1/teams", scope: "admin", body: { slug: "t-new", name: "New" } },
  { method: "GET", path: "/api/v1/teams/payments", scope: "read", team: true },
  { method: "PATCH", path: "/api/v1/teams/payments", scope: "admin", body: { name: "Payments" } },
  { method: "GET", path: "/api/v1/services", scope: "read" },
  { method: "POST", path: "/api/v1/services", scope: "admin", body: { slug: "s-new" } },
  { method: "GET", path: "/api/v1/services/checkout", scope: "read", team: true },
  { method: "PATCH", path: "/api/v1/services/checkout", scope: "admin", body: { name: "Checkout" } },
  { method: "GET", path: "/api/v1/integrations", scope: "admin" },
  { method: "POST", path: "/api/v1/integrations", scope: "admin", body: { source: "github" } },
  { method: "PATCH", path: "/api/v1/integrations/nope", scope: "admin", body: { name: "x" } },
  { method: "DELETE", path: "/api/v1/integrations/nope", scope: "admin" },
  { method: "POST", path: "/api/v1/deployments", scope: "ingest", team: true, body: { service: "checkout", environment: "staging", sha } },
  { method: "PATCH", path: "/api/v1/deployments/1", scope: "ingest", team: true, body: { failed: false } },
  { method: "GET", path: "/api/v1/deployments", scope: "read" },
  { method: "GET", path: "/api/v1/deployments?service=checkout", scope: "read", team: true },
  { method: "GET", path: "/api/v1/deployments/1", scope: "read", team: true },
  { method: "POST", path: "/api/v1/changes", scope: "ingest", team: true, body: { repository: "octo/checkout", sha, committed_at: "2026-06-01T00:00:00Z" } },
  { method: "GET", path: "/api/v1/changes", scope: "read" },
  { method: "GET", path: "/api/v1/changes?service=checkout", scope: "read", team: true },
  { method: "POST", path: "/api/v1/incidents", scope: "ingest", team: true, body: { service: "checkout", external_id: "i", started_at: "2026-06-01T00:00:00Z" } },
  { method: "GET", path: "/api/v1/incidents", scope: "read" },
  { method: "GET", path: "/api/v1/incidents?service=checkout", scope: "read", team: true },
  { method: "GET", path: "/api/v1/metrics", scope: "read" },
  { method: "GET", path: "/api/v1/metrics?service=checkout", scope: "read", team: true },
  { method: "GET", path: "/api/v1/metrics?team=payments", scope: "read", team: true },
  { method: "GET", path: "/api/v1/metrics/timeseries?service=checkout", scope: "read", team: true },
  { method: "GET", path: "/api/v1/metrics/breakdown?group_by=service", scope: "read" },
  { method: "GET", path: "/api/v1/metrics/breakdown?group_by=service&team=payments", scope: "read", team: true },
  { method: "GET", path: "/api/v1/reports/dora?format=json", scope: "read" },
  { method: "GET", path: "/api/v1/reports/dora?format=json&team=payments", scope: "read", team: true },
  { method: "GET", path: "/api/v1/deliveries", scope: "admin" },
  { method: "POST", path: "/api/v1/admin/reprocess", scope: "admin" },
  { method: "GET", path: "/api/v1/gates", scope: "read" },
  { method: "POST", path: "/api/v1/gates", scope: "admin", body: { slug: "g-new", name: "New", applies_to: { environments: ["production"] }, rules: [] } },
  { method: "GET", path: "/api/v1/gates/prod", scope: "read" },
  { method: "PATCH", path: "/api/v1/gates/prod", scope: "admin", body: { name: "Production" } },
  { method: "POST", path: "/api/v1/gates/prod/evaluate", scope: "gate", team: true, body: { service: "checkout" } },
  { method: "GET", path: "/api/v1/gates/prod/evaluate?service=checkout", scope: "gate", team: true },
  { method: "POST", path: "/api/v1/gates/prod/check", scope: "gate", team: true, body: { service: "checkout" } },
  { method: "POST", path: "/api/v1/gates/prod/rollback", scope: "gate", team: true, body: { service: "checkout" } },
  { method: "POST", path: "/api/v1/gates/prod/overrides", scope: "admin", body: { service: "checkout", reason: "x", expires_at: "2030-01-01T00:00:00Z" } },
  { method: "GET", path: "/api/v1/gates/prod/overrides", scope: "admin" },
  { method: "GET", path: "/api/v1/gates/prod/evaluations", scope: "read" },
];

describe("every route enforces its scope and team (auth matrix)", () => {
  let t: TestApp;
  const tokens = {} as Record<Scope | "otherTeam" | "revoked", string>;

  beforeAll(async () => {
    t = await createTestApp();
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } });
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "search", name: "Search" } });
    await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout", team: "payments", repositories: [{ name: "octo/checkout" }] } });
    await t.request("/api/v1/deployments", { method: "POST", json: { service: "checkout", environment: "production", sha } });
    const gate = await t.request("/api/v1/gates", {
      method: "POST",
      json: { slug: "prod", name: "Prod", applies_to: { environments: ["production"] }, rules: [{ type: "open_incidents", max: 0 }] },
    });
    expect(gate.status).toBe(201);
    for (const scope of ["read", "ingest", "gate"] as const) tokens[scope] = await t.token([scope]);
    tokens.admin = await t.token(["admin"]);
    tokens.otherTeam = await t.token(["read", "ingest", "gate"], "search");
    tokens.revoked = await t.token(["read", "ingest", "gate"]);
    const list = (await (await t.request("/api/v1/tokens")).json()) as { items: Array<{ id: number; prefix: string }> };
    const revokedId = list.items.find((item) => item.prefix === tokens.revoked.slice(0, 8))?.id;
    expect((await t.request(`/api/v1/tokens/${revokedId}`, { method: "DELETE" })).status).toBe(204);
  });
  afterAll(() => t.close());

  /** The status, or "refused" for an auth refusal (403 with code forbidden; /check's 403 is a verdict). */
  const call = async (route: Route, token: string | null) => {
    const response = await t.request(route.path, { method: route.method, token, ...(route.body === undefined ? {} : { json: route.body }) });
    const body = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
    if (response.status === 403 && body.error?.code === "forbidden") return "refused";
    if (response.status === 401) return 401;
    return response.status;
  };

  for (const route of ROUTES) {
    test(`${route.method} ${route.path} needs ${route.scope}${route.team ? " and the team" : ""}`, async () => {
      expect(await call(route, null)).toBe(401);
      expect(await call(route, "slc_this-is-not-a-token-000000000000")).toBe(401);
      expect(await call(route, tokens.revoked)).toBe(401);
      for (const scope of ["read", "ingest", "gate", "admin"] as const) {
        const outcome = await call(route, tokens[scope]);
        const allowed = scope === route.scope || scope === "admin";
        if (allowed) expect([401, "refused"], `${scope} should be allowed`).not.toContain(outcome);
        else expect(outcome, `${scope} should be refused`).toBe("refused");
      }
      if (route.team) expect(await call(route, tokens.otherTeam)).toBe("refused");
    });
  }

  test("after all of that, no token or secret appears in the logs", async () => {
    const created = (await (await t.request("/api/v1/integrations", { method: "POST", json: { source: "gitlab" } })).json()) as { secret: string; url: string };
    await t.app.request(created.url, { method: "POST", headers: { "x-gitlab-token": created.secret, "x-gitlab-event": "Push Hook" }, body: "{}" });
    const logs = t.logText();
    for (const secret of [...Object.values(tokens), created.secret, "test-admin-token-0123456789"]) expect(logs).not.toContain(secret);
  });
});
