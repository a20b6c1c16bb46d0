import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Constant-time string equality. Both sides are hashed first so that the comparison always runs
 * over 32 bytes: timingSafeEqual throws on different lengths, and an early length check would
 * leak the length of the secret.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = createHash("sha256").update(a, "utf8").digest();
  const right = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(left, right);
}

export function hmacSha256Hex(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

/** The secrets worth trying: an empty secret would make an unsigned request look signed. */
export function usableSecrets(secrets: unknown): string[] {
  return Array.isArray(secrets) ? secrets.filter((s): s is string => typeof s === "string" && s !== "") : [];
}

/** True when `provided` equals any candidate; every candidate is compared (no early exit). */
export function matchesAny(provided: string, candidates: string[]): boolean {
  let found = false;
  for (const candidate of candidates) found = safeEqual(provided, candidate) || found;
  return found;
}
