import { type SQL, type SQLWrapper, getTableColumns, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { type Executor, rows } from "../client.ts";

/**
 * A new event row and its derivation_queue entries in one statement (one round trip, atomic
 * on its own): `insert` must end in `on conflict do nothing returning *`, and `queue` is an
 * `insert into derivation_queue ... select ... from ins`. Returns the row, or undefined when
 * it already existed (the caller then merges into it under a row lock).
 */
export async function insertQueued<T extends PgTable>(
  tx: Executor,
  table: T,
  insert: SQLWrapper & { getSQL(): SQL },
  queue: SQL,
): Promise<T["$inferSelect"] | undefined> {
  const [raw] = await rows<Record<string, unknown>>(tx, sql`with ins as (${insert.getSQL()}), queued as (${queue}) select * from ins`);
  if (!raw) return undefined;
  // The driver's values, read the way drizzle reads them for this table.
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T["$inferSelect"];
}
