import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

describe("integrations", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  test("creating one returns its webhook URL and secret once", async () => {
    const response = await t.request("/api/v1/integrations", { method: "POST", json: { source: "github", name: "octo org" } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; url: string; secret: string; source: string };
    expect(body.url).toBe(`/webhooks/github/${body.id}`);
    expect(body.secret.length).toBeGreaterThanOrEqual(32);
    const list = await (await t.request("/api/v1/integrations")).text();
    expect(list).toContain(body.id);
    expect(list).not.toContain(body.secret);
  });

  test("a given secret is kept; alertmanager takes a service label setting", async () => {
    const response = await t.request("/api/v1/integrations", {
      method: "POST",
      json: { source: "alertmanager", secret: "a-shared-secret-of-length", settings: { service_label: "app" } },
    });
    expect(await response.json()).toMatchObject({ secret: "a-shared-secret-of-length", settings: { service_label: "app" } });
  });

  test("bad input is refused with the field named", async () => {
    for (const [json, field] of [
      [{ source: "svn" }, "source"],
      [{ source: "github", secret: "short" }, "secret"],
      [{ source: "github", settings: { colour: 1 } }, "settings.colour"],
    ] as const) {
      const response = await t.request("/api/v1/integrations", { method: "POST", json });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { details: Array<{ field: string }> } };
      expect(body.error.details.map((d) => d.field)).toContain(field);
    }
  });

  test("secrets can be replaced (a rotation keeps old and new active), never shown again", async () => {
    const { id } = (await (await t.request("/api/v1/integrations", { method: "POST", json: { source: "pagerduty" } })).json()) as { id: string };
    const patched = await t.request(`/api/v1/integrations/${id}`, {
      method: "PATCH",
      json: { name: "PagerDuty prod", secrets: ["old-secret-0123456789", "new-secret-0123456789"] },
    });
    expect(patched.status).toBe(200);
    const text = await patched.text();
    expect(text).toContain("PagerDuty prod");
    expect(text).not.toContain("secret-0123456789");
    expect((await t.request(`/api/v1/integrations/${id}`, { method: "PATCH", json: {} })).status).toBe(400);
    expect((await t.request(`/api/v1/integrations/${id}`, { method: "PATCH", json: { secrets: ["short"] } })).status).toBe(400);
    expect((await t.request("/api/v1/integrations/nope", { method: "PATCH", json: { name: "x" } })).status).toBe(404);
  });

  test("deleting works once, then is a 404", async () => {
    const { id } = (await (await t.request("/api/v1/integrations", { method: "POST", json: { source: "gitlab" } })).json()) as { id: string };
    expect((await t.request(`/api/v1/integrations/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await t.request(`/api/v1/integrations/${id}`, { method: "DELETE" })).status).toBe(404);
  });

  test("only admin may see or manage integrations", async () => {
    const token = await t.token(["read", "ingest", "gate"]);
    expect((await t.request("/api/v1/integrations", { token })).status).toBe(403);
    expect((await t.request("/api/v1/integrations", { method: "POST", token, json: { source: "github" } })).status).toBe(403);
  });
});
