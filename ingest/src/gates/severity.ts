/**
 * Incident severities arrive as free text from many tools (PagerDuty "P1", Opsgenie
 * "P2", incident.io "Critical", GitHub labels "sev-1"). A rank makes them comparable:
 * 1 is the most severe. Unrecognised severities rank null.
 */
const RANKS: Record<string, number> = {
  critical: 1,
  sev0: 1,
  sev1: 1,
  p0: 1,
  p1: 1,
  high: 2,
  major: 2,
  error: 2,
  sev2: 2,
  p2: 2,
  medium: 3,
  moderate: 3,
  warning: 3,
  sev3: 3,
  p3: 3,
  low: 4,
  minor: 4,
  sev4: 4,
  p4: 4,
  info: 5,
  informational: 5,
  sev5: 5,
  p5: 5,
};

export const SEVERITY_NAMES = Object.keys(RANKS);

export function severityRank(severity: string | null | undefined): number | null {
  if (!severity) return null;
  const key = severity.trim().toLowerCase().replaceAll(/[\s_-]/g, "");
  return RANKS[key] ?? null;
}

/**
 * Whether an incident counts against `min_severity`. An incident whose severity is unknown
 * counts: a gate errs on the side of holding a promotion rather than missing an outage.
 */
export function atLeastAsSevere(severity: string | null, minimum: string | undefined): boolean {
  if (minimum === undefined) return true;
  const rank = severityRank(severity);
  const floor = severityRank(minimum);
  if (rank === null || floor === null) return true;
  return rank <= floor;
}
