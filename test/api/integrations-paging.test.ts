import { integrations } from "@sluice/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 8: the integrations cursor was created_at in milliseconds, while PostgreSQL keeps
// microseconds: integrations created within one millisecond of a page's last one were skipped.

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 12; i++) expect((await t.request("/api/v1/integrations", { method: "POST", json: { source: "github", name: `hook ${i}` } })).status).toBe(201);
  // Several in one millisecond, microseconds apart, and two at the very same instant.
  await t.database.db.execute(
    sql`update ${integrations} set created_at = timestamptz '2026-06-01 10:00:00.123000+00' + (ord * interval '1 microsecond')
        from (select id, (row_number() over (order by id)) % 5 as ord from ${integrations}) o
        where o.id = ${integrations.id}`,
  );
});
afterAll(() => t.close());

describe("GET /api/v1/integrations, paged", () => {
  for (const limit of [1, 2, 3, 5]) {
    test(`pages of ${limit} list every integration exactly once`, async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 50; page++) {
        const body: { items: Array<{ id: string }>; next_cursor: string | null } = await read(
          t.request(`/api/v1/integrations?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`),
        );
        seen.push(...body.items.map((item) => item.id));
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(12);
      expect(new Set(seen).size).toBe(12);
    });
  }

  test("a cursor this API did not give is a 400", async () => {
    expect((await t.request("/api/v1/integrations?cursor=bm9wZQ")).status).toBe(400);
  });
});
