import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database or a transaction inside it. */
export type Executor = Db | Tx;
export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /**
   * Rows of a statement whose text is fixed (written once, with $1, $2, ... for its
   * parameters), outside any transaction: for hot paths where building the statement with
   * drizzle costs more CPU than running it. Parameters are sent as text; cast them in the SQL.
   * On PostgreSQL the statement is prepared on each connection like drizzle's (prepared).
   */
  query<T extends Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]>;
  /** Cheap round trip for health checks; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

/** Any fixed 64-bit number will do; it only has to be the same in every Sluice process. */
const MIGRATION_LOCK_KEY = 7_305_158_114_201_901n;

export interface OpenDatabaseOptions {
  /** postgres:// URL; unset = embedded PGlite. */
  url?: string | undefined;
  /** PGlite data directory; "memory://" for a throwaway database. */
  dataDir?: string;
  /** Connection pool size for PostgreSQL. */
  poolSize?: number;
  migrate?: boolean;
  /** Called after every statement with its kind (select, insert, ...) and duration, for telemetry. */
  onQuery?: (operation: string, seconds: number) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const database = options.url
    ? await openPostgres(options.url, options.poolSize ?? 10, options.onQuery)
    : await openPglite(options.dataDir ?? "./.sluice", options.onQuery);
  if (options.migrate !== false) {
    try {
      await migrateDatabase(database, options.url);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

type QueryObserver = ((operation: string, seconds: number) => void) | undefined;

/** The statement's kind, a bounded label: its first keyword. */
export function operationOf(query: string): string {
  const keyword = /^\s*(select|insert|update|delete|with|begin|commit|rollback|savepoint|release)\b/i.exec(query)?.[1];
  return keyword ? keyword.toLowerCase() : "other";
}

/**
 * Wraps a driver's query method so each call reports its duration, including calls on the
 * transaction object the driver hands to `transactionMethod`'s callback. The driver is unchanged.
 */
function timed<T extends object>(target: T, method: string, transactionMethod: string, observe: QueryObserver): T {
  if (!observe) return target;
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      if (property === method) {
        return (query: string, ...rest: unknown[]) => {
          const started = performance.now();
          const result = value.call(object, query, ...rest);
          const done = () => observe(operationOf(query), (performance.now() - started) / 1000);
          // postgres.js returns a lazy query that its caller configures (.values()) before awaiting:
          // attach the observer a microtask later, and hand back the same object.
          if (result && typeof result.then === "function") queueMicrotask(() => result.then(done, done));
          return result;
        };
      }
      if (property === transactionMethod) {
        return (...args: unknown[]) =>
          value.apply(
            object,
            args.map((arg) =>
              typeof arg === "function"
                ? (tx: object, ...more: unknown[]) => arg(timed(tx, method, transactionMethod, observe), ...more)
                : arg,
            ),
          );
      }
      return value;
    },
  });
}

async function openPglite(dataDir: string, onQuery?: QueryObserver): Promise<Database> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  // relaxedDurability stays off: a query resolves only after its WAL is flushed, so
  // anything Sluice acknowledged survives a crash of the process.
  const client = await PGlite.create(dataDir);
  // As on PostgreSQL (openPostgres): sorts of a large window's lead times stay in memory.
  await client.exec("set work_mem = '16MB'");
  const observed = timed(client, "query", "transaction", onQuery);
  const db = drizzlePglite(observed, { schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    query: async <T extends Record<string, unknown>>(text: string, params: unknown[]) => (await observed.query<T>(text, params)).rows,
    ping: async () => {
      await client.query("select 1");
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/**
 * drizzle sends every statement unprepared, so PostgreSQL parses and plans it on every
 * call: for the derivation statements that is most of their cost. This prepares them on
 * each connection instead (postgres.js caches them by text). Statements with long
 * parameter lists (an IN list, an explicit commit list) vary in text with their length and
 * stay unprepared, so the cache stays small.
 */
function prepared(client: postgres.Sql): postgres.Sql {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "unsafe") {
          return (query: string, args: unknown[] = [], options: { prepare?: boolean } = {}) =>
            value.call(object, query, args, {
              ...options,
              prepare: options.prepare === true || (args.length > 0 && args.length <= MAX_PREPARED_PARAMETERS),
            });
        }
        if (property === "begin") {
          return (...args: unknown[]) =>
            value.apply(
              object,
              args.map((arg) => (typeof arg === "function" ? (tx: object, ...more: unknown[]) => arg(wrap(tx), ...more) : arg)),
            );
        }
        return value;
      },
    });
  return wrap(client);
}

const MAX_PREPARED_PARAMETERS = 64;

async function openPostgres(url: string, poolSize: number, onQuery?: QueryObserver): Promise<Database> {
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    // While PostgreSQL is unreachable requests answer 503 within this (SPEC 10 v2), not after minutes.
    connect_timeout: 5,
    // Sluice's statements are short; PostgreSQL's JIT compiles for 0.1-1 s whenever a plan's
    // estimated cost is high (a service's whole timeline in one derive statement, an org-wide
    // metric), which costs far more than it saves here. Sorts get 16 MB (the default 4 MB sends
    // an organisation-wide lead time's sort of ~450,000 values to disk: 233 ms instead of 160).
    connection: { jit: "off", work_mem: "16MB" },
  });
  const observed = timed(prepared(client), "unsafe", "begin", onQuery);
  const db = drizzlePostgres(observed, { schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    query: async <T extends Record<string, unknown>>(text: string, params: unknown[]) =>
      (await observed.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
    ping: async () => {
      await client`select 1`;
    },
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * Applies the committed drizzle-kit migrations. On PostgreSQL this runs on a dedicated
 * connection holding an advisory lock, so replicas starting together migrate once.
 */
async function migrateDatabase(database: Database, url: string | undefined): Promise<void> {
  if (database.kind === "pglite" || !url) {
    await migratePglite(database.db as never, { migrationsFolder });
    return;
  }
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder });
  } finally {
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.catch(() => {});
    await client.end({ timeout: 5 });
  }
}

/**
 * Rows of a raw SQL statement; the two drivers shape `execute` results differently.
 * Raw statements should return plain JSON-able values (numbers via ::int or ::float8,
 * times as epoch seconds or text), because the drivers also parse types differently.
 */
export async function rows<T extends Record<string, unknown>>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}
