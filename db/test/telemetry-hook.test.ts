import { sql } from "drizzle-orm";
import { describe, expect, test } from "vitest";
import { inTransaction, openDatabase, operationOf, rows, teams } from "../src/index.ts";
import { createEmptyPostgresDatabase } from "../src/testing.ts";

describe("statement timing hook", () => {
  test("reports every statement, also inside transactions, without changing results", async () => {
    const seen: Array<[string, number]> = [];
    // On PostgreSQL a fresh database from the test helper, reopened with the hook; else PGlite.
    const server = process.env.TEST_DATABASE_URL ? await createEmptyPostgresDatabase(process.env.TEST_DATABASE_URL) : undefined;
    const database = await openDatabase({
      ...(server ? { url: server.url } : { dataDir: "memory://" }),
      onQuery: (operation, seconds) => seen.push([operation, seconds]),
    });
    try {
      await database.db.insert(teams).values({ slug: "a", name: "A" });
      const found = await database.db.select().from(teams);
      expect(found).toMatchObject([{ slug: "a" }]);
      await inTransaction(database.db, async (tx) => {
        expect(await rows<{ n: number }>(tx, sql`select 2 as n`)).toEqual([{ n: 2 }]);
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      const operations = seen.map(([operation]) => operation);
      expect(operations).toContain("insert");
      expect(operations.filter((o) => o === "select").length).toBeGreaterThanOrEqual(2);
      expect(seen.every(([, seconds]) => seconds >= 0 && seconds < 30)).toBe(true);
    } finally {
      await database.close();
      await server?.drop();
    }
  });

  test("labels statements by their first keyword only", () => {
    expect(operationOf("  SELECT 1")).toBe("select");
    expect(operationOf("with x as (select 1) update t set a = 1")).toBe("with");
    expect(operationOf("vacuum")).toBe("other");
  });
});
