import { PgTransaction } from "drizzle-orm/pg-core";
import type { Db, Executor, Tx } from "./client.ts";

/** SQLSTATEs worth one more try: serialization failure, deadlock, and a lost insert race. */
const RETRYABLE = new Set(["40001", "40P01", "23505"]);

export function sqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Errors of a connection to the database, as postgres.js and Node's sockets name them. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/**
 * True when the database could not be reached or would not take work (SPEC 10 v2: answered 503
 * with Retry-After): a connection error, SQLSTATE class 08 (connection exception), the server
 * shutting down or starting (57P01-57P03), out of connections (53300), or read-only (25006).
 */
export function databaseUnavailable(error: unknown): boolean {
  const state = sqlState(error);
  if (state && (state.startsWith("08") || ["57P01", "57P02", "57P03", "53300", "25006"].includes(state))) return true;
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A conflict between concurrent transactions that another try resolves (see inTransaction). */
export function worthRetrying(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE.has(state);
}

/**
 * Runs fn in a transaction, retrying a few times when PostgreSQL resolves a conflict
 * between concurrent writers by aborting one of them. Concurrency is normal here.
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (error) {
      if (attempt >= attempts || !worthRetrying(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

/** fn inside the caller's transaction when it has one, else in a transaction of its own. */
export function inTransactionOf<T>(executor: Executor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return executor instanceof PgTransaction ? fn(executor as Tx) : inTransaction(executor as Db, fn);
}
