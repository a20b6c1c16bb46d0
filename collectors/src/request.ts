import { createHash } from "node:crypto";

/** A request header by lower-case name; tolerates callers that did not lower-case the keys. */
export function header(headers: Record<string, string>, name: string): string | undefined {
  const direct = headers[name];
  if (typeof direct === "string") return direct;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110). */
export function bearerToken(headers: Record<string, string>): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header(headers, "authorization") ?? "");
  return match?.[1];
}

/** Delivery id of last resort: the same bytes are the same delivery. */
export function bodyHash(body: string): string {
  return `sha256:${createHash("sha256").update(body, "utf8").digest("hex")}`;
}
