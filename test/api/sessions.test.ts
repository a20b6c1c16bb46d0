import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ADMIN_TOKEN, type TestApp, createTestApp } from "../support/app.ts";
import { read } from "./gates-helpers.ts";

// The dashboard's cookie holds a session, not the API token: revocable on its own,
// ended by signing out, and dead with its token.

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function startSession(token: string) {
  const response = await t.request("/api/v1/sessions", { method: "POST", token });
  expect(response.status).toBe(201);
  return (await read(response)) as { session: string; expires_at: string; scopes: string[]; name: string };
}

const status = async (token: string, path = "/api/v1/services") => (await t.request(path, { token })).status;

describe("dashboard sessions", () => {
  test("a session stands for its token, and is not the token", async () => {
    const token = await t.token(["read"]);
    const started = await startSession(token);
    expect(started.session).toMatch(/^sls_/);
    expect(started.session).not.toContain(token);
    expect(started.scopes).toEqual(["read"]);
    expect(await status(started.session)).toBe(200);
    // The scopes are the token's: a read session cannot administer.
    expect(await status(started.session, "/api/v1/tokens")).toBe(403);
  });

  test("ending a session refuses its secret from then on; the token itself still works", async () => {
    const token = await t.token(["read"]);
    const { session } = await startSession(token);
    const ended = await t.request("/api/v1/sessions/current", { method: "DELETE", token: session });
    expect(ended.status).toBe(204);
    expect(await status(session)).toBe(401);
    expect(await status(token)).toBe(200);
  });

  test("revoking the token ends its sessions", async () => {
    const created = await read(t.request("/api/v1/tokens", { method: "POST", json: { name: "revoked later", scopes: ["read"] } }));
    const { session } = await startSession(created.token);
    expect(await status(session)).toBe(200);
    expect((await t.request(`/api/v1/tokens/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await status(session)).toBe(401);
  });

  test("a session expires after seven days", async () => {
    const token = await t.token(["read"]);
    const { session, expires_at } = await startSession(token);
    expect(Date.parse(expires_at) - Date.parse("2026-06-15T12:00:00Z")).toBe(7 * 86_400_000);
    t.setNow("2026-06-22T12:00:01Z");
    try {
      expect(await status(session)).toBe(401);
    } finally {
      t.setNow("2026-06-15T12:00:00Z");
    }
  });

  test("SLUICE_ADMIN_TOKEN may start one; a session cannot start another; an API token cannot be 'ended'", async () => {
    const { session, scopes } = await startSession(ADMIN_TOKEN);
    expect(scopes).toEqual(["admin"]);
    expect(await status(session, "/api/v1/tokens")).toBe(200);
    expect((await t.request("/api/v1/sessions", { method: "POST", token: session })).status).toBe(403);
    expect((await t.request("/api/v1/sessions/current", { method: "DELETE", token: ADMIN_TOKEN })).status).toBe(400);
  });

  test("without credentials: 401", async () => {
    expect((await t.request("/api/v1/sessions", { method: "POST", token: null })).status).toBe(401);
    expect((await t.request("/api/v1/sessions/current", { method: "DELETE", token: "sls_made-up" })).status).toBe(401);
  });
});
