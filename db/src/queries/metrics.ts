import type { Executor } from "../client.ts";
import {
  type Benchmark,
  LEVEL_TABLE,
  type Level,
  changeFailureLevel,
  deploymentFrequencyLevel,
  leadTimeLevel,
  overallLevel,
  recoveryLevel,
} from "./levels.ts";
import {
  type DeploymentStats,
  type LeadTimeStats,
  type PullRequestStats,
  type RestoreStats,
  type Tiling,
  deploymentStatement,
  leadTimeStatement,
  pullRequestStatement,
  restoreStatement,
} from "./metric-statements.ts";
import { type Interval, bucketStarts, windowDays } from "./windows.ts";

// The metrics object of SPEC 5.1 (without its scope, which the API adds). Every definition is
// SPEC section 4, explained with worked examples in docs/metrics.md.

export interface MetricsWindow {
  from: Date;
  to: Date;
}

export interface MetricsScope extends MetricsWindow {
  /** undefined = every service. */
  serviceIds?: number[] | undefined;
  environment?: string | undefined;
  benchmark: Benchmark;
  /**
   * Leave out the pull request breakdown and time to restore (their fields come back empty):
   * a gate's DORA rules read neither, and skip two statements.
   */
  core?: boolean;
}

export interface Metrics {
  window: { from: string; to: string; days: number };
  benchmark: Benchmark;
  deployment_frequency: {
    deployments: number;
    per_day: number;
    per_week: number;
    deploy_days: number;
    median_deploy_days_per_week: number;
    level: Level | null;
  };
  lead_time: {
    changes: number;
    median_seconds: number | null;
    p75_seconds: number | null;
    p90_seconds: number | null;
    level: Level | null;
    breakdown: {
      pull_requests: number;
      coding_median_seconds: number | null;
      review_median_seconds: number | null;
      deploy_median_seconds: number | null;
    };
  };
  change_failure_rate: { deployments: number; failed: number; rate: number | null; level: Level | null };
  recovery_time: {
    failures: number;
    recovered: number;
    median_seconds: number | null;
    p90_seconds: number | null;
    level: Level | null;
  };
  time_to_restore: { incidents: number; median_seconds: number | null; p90_seconds: number | null; level: Level | null };
  rework_rate: { deployments: number; rework: number; rate: number | null };
  level: Level | null;
}

// Seconds keep millisecond precision (interpolated percentiles may fall between seconds);
// ratios keep four decimals. Levels are classified from the unrounded numbers.
const roundSeconds = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 1000);
const roundRatio = (value: number) => Math.round(value * 10_000) / 10_000;
const ratio = (part: number, whole: number) => (whole === 0 ? null : roundRatio(part / whole));

function assemble(
  window: MetricsWindow,
  benchmark: Benchmark,
  d: DeploymentStats | undefined,
  l: LeadTimeStats | undefined,
  p: PullRequestStats | undefined,
  r: RestoreStats | undefined,
): Metrics {
  const days = windowDays(window.from, window.to);
  const deployments = d?.deployments ?? 0;
  const failed = d?.failed ?? 0;
  const medianWeeklyDeployDays = d?.median_weekly_deploy_days ?? 0;
  const frequencyLevel = deploymentFrequencyLevel(benchmark, {
    deployments,
    medianWeeklyDeployDays,
    windowMs: window.to.getTime() - window.from.getTime(),
  });
  const leadLevel = leadTimeLevel(benchmark, l?.median ?? null);
  const failureLevel = changeFailureLevel(benchmark, { deployments, failed });
  const restoreLevel = recoveryLevel(benchmark, r?.median ?? null);
  // SPEC 4.1: the recovery level reads failed deployment recovery time, or time to restore for 2021.
  const recovery =
    LEVEL_TABLE[benchmark].recoveryFrom === "time_to_restore" ? restoreLevel : recoveryLevel(benchmark, d?.recovery_median ?? null);
  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days: roundRatio(days) },
    benchmark,
    deployment_frequency: {
      deployments,
      per_day: roundRatio(deployments / days),
      per_week: roundRatio(deployments / (days / 7)),
      deploy_days: d?.deploy_days ?? 0,
      median_deploy_days_per_week: medianWeeklyDeployDays,
      level: frequencyLevel,
    },
    lead_time: {
      changes: l?.changes ?? 0,
      median_seconds: roundSeconds(l?.median ?? null),
      p75_seconds: roundSeconds(l?.p75 ?? null),
      p90_seconds: roundSeconds(l?.p90 ?? null),
      level: leadLevel,
      breakdown: {
        pull_requests: p?.pull_requests ?? 0,
        coding_median_seconds: roundSeconds(p?.coding_median ?? null),
        review_median_seconds: roundSeconds(p?.review_median ?? null),
        deploy_median_seconds: roundSeconds(p?.deploy_median ?? null),
      },
    },
    change_failure_rate: { deployments, failed, rate: ratio(failed, deployments), level: failureLevel },
    recovery_time: {
      failures: failed,
      recovered: d?.recovered ?? 0,
      median_seconds: roundSeconds(d?.recovery_median ?? null),
      p90_seconds: roundSeconds(d?.recovery_p90 ?? null),
      level: recovery,
    },
    time_to_restore: {
      incidents: r?.incidents ?? 0,
      median_seconds: roundSeconds(r?.median ?? null),
      p90_seconds: roundSeconds(r?.p90 ?? null),
      level: restoreLevel,
    },
    rework_rate: { deployments, rework: d?.rework ?? 0, rate: ratio(d?.rework ?? 0, deployments) },
    level: overallLevel([frequencyLevel, leadLevel, failureLevel, recovery]),
  };
}

