import { z } from "zod";
import type { CollectorInput, MapResult } from "../events.ts";
import { ignored, parseJson, parsePayload } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";

const envelopeSchema = z.object({
  event: z.object({ event_type: z.string(), occurred_at: z.unknown().optional(), data: z.unknown() }),
});

const incidentSchema = z.object({
  id: z.string().min(1),
  type: z.literal("incident"),
  title: z.string().nullish(),
  html_url: z.string().nullish(),
  created_at: z.unknown().optional(),
  urgency: z.string().nullish(),
  priority: z.object({ summary: z.string().nullish() }).nullish(),
  service: z.object({ summary: z.string().min(1) }),
});

const OPEN = new Set(["incident.triggered", "incident.acknowledged", "incident.reopened"]);

/**
 * V3 webhooks: incident events. The service is named by its PagerDuty name (`service.summary`),
 * which ingest matches against service names and aliases. Severity is the incident's priority
 * (P1..P5) when the account uses priorities, else its urgency (high/low). Only incident.reopened
 * says "open again" (resolved_at null): a triggered or acknowledged event delivered late leaves the
 * resolution unstated and so never undoes a resolve (deliveries may arrive in any order, SPEC 10).
 */
export function map(input: CollectorInput): MapResult {
  const envelope = parsePayload(envelopeSchema, parseJson(input.body), "webhook").event;
  const type = envelope.event_type;
  const resolved = type === "incident.resolved";
  if (!OPEN.has(type) && !resolved) return ignored(type.slice(0, 100), `event ${type.slice(0, 100)} is not used`);
  const incident = parsePayload(incidentSchema, envelope.data, "event.data");
  const occurredAt = requireIsoUtc(envelope.occurred_at, "event.occurred_at");
  return {
    status: "processed",
    event: type,
    events: [
      {
        kind: "incident",
        service: { name: incident.service.summary },
        external_id: `pagerduty-${incident.id}`,
        title: incident.title ?? undefined,
        severity: incident.priority?.summary || incident.urgency || undefined,
        url: incident.html_url ?? undefined,
        started_at: toIsoUtc(incident.created_at) ?? occurredAt,
        resolved_at: resolved ? occurredAt : type === "incident.reopened" ? null : undefined,
      },
    ],
  };
}
