import { sqlState } from "@sluice/db";

export { sqlState };

/** PostgreSQL's unique_violation, as raised by postgres.js and by PGlite (possibly wrapped by drizzle). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === "23505";
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
