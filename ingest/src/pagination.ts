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
