import type { GateAppliesTo } from "@sluice/db";

/**
 * Whether a gate covers a service in an environment. A gate lists environments, and
 * optionally teams and services: with neither list it covers every service; with one or
 * both, a service is covered when it is listed or its team is.
 */
export function appliesTo(
  appliesTo: GateAppliesTo,
  target: { service: string; team: string | null; environment: string },
): { applies: true } | { applies: false; field: "environment" | "service"; reason: string } {
  if (!appliesTo.environments.includes(target.environment)) {
    return {
      applies: false,
      field: "environment",
      reason: `the gate applies to ${appliesTo.environments.map((e) => `"${e}"`).join(", ")}, not "${target.environment}"`,
    };
  }
  const teams = appliesTo.teams ?? [];
  const services = appliesTo.services ?? [];
  if (teams.length === 0 && services.length === 0) return { applies: true };
  if (services.includes(target.service) || (target.team !== null && teams.includes(target.team))) return { applies: true };
  return { applies: false, field: "service", reason: `the gate does not apply to service "${target.service}"` };
}

/** Where a pipeline that names no environment is going: the gate's first environment. */
export const defaultEnvironment = (appliesTo: GateAppliesTo) => appliesTo.environments[0] ?? "production";
