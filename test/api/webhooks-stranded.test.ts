import { deliveries, incidents } from "@sluice/db";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { processStrandedDeliveries } from "../../ingest/src/webhooks/stranded.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, githubSignature } from "../support/webhooks.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 1: a delivery stored as `received` whose processing never ran (the process died
// between the two) is not lost: it is processed when the sender sends it again (202, not
// "duplicate"), and by a sweep when Sluice starts.

let t: TestApp;
let github: { id: string; url: string; secret: string };

beforeAll(async () => {
  t = await createTestApp();
  github = await createIntegration(t, "github");
  expect((await t.request("/api/v1/services", { method: "POST", json: { slug: "shop", repositories: [{ name: "octo/shop" }] } })).status).toBe(201);
});
afterAll(() => t.close());

/** A GitHub issue labelled incident: opened = an incident started (README "GitHub"). */
function issueOpened(number: number) {
  return JSON.stringify({
    action: "opened",
    issue: { id: 900_000 + number, number, title: `outage ${number}`, state: "open", created_at: "2026-06-10T10:00:00Z", closed_at: null, html_url: `https://github.com/octo/shop/issues/${number}`, labels: [{ name: "incident" }] },
    repository: { full_name: "octo/shop", html_url: "https://github.com/octo/shop" },
  });
}

/** What a process killed right after storing a delivery leaves behind. */
async function strand(deliveryId: string, body: string, receivedAt = new Date("2026-06-15T11:58:00Z")) {
  await t.database.db.insert(deliveries).values({
    integrationId: github.id,
    source: "github",
    deliveryId,
    event: "issues",
    headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": deliveryId },
    body,
    receivedAt,
  });
}

const send = (deliveryId: string, body: string) =>
  t.app.request(github.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": deliveryId, "x-hub-signature-256": githubSignature(github.secret, body) },
    body,
  });

const incident = async (number: number) =>
  (await t.database.db.select().from(incidents).where(eq(incidents.externalId, `github-issue-${900_000 + number}`)))[0];

describe("a delivery stranded as received", () => {
  test("is processed when the sender sends it again, answered 202 rather than duplicate", async () => {
    await strand("stranded-1", issueOpened(101));
    const response = await send("stranded-1", issueOpened(101));
    expect(response.status).toBe(202);
    expect(await read(response)).toMatchObject({ status: "processed" });
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "stranded-1"));
    expect(row?.status).toBe("processed");
    expect(await incident(101)).toBeDefined();
    // Once processed, it is a duplicate like any other.
    expect((await send("stranded-1", issueOpened(101))).status).toBe(200);
  });

  test("is processed by the sweep Sluice runs at start", async () => {
    await strand("stranded-2", issueOpened(102));
    const report = await processStrandedDeliveries({ database: t.database, logger: t.logger, autoServiceQuota: 500, now: new Date("2026-06-15T12:00:00Z") });
    expect(report).toMatchObject({ processed: 1 });
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "stranded-2"));
    expect(row?.status).toBe("processed");
    expect(await incident(102)).toBeDefined();
    expect(await processStrandedDeliveries({ database: t.database, logger: t.logger, autoServiceQuota: 500, now: new Date() })).toMatchObject({ processed: 0 });
  });

  test("the sweep leaves alone what was stored in the last minute: a request in flight applies it", async () => {
    await strand("in-flight-1", issueOpened(103), new Date("2026-06-15T11:59:30Z"));
    const report = await processStrandedDeliveries({ database: t.database, logger: t.logger, autoServiceQuota: 500, now: new Date("2026-06-15T12:00:00Z") });
    expect(report).toMatchObject({ processed: 0 });
    const [row] = await t.database.db.select().from(deliveries).where(eq(deliveries.deliveryId, "in-flight-1"));
    expect(row?.status).toBe("received");
  });
});
