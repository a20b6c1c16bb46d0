import { z } from "zod";
import { CollectorError, type CollectorInput } from "../events.ts";
import { parseJson, parsePayload } from "../payload.ts";
import { header } from "../request.ts";

/**
 * A CDEvent arrives in one of three ways:
 * - CloudEvents binary mode: `ce-id`, `ce-source`, `ce-type` headers, the CDEvent is the body;
 * - CloudEvents structured mode: `content-type: application/cloudevents+json`, the body is the
 *   envelope `{specversion, id, source, type, data}` and `data` (or `data_base64`) is the CDEvent;
 * - the bare CDEvent `{context, subject}` as plain JSON, as the CDEvents SDKs' examples post it.
 */
export interface Envelope {
  ceId?: string;
  ceSource?: string;
  cdevent: unknown;
}

const structuredSchema = z.object({
  specversion: z.string(),
  id: z.string().nullish(),
  source: z.string().nullish(),
  data: z.unknown().optional(),
  data_base64: z.string().nullish(),
});

export function readEnvelope(input: CollectorInput): Envelope {
  const body = parseJson(input.body);
  const contentType = header(input.headers, "content-type") ?? "";
  const structured = /application\/cloudevents\+json/i.test(contentType) || isStructured(body);
  if (!structured) {
    const ceId = header(input.headers, "ce-id")?.trim() || undefined;
    const ceSource = header(input.headers, "ce-source")?.trim() || undefined;
    return { ceId, ceSource, cdevent: body };
  }
  const envelope = parsePayload(structuredSchema, body, "CloudEvent");
  return {
    ceId: envelope.id ?? undefined,
    ceSource: envelope.source ?? undefined,
    cdevent: envelope.data ?? decodeBase64Json(envelope.data_base64),
  };
}

/** Without the content type, a body with `specversion` and data but no `context` is an envelope. */
function isStructured(body: unknown): boolean {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  return "specversion" in body && ("data" in body || "data_base64" in body) && !("context" in body);
}

function decodeBase64Json(data: string | null | undefined): unknown {
  if (!data) return undefined;
  const text = Buffer.from(data, "base64").toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new CollectorError("invalid_json", "the CloudEvent's data_base64 is not JSON");
  }
}
