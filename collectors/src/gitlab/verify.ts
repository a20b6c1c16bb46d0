import type { CollectorInput } from "../events.ts";
import { bodyHash, header } from "../request.ts";
import { matchesAny, usableSecrets } from "../signature.ts";

/** GitLab sends the webhook's secret token itself in X-Gitlab-Token (no signature over the body). */
export function verify(input: CollectorInput): boolean {
  try {
    const token = header(input.headers, "x-gitlab-token");
    return token !== undefined && matchesAny(token, usableSecrets(input.secrets));
  } catch {
    return false;
  }
}

/**
 * Idempotency-Key stays the same when GitLab retries a delivery; X-Gitlab-Event-UUID is per event
 * (older GitLab versions send only that one).
 */
export function deliveryId(input: CollectorInput): string {
  return (
    header(input.headers, "idempotency-key")?.trim() ||
    header(input.headers, "x-gitlab-event-uuid")?.trim() ||
    bodyHash(input.body)
  );
}
