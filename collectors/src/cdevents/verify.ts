import { z } from "zod";
import type { CollectorInput } from "../events.ts";
import { bearerToken, bodyHash } from "../request.ts";
import { matchesAny, usableSecrets } from "../signature.ts";
import { readEnvelope } from "./envelope.ts";

/** CDEvents has no signature scheme of its own: senders authenticate with a bearer token. */
export function verify(input: CollectorInput): boolean {
  try {
    const token = bearerToken(input.headers);
    return token !== undefined && matchesAny(token, usableSecrets(input.secrets));
  } catch {
    return false;
  }
}

const contextSchema = z.object({ context: z.object({ id: z.string().min(1), source: z.string().min(1) }) });

/** CloudEvents: `id` is unique within `source`, so together they identify the event. */
export function deliveryId(input: CollectorInput): string {
  try {
    const envelope = readEnvelope(input);
    const context = contextSchema.safeParse(envelope.cdevent).data?.context;
    const id = envelope.ceId ?? context?.id;
    const source = envelope.ceSource ?? context?.source;
    if (id && source) return `${id}@${source}`;
  } catch {
    // unreadable bodies are map()'s to report; the hash still identifies the delivery
  }
  return bodyHash(input.body);
}
