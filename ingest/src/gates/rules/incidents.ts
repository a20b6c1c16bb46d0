import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";
import { atLeastAsSevere } from "../severity.ts";

export interface OpenIncident {
  externalId: string;
  title: string | null;
  severity: string | null;
  startedAt: Date;
}

const describe = (incident: OpenIncident) =>
  `${incident.externalId}${incident.title ? ` "${incident.title}"` : ""}${incident.severity ? ` (${incident.severity})` : ""}`;

export function openIncidents(rule: RuleOf<"open_incidents">, service: string, open: readonly OpenIncident[]): Verdict {
  const counted = open.filter((incident) => atLeastAsSevere(incident.severity, rule.min_severity));
  const scope = rule.min_severity ? ` at or above severity ${rule.min_severity}` : "";
  const within = counted.length <= rule.max;
  if (counted.length === 0) {
    return { status: "pass", observed: 0, threshold: rule.max, message: `No incident${scope} is open on ${service}.` };
  }
  const listed = counted.slice(0, 3).map(describe).join(", ") + (counted.length > 3 ? `, and ${counted.length - 3} more` : "");
  const count = `${counted.length} open incident${counted.length === 1 ? "" : "s"}${scope} on ${service}`;
  return {
    status: within ? "pass" : "fail",
    observed: counted.length,
    threshold: rule.max,
    message: within
      ? `${count} (${listed}), within the ${rule.max} allowed.`
      : `${count} (${listed}), more than the ${rule.max} allowed.`,
  };
}
