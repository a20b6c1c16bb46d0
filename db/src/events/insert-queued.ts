import { Param, Placeholder, SQL, getTableColumns, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { type Executor, rows } from "../client.ts";

interface Shape {
  /** The statement's text around its parameters: parts[i] comes before parameter i. */
  parts: string[];
  /** The column (by property name) each parameter fills. */
  names: string[];
  columns: Record<string, PgColumn>;
}

// drizzle builds a statement's text anew on every call, which for an insert of a whole row
// costs about 0.2 ms of CPU, as much as the rest of an ingest call. The text of these
// statements only depends on their shape, so it is built once per shape.
const shapes = new Map<string, Shape>();

/**
 * A new event row and its derivation_queue entries in one statement (one round trip, atomic
 * on its own): inserts `values` into `table` unless a row with the same `target` exists, and
 * runs `queue` (an `insert into derivation_queue ... select ... from ins`). Returns the row,
 * or undefined when it already existed (the caller then merges into it under a row lock).
 * `values` must always have the same keys for one `key`.
 */
export async function insertQueued<T extends PgTable>(
  tx: Executor,
  statement: { key: string; table: T; values: Record<string, unknown>; target: PgColumn[]; queue: string },
): Promise<T["$inferSelect"] | undefined> {
  const { table, values } = statement;
  let shape = shapes.get(statement.key);
  if (!shape) {
    const placeholders = Object.fromEntries(Object.keys(values).map((name) => [name, sql.placeholder(name)]));
    const insert = tx.insert(table).values(placeholders as never).onConflictDoNothing({ target: statement.target }).returning();
    const built = (tx as unknown as { dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } } }).dialect.sqlToQuery(
      sql`with ins as (${insert.getSQL()}), queued as (${sql.raw(statement.queue)}) select * from ins`,
    );
    shape = {
      parts: built.sql.split(/\$\d+/),
      // A row value arrives as the column's Param around the Placeholder (encoded by the column).
      names: built.params.map((param) => {
        const inner = param instanceof Param ? param.value : param;
        return inner instanceof Placeholder ? inner.name : "";
      }),
      columns: getTableColumns(table) as Record<string, PgColumn>,
    };
    if (shape.names.includes("") || shape.parts.length !== shape.names.length + 1) {
      throw new Error(`statement ${statement.key}: every parameter must be a value of the row`);
    }
    shapes.set(statement.key, shape);
  }
  const { columns } = shape;
  const chunks: SQL[] = [sql.raw(shape.parts[0] as string)];
  shape.names.forEach((name, i) => {
    const value = values[name];
    const column = columns[name];
    chunks.push(sql`${value === null || value === undefined || !column ? (value ?? null) : column.mapToDriverValue(value)}`);
    chunks.push(sql.raw(shape.parts[i + 1] as string));
  });
  const [raw] = await rows<Record<string, unknown>>(tx, new SQL(chunks));
  if (!raw) return undefined;
  // The driver's values, read the way drizzle reads them for this table.
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(columns)) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T["$inferSelect"];
}
