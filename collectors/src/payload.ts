import type { z } from "zod";
import { CollectorError, type MapResult, type NormalizedEvent } from "./events.ts";

/** The body as JSON; anything else is the sender's mistake (HTTP 400), not ours. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new CollectorError("invalid_json", "the body is not valid JSON");
  }
}

/**
 * Checks the parts of a payload an event needs. Schemas list only the fields we read, so unknown
 * fields (and the many that senders add over time) never fail a delivery.
 */
export function parsePayload<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  throw new CollectorError("invalid_payload", `${what}: ${problems.join("; ")}`);
}

export function processed(event: string, events: NormalizedEvent[], reasonIfNone: string): MapResult {
  return events.length > 0 ? { status: "processed", event, events } : ignored(event, reasonIfNone);
}

export function ignored(event: string, reason: string): MapResult {
  return { status: "ignored", event, reason };
}
