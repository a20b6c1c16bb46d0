import { createHmac } from "node:crypto";
import { deliveries } from "@sluice/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration } from "../support/webhooks.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 5: signatures are computed over the bytes the sender signed, not over text
// decoded from them, and the body is stored byte for byte.

let t: TestApp;
let github: { id: string; url: string; secret: string };

beforeAll(async () => {
  t = await createTestApp();
  github = await createIntegration(t, "github");
});
afterAll(() => t.close());

const sign = (bytes: Uint8Array, secret = github.secret) => `sha256=${createHmac("sha256", secret).update(bytes).digest("hex")}`;

function post(bytes: Uint8Array, signature: string, deliveryId: string) {
  return t.app.request(github.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": deliveryId, "x-hub-signature-256": signature },
    body: bytes,
  });
}

const ping = (zen: string) => Buffer.from(JSON.stringify({ zen, hook_id: 1 }), "utf8");

describe("GitHub signatures over the raw body", () => {
  test("a correctly signed body that starts with a byte order mark is accepted and stored byte for byte", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ping("Design for failure.")]);
    const response = await post(bytes, sign(bytes), "bom-1");
    expect(response.status).toBe(202);
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "bom-1"));
    expect(row?.bodyBytes && Buffer.from(row.bodyBytes).equals(bytes)).toBe(true);
  });

  test("a correctly signed body with bytes that are not UTF-8 is accepted and stored byte for byte", async () => {
    const bytes = Buffer.from(ping("Speak like a human. X").toString("latin1").replace("X", "\u00ff"), "latin1");
    const response = await post(bytes, sign(bytes), "latin1-1");
    expect(response.status).toBe(202);
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "latin1-1"));
    expect(row?.bodyBytes && Buffer.from(row.bodyBytes).equals(bytes)).toBe(true);
  });

  test("two byte strings that decode to the same text do not share a signature", async () => {
    const signed = Buffer.from(ping("Half measures are as bad as nothing at all. X").toString("latin1").replace("X", "\u00ff"), "latin1");
    const other = Buffer.from(ping("Half measures are as bad as nothing at all. X").toString("latin1").replace("X", "\u00fe"), "latin1");
    expect(new TextDecoder().decode(signed)).toBe(new TextDecoder().decode(other));
    const response = await post(other, sign(signed), "swap-1");
    expect(response.status).toBe(401);
  });

  test("a plain UTF-8 body keeps no second copy of its bytes", async () => {
    const bytes = ping("Approachable is better than simple. ünïcödé");
    const response = await post(bytes, sign(bytes), "plain-1");
    expect(response.status).toBe(202);
    expect(await read(response)).toMatchObject({ status: "ignored" });
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "plain-1"));
    expect(row?.bodyBytes).toBeNull();
    expect(row?.body).toBe(bytes.toString("utf8"));
  });
});
