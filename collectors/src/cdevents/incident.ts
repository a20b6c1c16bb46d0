import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { deployedRef } from "./artifact.ts";
import { type CDEvent, occurredAt, referenceSchema } from "./schemas.ts";

const incidentContentSchema = z.object({
  description: z.string().nullish(),
  service: referenceSchema.nullish(),
  artifactId: z.string().nullish(),
});

/**
 * incident.detected opens (leaving resolved_at unstated, so a late detected never undoes a resolve),
 * incident.resolved resolves. Both carry the incident as subject, so
 * subject id + source identify it across the two. A resolved event does not say when the incident
 * started: its started_at is the resolve time, and the stored incident keeps the earlier start.
 */
export function mapIncidentEvent(event: string, cdevent: CDEvent): MapResult {
  const content = parsePayload(incidentContentSchema, cdevent.subject.content, "subject.content");
  if (!content.service) return ignored(event, "incident names no service");
  const at = occurredAt(cdevent);
  const resolved = event === "incident.resolved";
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "incident",
        service: { name: content.service.id },
        external_id: `cdevents-incident-${cdevent.subject.id}@${cdevent.subject.source || cdevent.context.source}`,
        title: content.description ?? undefined,
        started_at: at,
        resolved_at: resolved ? at : undefined,
        sha: content.artifactId ? deployedRef(content.artifactId) : undefined,
      },
    ],
  };
}
