import type { CollectorInput } from "../events.ts";
import { bodyHash, header } from "../request.ts";
import { hmacSha256Digests, matchesAnyDigest, usableSecrets } from "../signature.ts";

/**
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, against every active secret so
 * that a secret can be rotated without losing deliveries. Never throws: a malformed header is
 * simply not a valid signature.
 */
export function verify(input: CollectorInput): boolean {
  try {
    const signature = header(input.headers, "x-hub-signature-256")?.trim().toLowerCase();
    if (!signature?.startsWith("sha256=")) return false;
    return matchesAnyDigest(signature.slice("sha256=".length), hmacSha256Digests(usableSecrets(input.secrets), input.raw ?? input.body));
  } catch {
    return false;
  }
}

/** GitHub's GUID for the delivery; redeliveries from the GitHub UI keep it. */
export function deliveryId(input: CollectorInput): string {
  return header(input.headers, "x-github-delivery")?.trim() || bodyHash(input.body);
}
