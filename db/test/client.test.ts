import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Database, rows, teams } from "../src/index.ts";
import { createTestDatabase } from "../src/testing.ts";

describe("database client", () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  test("runs the migrations and answers queries", async () => {
    await database.db.insert(teams).values({ slug: "payments", name: "Payments" });
    const found = await database.db.select().from(teams);
    expect(found).toMatchObject([{ slug: "payments", name: "Payments" }]);
    expect(typeof found[0]?.id).toBe("number");
    expect(found[0]?.createdAt).toBeInstanceOf(Date);
  });

  test("reports which kind of database it is", () => {
    expect(database.kind).toBe(process.env.TEST_DATABASE_URL ? "postgres" : "pglite");
  });

  test("normalizes raw statement results across drivers", async () => {
    const result = await rows<{ n: number }>(database.db, sql`select 41 + 1 as n`);
    expect(result).toEqual([{ n: 42 }]);
  });
});
