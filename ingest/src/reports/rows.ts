import type { Metrics } from "@sluice/db";

/** One CSV row per group: every metric value, its level and the counts behind it (issue 7). */
export const CSV_COLUMNS = [
  "group_by",
  "group",
  "team",
  "service",
  "from",
  "to",
  "days",
  "benchmark",
  "deployments",
  "deployments_per_day",
  "deployments_per_week",
  "deploy_days",
  "deployment_frequency_level",
  "changes",
  "lead_time_median_seconds",
  "lead_time_p75_seconds",
  "lead_time_p90_seconds",
  "lead_time_level",
  "failed_deployments",
  "change_failure_rate",
  "change_failure_rate_level",
  "failures",
  "recovered",
  "recovery_time_median_seconds",
  "recovery_time_p90_seconds",
  "recovery_time_level",
  "incidents",
  "time_to_restore_median_seconds",
  "time_to_restore_p90_seconds",
  "rework_deployments",
  "rework_rate",
  "level",
] as const;

export type CsvRow = Record<(typeof CSV_COLUMNS)[number], string | number | null>;

export function csvRow(options: {
  groupBy: "team" | "service";
  team: string | null;
  service: string | null;
  metrics: Metrics;
}): CsvRow {
  const m = options.metrics;
  return {
    group_by: options.groupBy,
    group: (options.groupBy === "team" ? options.team : options.service) ?? "(no team)",
    team: options.team,
    service: options.service,
    from: m.window.from,
    to: m.window.to,
    days: m.window.days,
    benchmark: m.benchmark,
    deployments: m.deployment_frequency.deployments,
    deployments_per_day: m.deployment_frequency.per_day,
    deployments_per_week: m.deployment_frequency.per_week,
    deploy_days: m.deployment_frequency.deploy_days,
    deployment_frequency_level: m.deployment_frequency.level,
    changes: m.lead_time.changes,
    lead_time_median_seconds: m.lead_time.median_seconds,
    lead_time_p75_seconds: m.lead_time.p75_seconds,
    lead_time_p90_seconds: m.lead_time.p90_seconds,
    lead_time_level: m.lead_time.level,
    failed_deployments: m.change_failure_rate.failed,
    change_failure_rate: m.change_failure_rate.rate,
    change_failure_rate_level: m.change_failure_rate.level,
    failures: m.recovery_time.failures,
    recovered: m.recovery_time.recovered,
    recovery_time_median_seconds: m.recovery_time.median_seconds,
    recovery_time_p90_seconds: m.recovery_time.p90_seconds,
    recovery_time_level: m.recovery_time.level,
    incidents: m.time_to_restore.incidents,
    time_to_restore_median_seconds: m.time_to_restore.median_seconds,
    time_to_restore_p90_seconds: m.time_to_restore.p90_seconds,
    rework_deployments: m.rework_rate.rework,
    rework_rate: m.rework_rate.rate,
    level: m.level,
  };
}
