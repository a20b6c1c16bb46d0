import { z } from "zod";
import type { CollectorInput } from "../events.ts";
import { bodyHash, header } from "../request.ts";
import { hmacSha256Digests, matchesAnyDigest, usableSecrets } from "../signature.ts";

/** Enough signatures for any rotation; a header with thousands is an attack, not PagerDuty. */
const MAX_SIGNATURES = 10;

/**
 * `X-PagerDuty-Signature: v1=<hex>,v1=<hex>`: one HMAC-SHA256 of the raw body per signing secret
 * (several during a rotation). Authentic when any v1 signature matches any of our secrets.
 */
export function verify(input: CollectorInput): boolean {
  try {
    const signatures = (header(input.headers, "x-pagerduty-signature") ?? "")
      .split(",")
      .map((part) => part.trim().toLowerCase())
      .filter((part) => part.startsWith("v1="))
      .slice(0, MAX_SIGNATURES);
    if (signatures.length === 0) return false;
    const digests = hmacSha256Digests(usableSecrets(input.secrets), input.raw ?? input.body);
    let found = false;
    for (const signature of signatures) found = matchesAnyDigest(signature.slice("v1=".length), digests) || found;
    return found;
  } catch {
    return false;
  }
}

const eventIdSchema = z.object({ event: z.object({ id: z.string().min(1) }) });

/** X-Webhook-Id is the delivery's id and survives retries; else the id of the event inside. */
export function deliveryId(input: CollectorInput): string {
  const fromHeader = header(input.headers, "x-webhook-id")?.trim();
  if (fromHeader) return fromHeader;
  try {
    const id = eventIdSchema.safeParse(JSON.parse(input.body)).data?.event.id;
    if (id) return id;
  } catch {
    // not JSON: map() reports that; the body's hash still identifies the delivery
  }
  return bodyHash(input.body);
}
