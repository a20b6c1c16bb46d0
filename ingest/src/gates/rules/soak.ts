import { formatDuration } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";

/** What the database knows about the sha in the soak environment, as of "now". */
export interface SoakObservation {
  /** The latest successful deployment of the sha there that had finished by now. */
  deployedAt: Date | null;
  /** A deployment of the sha there that has not finished (queued or in progress). */
  deploying: boolean;
  /** The next successful deployment of another sha there, which ended this one's run. */
  replaced: { sha: string; at: Date } | null;
  /** The first incident on the service that opened after the sha reached the environment. */
  incident: { externalId: string; title: string | null; startedAt: Date } | null;
}

const short = (sha: string) => sha.slice(0, 12);

/**
 * SPEC 7 soak: the sha has run in the environment for min_seconds with no incident on the
 * service since. Too early is a wait (pending), not a verdict; an incident, or another sha
 * replacing it before the soak was done, fails it.
 */
export function soak(rule: RuleOf<"soak">, sha: string | null, observed: SoakObservation, now: Date): Verdict {
  const threshold = rule.min_seconds;
  const env = rule.environment;
  const need = formatDuration(rule.min_seconds);
  if (sha === null) {
    return {
      status: "fail",
      observed: null,
      threshold,
      message: `A soak in ${env} needs the sha under evaluation, and the request named none.`,
    };
  }
  if (observed.deployedAt === null) {
    if (observed.deploying) {
      return {
        status: "pending",
        observed: 0,
        threshold,
        retry_after_seconds: rule.min_seconds,
        message: `${short(sha)} is still being deployed to ${env}; its ${need} soak starts when that deployment finishes.`,
      };
    }
    return {
      status: "fail",
      observed: null,
      threshold,
      message: `${short(sha)} has no successful deployment in ${env}, so it has not soaked there.`,
    };
  }
  const start = observed.deployedAt.getTime();
  if (observed.incident) {
    const after = formatDuration((observed.incident.startedAt.getTime() - start) / 1000);
    const title = observed.incident.title ? ` "${observed.incident.title}"` : "";
    return {
      status: "fail",
      observed: Math.floor((now.getTime() - start) / 1000),
      threshold,
      message: `Incident ${observed.incident.externalId}${title} opened ${after} after ${short(sha)} reached ${env}.`,
    };
  }
  const end = observed.replaced ? observed.replaced.at.getTime() : now.getTime();
  const soaked = Math.floor((end - start) / 1000);
  if (soaked >= rule.min_seconds) {
    return {
      status: "pass",
      observed: soaked,
      threshold,
      message: `${short(sha)} ran in ${env} for ${formatDuration(soaked)} without an incident, at least the ${need} required.`,
    };
  }
  if (observed.replaced) {
    return {
      status: "fail",
      observed: soaked,
      threshold,
      message: `${short(sha)} ran in ${env} for only ${formatDuration(soaked)} before ${short(observed.replaced.sha)} replaced it, less than the ${need} required.`,
    };
  }
  const wait = rule.min_seconds - soaked;
  return {
    status: "pending",
    observed: soaked,
    threshold,
    retry_after_seconds: wait,
    message: `${short(sha)} has run in ${env} for ${formatDuration(soaked)} of the ${need} required; ${formatDuration(wait)} to go.`,
  };
}
