/**
 * What each figure means, in a sentence, for the explanation tooltips; /help/metrics shows
 * the longer text. Both follow SPEC section 4 and docs/metrics.md (the authority, with worked
 * examples).
 */
export type MetricKey =
  | "deployment_frequency"
  | "lead_time"
  | "change_failure_rate"
  | "recovery_time"
  | "time_to_restore"
  | "rework_rate";

export interface Definition {
  key: MetricKey;
  title: string;
  short: string;
  long: string[];
}

export const DEFINITIONS: Record<MetricKey, Definition> = {
  deployment_frequency: {
    key: "deployment_frequency",
    title: "Deployment frequency",
    short: "How often production deployments succeed: successful deployments to a production environment that finished in the period.",
    long: [
      "Counts successful deployments to an environment matching the service's production pattern (default prod or production) that finished in the period; also per day, per week and deploy days (dates with at least one).",
      "Level: elite when the median number of deploy days per week is at least 5, high at least 1, medium when there is at least one deployment per 30 days (2021: high at least one per 30 days, medium one per 182 days).",
    ],
  },
  lead_time: {
    key: "lead_time",
    title: "Lead time for changes",
    short: "From commit to running in production: for each change first deployed in the period, the deployment's finish time minus the commit time. The median is the headline.",
    long: [
      "The changes of a deployment are the commits that reach production for the first time with it: its explicit commit list, or a walk back through the commit graph that stops at commits already deployed.",
      "The first production deployment Sluice knows of a service (the baseline) is left out, unless its event listed its commits, so that old history does not inflate the figure.",
      "Shown: median (headline), p75, p90 and the count; where pull requests are known, coding, review and deploy times.",
    ],
  },
  change_failure_rate: {
    key: "change_failure_rate",
    title: "Change failure rate",
    short: "Share of production deployments in the period that failed: an incident was attributed to them, they were rolled back or fixed forward, or marked failed.",
    long: [
      "Failed production deployments divided by production deployments, by finish time in the period. No deployments gives no figure (not 0 %).",
      "An incident is attributed to the deployment it names, else to the latest production deployment of its service that finished before the incident started, within the service's attribution window (default 7 days).",
    ],
  },
  recovery_time: {
    key: "recovery_time",
    title: "Failed deployment recovery time",
    short: "How long failed deployments took to recover: until their last incident was resolved, or until the rollback or fix-forward finished. Median is the headline.",
    long: [
      "For each failed deployment that finished in the period and has recovered: recovered at minus finished at. Failures not yet recovered are counted separately.",
      "The 2023 and 2024 benchmarks rate this figure; the 2021 benchmark rates time to restore service instead.",
    ],
  },
  time_to_restore: {
    key: "time_to_restore",
    title: "Time to restore service",
    short: "For incidents resolved in the period: resolved at minus started at. Median and p90.",
    long: ["Counts every incident resolved in the period, attributed to a deployment or not."],
  },
  rework_rate: {
    key: "rework_rate",
    title: "Rework rate",
    short: "Share of production deployments that were unplanned fixes: rollbacks, hotfixes, fix-forwards, or the first deployment after a failure before it recovered.",
    long: [
      "DORA's fifth metric (2024). A hotfix is flagged, or comes from a branch named hotfix/*. It has no performance level.",
    ],
  },
};

export const helpHref = (key: MetricKey) => `/help/metrics#${key.replaceAll("_", "-")}`;
