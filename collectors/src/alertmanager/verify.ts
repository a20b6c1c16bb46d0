import type { CollectorInput } from "../events.ts";
import { bearerToken, bodyHash } from "../request.ts";
import { matchesAny, usableSecrets } from "../signature.ts";

/** Alertmanager's webhook_config `http_config.authorization` sends `Authorization: Bearer <secret>`. */
export function verify(input: CollectorInput): boolean {
  try {
    const token = bearerToken(input.headers);
    return token !== undefined && matchesAny(token, usableSecrets(input.secrets));
  } catch {
    return false;
  }
}

/**
 * Alertmanager sends no delivery id. The same notification repeated (repeat_interval, retries)
 * has the same body, and then the same id: it changes nothing, as it should.
 */
export function deliveryId(input: CollectorInput): string {
  return bodyHash(input.body);
}
