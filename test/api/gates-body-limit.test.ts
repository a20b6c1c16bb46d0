import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, read } from "./gates-helpers.ts";

// SPEC 7 v2: no gate request body is parsed before its caller is known, and gate
// endpoints take at most 64 kB (Flagger's metadata.token is read from such a body only).

let t: TestApp;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  t = await createTestApp();
  await createService(t, "checkout");
  await createGate(t, { slug: "open", rules: [{ type: "open_incidents" }] });
});
afterAll(() => t.close());

/** A JSON array nested `depth` deep: cheap to send, costly to parse. */
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** A body with no Content-Length: the server only learns its size by reading it. */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 16 * 1024) controller.enqueue(bytes.subarray(at, at + 16 * 1024));
      controller.close();
    },
  });
}

describe("gate endpoints refuse large bodies before reading who is calling", () => {
  for (const action of ["check", "rollback", "evaluate"]) {
    test(`an unauthenticated 2 MB body to /${action} is 413 without being parsed`, async () => {
      const response = await t.request(`/api/v1/gates/anything/${action}`, {
        method: "POST",
        token: null,
        headers: { "content-type": "application/json" },
        body: nested(1024 * 1024),
      });
      expect(response.status).toBe(413);
      expect(await read(response)).toMatchObject({ error: { code: "payload_too_large" } });
    });
  }

  test("a streamed body over 64 kB with no Content-Length is 413 too", async () => {
    const response = await t.request("/api/v1/gates/open/check", {
      method: "POST",
      token: null,
      headers: { "content-type": "application/json" },
      body: chunked(JSON.stringify({ service: "checkout", metadata: { pad: "x".repeat(LIMIT) } })),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  test("even a caller with a valid token may not send more than 64 kB", async () => {
    const token = await t.token(["gate"]);
    const response = await t.request("/api/v1/gates/open/check", {
      method: "POST",
      token,
      json: { service: "checkout", metadata: { pad: "x".repeat(LIMIT) } },
    });
    expect(response.status).toBe(413);
  });

  test("a small body without credentials is 401, whatever it holds", async () => {
    for (const body of [nested(30_000), "{not json", JSON.stringify({ metadata: { token: "slc_not-a-real-token" } })]) {
      const response = await t.request("/api/v1/gates/open/check", {
        method: "POST",
        token: null,
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(401);
    }
  });

  test("Flagger's metadata.token in a body under 64 kB still authenticates", async () => {
    const token = await t.token(["gate"]);
    const response = await t.request("/api/v1/gates/open/check", {
      method: "POST",
      token: null,
      json: { name: "checkout", namespace: "shop", phase: "Progressing", metadata: { token, pad: "x".repeat(LIMIT - 500) } },
    });
    expect(response.status).toBe(200);
  });

  test("gate definitions are not held to the pipeline endpoints' limit", async () => {
    const services = Array.from({ length: 1500 }, (_, i) => `service-with-a-long-name-${i}`);
    const response = await t.request("/api/v1/gates", {
      method: "POST",
      json: { slug: "wide", applies_to: { services, environments: ["production"] }, rules: [{ type: "open_incidents" }] },
    });
    expect(response.status).toBe(201);
  });
});