const keyed = <T extends { grp: number; bucket: number }>(found: T[]) =>
  new Map(found.map((row) => [`${row.grp}:${row.bucket}`, row]));

/** Metrics for every group and bucket of a tiling: result[group][bucket]. */
async function computeTiled(db: Executor, tiling: Tiling, benchmark: Benchmark, core = false): Promise<Metrics[][]> {
  // Independent statements: on PostgreSQL they run on separate pooled connections at once.
  // Lead time sorts every change of the window (some 450,000 org-wide over 90 days): the
  // connections sort in 16 MB of work_mem (db/src/client.ts), so that sort stays in memory.
  const [deploymentRows, leadRows, pullRequestRows, restoreRows] = await Promise.all([
    deploymentStatement(db, tiling),
    leadTimeStatement(db, tiling),
    core ? [] : pullRequestStatement(db, tiling),
    core ? [] : restoreStatement(db, tiling),
  ]);
  const d = keyed(deploymentRows);
  const l = keyed(leadRows);
  const p = keyed(pullRequestRows);
  const r = keyed(restoreRows);
  return tiling.groups.map((_, grp) =>
    tiling.starts.map((from, bucket) => {
      const to = tiling.starts[bucket + 1] ?? tiling.end;
      const key = `${grp}:${bucket}`;
      return assemble({ from, to }, benchmark, d.get(key), l.get(key), p.get(key), r.get(key));
    }),
  );
}

/** The metrics object of SPEC 5.1 for one scope and window. */
export async function computeMetrics(db: Executor, scope: MetricsScope): Promise<Metrics> {
  const [[metrics]] = (await computeTiled(
    db,
    { groups: [scope.serviceIds], environment: scope.environment, starts: [scope.from], end: scope.to },
    scope.benchmark,
    scope.core,
  )) as [[Metrics]];
  return metrics;
}

export interface Timeseries {
  interval: Interval;
  buckets: Array<{ start: string } & Metrics>;
}

/** Buckets that tile [from, to) from `from` on; the last one may be shorter. */
export async function computeTimeseries(db: Executor, scope: MetricsScope & { interval: Interval }): Promise<Timeseries> {
  const starts = bucketStarts(scope.from, scope.to, scope.interval);
  const [series = []] = await computeTiled(
    db,
    { groups: [scope.serviceIds], environment: scope.environment, starts, end: scope.to },
    scope.benchmark,
  );
  return {
    interval: scope.interval,
    buckets: series.map((metrics) => ({ start: metrics.window.from, ...metrics })),
  };
}

/** One metrics object per group of services (a team, a service), in the order given. */
export async function computeBreakdown(
  db: Executor,
  scope: Omit<MetricsScope, "serviceIds"> & { groups: number[][] },
): Promise<Metrics[]> {
  if (scope.groups.length === 0) return [];
  const tiled = await computeTiled(
    db,
    { groups: scope.groups, environment: scope.environment, starts: [scope.from], end: scope.to },
    scope.benchmark,
  );
  return tiled.map((series) => series[0] as Metrics);
}
