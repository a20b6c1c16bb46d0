import { z } from "zod";
import { requireIsoUtc } from "../time.ts";

/** The parts of a CDEvent (spec 0.4 and 0.5) every mapping reads. */
export const cdeventSchema = z.object({
  context: z.object({
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().min(1),
    timestamp: z.unknown().optional(),
  }),
  subject: z.object({
    id: z.string().min(1),
    source: z.string().nullish(),
    content: z.unknown().optional(),
  }),
});

export type CDEvent = z.output<typeof cdeventSchema>;

/** `{id, source?}`: how CDEvents refers to environments, services and repositories. */
export const referenceSchema = z.object({ id: z.string().min(1), source: z.string().nullish() });

export function occurredAt(cdevent: CDEvent): string {
  return requireIsoUtc(cdevent.context.timestamp, "context.timestamp");
}

/** Stable per event: CloudEvents ids are unique within their source. */
export function eventKey(cdevent: CDEvent): string {
  return `${cdevent.context.id}@${cdevent.context.source}`;
}
