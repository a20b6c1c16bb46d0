import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

describe("tokens", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } });
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("creating a token shows its secret once; listing never shows it", async () => {
      const created = await t.request("/api/v1/tokens", {
        method: "POST",
        json: { name: "ci", scopes: ["ingest", "read"], team: "payments" },
      });
      expect(created.status).toBe(201);
      const body = (await created.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ name: "ci", scopes: ["ingest", "read"], team: "payments" });
      expect(body.token).toMatch(/^slc_[\w-]{32}$/);

      const list = (await (await t.request("/api/v1/tokens")).json()) as { items: Array<Record<string, unknown>> };
      const listed = list.items.find((item) => item.id === body.id);
      expect(listed).toMatchObject({ name: "ci", prefix: (body.token as string).slice(0, 8), revoked_at: null });
      expect(JSON.stringify(list)).not.toContain(body.token as string);
    });

    test("a created token works, and revoking it takes effect on the next request", async () => {
      const secret = await t.token(["read"]);
      expect((await t.request("/api/v1/services", { token: secret })).status).toBe(200);
      const list = (await (await t.request("/api/v1/tokens")).json()) as { items: Array<{ id: number; prefix: string }> };
      const id = list.items.find((item) => item.prefix === secret.slice(0, 8))?.id;
      expect((await t.request(`/api/v1/tokens/${id}`, { method: "DELETE" })).status).toBe(204);
      expect((await t.request("/api/v1/services", { token: secret })).status).toBe(401);
    });

    test("the secret is stored only as a hash", async () => {
      const secret = await t.token(["read"]);
      const stored = await t.database.db.query.apiTokens.findMany();
      expect(JSON.stringify(stored)).not.toContain(secret);
    });

    test("tokens and secrets never appear in the logs", async () => {
      const secret = await t.token(["ingest"]);
      await t.request("/api/v1/services", { token: secret });
      await t.request("/api/v1/services", { token: `${secret}x` });
      expect(t.logText()).not.toContain(secret);
      expect(t.logText()).not.toContain("test-admin-token-0123456789");
    });
  });

  describe("bad input", () => {
    test.each([
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["root"] }, "scopes.0"],
      [{ name: "", scopes: ["read"] }, "name"],
      [{ name: "x", scopes: ["read", "read"] }, "scopes"],
      [{ name: "x", scopes: ["read"], colour: "red" }, "colour"],
      [{ name: "x", scopes: ["admin"], team: "payments" }, "team"],
    ])("%j names the bad field %s", async (json, field) => {
      const response = await t.request("/api/v1/tokens", { method: "POST", json });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { details: Array<{ field: string }> } };
      expect(body.error.details.map((d) => d.field)).toContain(field);
    });

    test("an unknown team is a 404 and creates nothing", async () => {
      const before = (await t.database.db.query.apiTokens.findMany()).length;
      const response = await t.request("/api/v1/tokens", { method: "POST", json: { name: "x", scopes: ["read"], team: "nope" } });
      expect(response.status).toBe(404);
      expect((await t.database.db.query.apiTokens.findMany()).length).toBe(before);
    });

    test("revoking an unknown token is a 404", async () => {
      expect((await t.request("/api/v1/tokens/999999", { method: "DELETE" })).status).toBe(404);
    });
  });

  test("any valid token can ask what it is; nobody else can", async () => {
    const limited = await t.token(["ingest"], "payments");
    expect(await (await t.request("/api/v1/tokens/self", { token: limited })).json()).toMatchObject({ scopes: ["ingest"], team: "payments", name: "test ingest" });
    expect(await (await t.request("/api/v1/tokens/self")).json()).toEqual({ id: null, name: "SLUICE_ADMIN_TOKEN", scopes: ["admin"], team: null });
    expect((await t.request("/api/v1/tokens/self", { token: null })).status).toBe(401);
  });

  describe("security", () => {
    test("only admin may manage tokens", async () => {
      const reader = await t.token(["read", "ingest", "gate"]);
      expect((await t.request("/api/v1/tokens", { token: reader })).status).toBe(403);
      expect((await t.request("/api/v1/tokens", { token: null })).status).toBe(401);
      expect((await t.request("/api/v1/tokens", { token: "slc_not-a-real-token-at-all-000000" })).status).toBe(401);
      const unauthorized = await t.request("/api/v1/tokens", { token: null });
      expect(unauthorized.headers.get("www-authenticate")).toContain("Bearer");
    });
  });
});
