import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { type Database, openDatabase } from "./client.ts";

/**
 * A fresh, migrated database for one test file: a new in-memory PGlite, or, when
 * TEST_DATABASE_URL is set, a new database on that PostgreSQL server, dropped on close.
 */
export async function createTestDatabase(): Promise<Database & { url?: string }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return openDatabase({ dataDir: "memory://" });

  const name = `sluice_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(serverUrl, name);
  const database = await openDatabase({ url, poolSize: 4 });
  return {
    ...database,
    url,
    close: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** A new, empty (unmigrated) database on the test server, for tests of start-up itself. */
export async function createEmptyPostgresDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void>; keep(): Promise<void> }> {
  const name = `sluice_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
    /** Leaves the database for later study; closes the connection that would keep the process alive. */
    keep: () => admin.end({ timeout: 5 }),
  };
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
