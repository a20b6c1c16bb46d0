import { sqlState } from "@sluice/db";

export { databaseUnavailable, sqlState } from "@sluice/db";

/** PostgreSQL's unique_violation, as raised by postgres.js and by PGlite (possibly wrapped by drizzle). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === "23505";
}
