import { type AnyColumn, type SQL, sql } from "drizzle-orm";
import { badRequest } from "./errors.ts";

/** Cursors are opaque to clients: the last id of the previous page, encoded. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`v1:${lastId}`).toString("base64url");
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  const match = Buffer.from(cursor, "base64url")
    .toString()
    .match(/^v1:(\d{1,15})$/);
  if (!match?.[1]) throw badRequest("invalid cursor", [{ field: "cursor", message: "is not a cursor this API gave" }]);
  return Number(match[1]);
}

/** Given limit+1 rows fetched in id-descending order, the page and its next cursor. */
export function toPage<T>(fetched: T[], limit: number, idOf: (row: T) => number) {
  const items = fetched.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: fetched.length > limit && last ? encodeCursor(idOf(last)) : null };
}

/**
 * Lists ordered by a time, newest first, ties by id (SPEC 5 v2: deployments by finished_at
 * else started_at, incidents by started_at; integrations, whose ids are random text, by
 * created_at): the cursor names the last row's time, to the microsecond PostgreSQL keeps (a
 * JavaScript Date would round it to the millisecond), and its id. A row without a time comes
 * after every row with one.
 */
export interface TimeKey {
  /** The time as microseconds since the epoch, or null. */
  micros: string | null;
  /** The row's id as text (PostgreSQL compares it as the column's type). */
  id: string;
}

export const timeKeyMicros = (time: SQL) => sql<string | null>`(extract(epoch from ${time}) * 1000000)::bigint::text`;

export function decodeTimeCursor(cursor: string | undefined): TimeKey | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  const match = Buffer.from(cursor, "base64url")
    .toString()
    .match(/^t1:(-?\d{1,19}|null):([\w-]{1,100})$/);
  if (!match?.[1] || !match[2]) throw badRequest("invalid cursor", [{ field: "cursor", message: "is not a cursor this API gave" }]);
  return { micros: match[1] === "null" ? null : match[1], id: match[2] };
}

/** Rows after `key` in (time desc nulls last, id desc) order. */
export function afterTimeKey(time: SQL, id: SQL | AnyColumn, key: TimeKey | undefined): SQL | undefined {
  if (key === undefined) return undefined;
  const micros = sql`(extract(epoch from ${time}) * 1000000)::bigint`;
  if (key.micros === null) return sql`(${time} is null and ${id} < ${key.id})`;
  return sql`(${time} is null or ${micros} < ${key.micros}::bigint or (${micros} = ${key.micros}::bigint and ${id} < ${key.id}))`;
}

/** The page of limit+1 rows fetched in that order, and the cursor of its last row. */
export function toTimePage<T>(fetched: T[], limit: number, keyOf: (row: T) => TimeKey) {
  const items = fetched.slice(0, limit);
  const last = items.at(-1);
  if (fetched.length <= limit || !last) return { items, next_cursor: null };
  const key = keyOf(last);
  return { items, next_cursor: Buffer.from(`t1:${key.micros ?? "null"}:${key.id}`).toString("base64url") };
}
