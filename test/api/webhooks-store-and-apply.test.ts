import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, githubSignature } from "../support/webhooks.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 1: a delivery is stored and applied in one transaction, so there is no moment
// at which it is committed as `received` but not applied (a crash then stranded it). Seen from a
// second connection while applying is held up by a lock: the old code had already committed the
// row as `received`; now nothing is visible until the delivery commits, processed. PostgreSQL
// only: PGlite has one connection, so nothing can look in from beside the transaction.

const url = process.env.TEST_DATABASE_URL;
let t: TestApp;
let github: { id: string; url: string; secret: string };
let side: postgres.Sql;

beforeAll(async () => {
  t = await createTestApp();
  github = await createIntegration(t, "github");
  expect((await t.request("/api/v1/services", { method: "POST", json: { slug: "shop", repositories: [{ name: "octo/shop" }] } })).status).toBe(201);
  const databaseUrl = (t.database as { url?: string }).url;
  if (databaseUrl) side = postgres(databaseUrl, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await side?.end({ timeout: 5 });
  await t.close();
});

const body = JSON.stringify({
  action: "opened",
  issue: { id: 777_001, number: 1, title: "outage", state: "open", created_at: "2026-06-10T10:00:00Z", closed_at: null, html_url: "https://github.com/octo/shop/issues/1", labels: [{ name: "incident" }] },
  repository: { full_name: "octo/shop", html_url: "https://github.com/octo/shop" },
});

describe.skipIf(!url)("a webhook delivery", () => {
  test("is never committed as received without its events", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // Holds the service's row: the incident's foreign key to it waits until released.
    const holder = side.begin(async (sql) => {
      await sql`select id from services where slug = 'shop' for update`;
      locked();
      await released;
    });
    await isLocked;

    const response = t.app.request(github.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": "held-1", "x-hub-signature-256": githubSignature(github.secret, body) },
      body,
    });
    // Wait until the delivery's transaction is blocked on the lock.
    for (let i = 0; i < 200; i++) {
      const [waiting] = await side`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`;
      if ((waiting?.n ?? 0) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seen = await side`select status from deliveries where delivery_id = 'held-1'`;
    release();
    await holder;
    const answered = await response;
    expect(answered.status).toBe(202);
    expect(await read(answered)).toMatchObject({ status: "processed" });
    expect(seen.map((row) => row.status)).toEqual([]);
    const after = await side`select status from deliveries where delivery_id = 'held-1'`;
    expect(after.map((row) => row.status)).toEqual(["processed"]);
  });
});
