import { z } from "zod";
import type { CollectorInput, IncidentEvent, MapResult } from "../events.ts";
import { parseJson, parsePayload, processed } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";

const labels = z.record(z.string(), z.string()).nullish();

const webhookSchema = z.object({
  version: z.string().nullish(),
  alerts: z.array(
    z.object({
      status: z.string(),
      labels,
      annotations: labels,
      startsAt: z.unknown().optional(),
      endsAt: z.unknown().optional(),
      generatorURL: z.string().nullish(),
      fingerprint: z.string().min(1),
    }),
  ),
});

/** Alertmanager's zero time: an alert that has not ended. */
const NOT_ENDED = /^0001-01-01T00:00:00(\.0+)?Z$/;

/**
 * Webhook version 4: each alert is an incident. Rules:
 * - Identity is fingerprint + startsAt: an alert that resolves and fires again later (new startsAt)
 *   is a new incident, while repeated notifications of one firing update the same incident.
 * - The service is the value of one label, `service` unless the integration's settings name
 *   another (`service_label`). There is no fallback to `job` or `alertname`: those name a scrape
 *   job and a rule, not a deployable service, and incidents filed against them would never be
 *   attributed to a deployment. Alerts without the label are skipped (the delivery is still fine).
 * - Resolved when the alert's status is `resolved` (endsAt is then its end). A firing alert is open
 *   even when it carries a future endsAt (Prometheus sets one on every evaluation); it leaves the
 *   resolution unstated rather than null, so a firing notification delivered after the resolved one
 *   does not reopen the incident (SPEC 10: any delivery order gives the same result).
 */
export function map(input: CollectorInput): MapResult {
  const webhook = parsePayload(webhookSchema, parseJson(input.body), "webhook");
  const serviceLabel = serviceLabelOf(input.settings);
  const events: IncidentEvent[] = [];
  for (const [i, alert] of webhook.alerts.entries()) {
    const service = label(alert.labels, serviceLabel)?.trim();
    if (!service) continue;
    const startedAt = requireIsoUtc(alert.startsAt, `alerts.${i}.startsAt`);
    const endsAt = typeof alert.endsAt === "string" && NOT_ENDED.test(alert.endsAt) ? undefined : alert.endsAt;
    // A resolved alert without a real endsAt leaves the end unstated rather than failing the batch.
    const resolvedAt = alert.status === "resolved" ? toIsoUtc(endsAt) : undefined;
    events.push({
      kind: "incident",
      service: { name: service },
      external_id: `alertmanager-${alert.fingerprint}-${Math.floor(Date.parse(startedAt) / 1000)}`,
      title: label(alert.annotations, "summary") || label(alert.labels, "alertname") || undefined,
      severity: label(alert.labels, "severity") || undefined,
      url: alert.generatorURL || undefined,
      started_at: startedAt,
      resolved_at: resolvedAt,
    });
  }
  return processed("alert", events, `no alert has a "${serviceLabel}" label`);
}

function serviceLabelOf(settings: Record<string, unknown> | undefined): string {
  const label = settings?.service_label;
  return typeof label === "string" && label.trim() !== "" ? label.trim() : "service";
}

/** Own properties only: a label named like an Object.prototype member is just absent. */
function label(values: Record<string, string> | null | undefined, name: string): string | undefined {
  return values && Object.hasOwn(values, name) ? values[name] : undefined;
}
