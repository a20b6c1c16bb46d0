import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

describe("GET /healthz", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  test("answers ok with the database kind, without a token", async () => {
    const response = await t.request("/healthz", { token: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ok",
      database: process.env.TEST_DATABASE_URL ? "postgres" : "pglite",
    });
  });

  test("returns a request id header, echoing a well-formed one", async () => {
    const response = await t.request("/healthz", { token: null, headers: { "x-request-id": "abc-123" } });
    expect(response.headers.get("x-request-id")).toBe("abc-123");
    const generated = await t.request("/healthz", { token: null, headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("logs one structured line per request with the route template", async () => {
    await t.request("/api/v1/deployments/12345", { token: null });
    const line = t.logs.findLast((l) => l.msg === "request");
    expect(line).toMatchObject({ method: "GET", route: "/api/v1/deployments/:id", status: 401 });
    expect(typeof line?.request_id).toBe("string");
    expect(typeof line?.duration_ms).toBe("number");
  });

  test("answers 503 when the database is unreachable", async () => {
    const broken = await createTestApp();
    await broken.database.close();
    const response = await broken.request("/healthz", { token: null });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unavailable" });
  });
});

describe("the API's front door", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  test("serves an OpenAPI 3.1 document generated from the validating schemas", async () => {
    const response = await t.request("/api/v1/openapi.json", { token: null });
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/api/v1/deployments", "/api/v1/deployments/{id}", "/api/v1/changes", "/api/v1/incidents", "/api/v1/tokens", "/api/v1/services/{slug}"]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.components.schemas.CreateDeployment).toBeDefined();
  });

  test("unknown routes get a JSON 404", async () => {
    const response = await t.request("/api/v1/nothing-here");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });

  test("invalid JSON is a 400 with code invalid_json, never a 500", async () => {
    const response = await t.request("/api/v1/teams", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"slug": "x",',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_json" } });
  });

  test("a body that is not JSON by content type is a 415", async () => {
    const response = await t.request("/api/v1/teams", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "slug=x",
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  test("a body over SLUICE_MAX_BODY_BYTES is a 413, by content-length and by stream", async () => {
    const small = await createTestApp({ env: { SLUICE_MAX_BODY_BYTES: "2048" } });
    try {
      const big = JSON.stringify({ slug: "x", name: "y".repeat(5000) });
      const declared = await small.request("/api/v1/teams", { method: "POST", json: JSON.parse(big) });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toMatchObject({ error: { code: "payload_too_large" } });

      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          sent += 1024;
          if (sent > 1024 * 1024) controller.close();
          else controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
        },
      });
      const chunked = await small.app.request("/api/v1/teams", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token-0123456789", "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(413);
      // The stream was abandoned soon after the limit, not read to its end.
      expect(sent).toBeLessThan(64 * 1024);
    } finally {
      await small.close();
    }
  });
});
