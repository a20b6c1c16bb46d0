import { formatDuration, formatNumber, formatPercent } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";

/**
 * The part of a SPEC 5.1 metrics object the DORA rules read. The numbers come from
 * computeMetrics (db/src/queries/metrics.ts), so a gate and the dashboard never disagree.
 */
export interface DoraObservation {
  deployment_frequency: { deployments: number; per_week: number | null };
  lead_time: { changes: number; median_seconds: number | null };
  change_failure_rate: { deployments: number; failed: number; rate: number | null };
  recovery_time: { failures: number; recovered: number; median_seconds: number | null };
}

const window = (days: number) => (days === 1 ? "the last day" : `the last ${days} days`);
const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

export function changeFailureRate(rule: RuleOf<"change_failure_rate">, metrics: DoraObservation): Verdict {
  const { deployments, failed, rate } = metrics.change_failure_rate;
  const threshold = rule.max;
  const counted = `${failed} of ${plural(deployments, "production deployment")} in ${window(rule.window_days)}`;
  if (rate === null) {
    return {
      status: "pass",
      observed: null,
      threshold,
      message: `No production deployment in ${window(rule.window_days)}, so there is no change failure rate to judge and the rule passes.`,
    };
  }
  if (deployments < rule.min_deployments) {
    return {
      status: "pass",
      observed: rate,
      threshold,
      message: `Only ${plural(deployments, "production deployment")} in ${window(rule.window_days)}, fewer than the ${rule.min_deployments} needed to judge the change failure rate, so the rule passes.`,
    };
  }
  const within = rate <= rule.max;
  return {
    status: within ? "pass" : "fail",
    observed: rate,
    threshold,
    message: `Change failure rate is ${formatPercent(rate)} (${counted}), ${within ? "within" : "above"} the ${formatPercent(rule.max)} limit.`,
  };
}

export function leadTime(rule: RuleOf<"lead_time">, metrics: DoraObservation): Verdict {
  const median = metrics.lead_time.median_seconds;
  if (median === null) {
    return {
      status: "pass",
      observed: null,
      threshold: rule.max_seconds,
      message: `No change reached production in ${window(rule.window_days)}, so there is no lead time to judge and the rule passes.`,
    };
  }
  const within = median <= rule.max_seconds;
  return {
    status: within ? "pass" : "fail",
    observed: median,
    threshold: rule.max_seconds,
    message: `Median lead time for changes is ${formatDuration(median)} over ${window(rule.window_days)} (${plural(metrics.lead_time.changes, "change")}), ${within ? "within" : "above"} the ${formatDuration(rule.max_seconds)} limit.`,
  };
}

export function recoveryTime(rule: RuleOf<"recovery_time">, metrics: DoraObservation): Verdict {
  const { median_seconds: median, failures, recovered } = metrics.recovery_time;
  const unrecovered = failures - recovered;
  const still = unrecovered > 0 ? ` (${plural(unrecovered, "failed deployment")} not recovered yet)` : "";
  if (median === null) {
    return {
      status: "pass",
      observed: null,
      threshold: rule.max_seconds,
      message: `No failed deployment recovered in ${window(rule.window_days)}${still}, so there is no recovery time to judge and the rule passes.`,
    };
  }
  const within = median <= rule.max_seconds;
  return {
    status: within ? "pass" : "fail",
    observed: median,
    threshold: rule.max_seconds,
    message: `Median failed deployment recovery time is ${formatDuration(median)} over ${window(rule.window_days)}${still}, ${within ? "within" : "above"} the ${formatDuration(rule.max_seconds)} limit.`,
  };
}

export function deploymentFrequency(rule: RuleOf<"deployment_frequency">, metrics: DoraObservation): Verdict {
  const perWeek = metrics.deployment_frequency.per_week ?? 0;
  const enough = perWeek >= rule.min_per_week;
  return {
    status: enough ? "pass" : "fail",
    observed: perWeek,
    threshold: rule.min_per_week,
    message: `${formatNumber(perWeek)} production deployments per week over ${window(rule.window_days)} (${metrics.deployment_frequency.deployments} in all), ${enough ? "at least" : "fewer than"} the ${formatNumber(rule.min_per_week)} required.`,
  };
}
