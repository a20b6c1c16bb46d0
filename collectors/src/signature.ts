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

/** The HMAC-SHA256 of the body under each secret: over its bytes as received when given, else its UTF-8 text. */
export function hmacSha256Digests(secrets: string[], body: string | Uint8Array): Buffer[] {
  // A string is hashed as UTF-8 (update's default); bytes as they are.
  return secrets.map((secret) => createHmac("sha256", secret).update(body).digest());
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * True when the lowercase hex `signature` equals any of the digests; every digest is compared
 * (no early exit). A digest's length is public, so its bytes are compared as they are:
 * safeEqual's hashing is for secrets, whose length is not.
 */
export function matchesAnyDigest(signature: string, digests: Buffer[]): boolean {
  if (!SHA256_HEX.test(signature)) return false;
  const provided = Buffer.from(signature, "hex");
  let found = false;
  for (const digest of digests) found = timingSafeEqual(provided, digest) || found;
  return found;
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
