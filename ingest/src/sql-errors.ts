/** PostgreSQL's unique_violation, as raised by postgres.js and by PGlite (possibly wrapped by drizzle). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === "23505";
}

export function sqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
