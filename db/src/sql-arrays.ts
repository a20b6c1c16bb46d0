import { type SQL, sql } from "drizzle-orm";

// drizzle expands a JS array inside sql`` into a parameter list, so arrays are built explicitly.
export function bigintArray(values: readonly number[]): SQL {
  if (values.length === 0) return sql`'{}'::bigint[]`;
  return sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::bigint[]`;
}

export function textArray(values: readonly string[]): SQL {
  if (values.length === 0) return sql`'{}'::text[]`;
  return sql`array[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::text[]`;
}

/**
 * A timestamp parameter for raw SQL. drizzle's postgres.js driver passes Date parameters
 * through unserialized (it serializes them only for typed columns), so raw statements
 * send ISO strings.
 */
export function timestamp(value: Date): SQL {
  return sql`${value.toISOString()}::timestamptz`;
}
