import { type SQL, sql } from "drizzle-orm";
import { type Executor, rows } from "../client.ts";

// The SQL behind the metrics object. Each statement reads the columns derived at ingest time
// (db/src/derive), so nothing here walks commits or attributes incidents. The CTEs are named
// after the terms of docs/metrics.md. Results come back per (group, bucket): a group is a set
// of services (the scope, a team, one service), buckets tile the window (one bucket for plain
// metrics, day/week/month buckets for a timeseries).

export interface Tiling {
  /** Services per group; undefined (only as the single group) = every service. */
  groups: Array<number[] | undefined>;
  environment?: string | undefined;
  /** Bucket starts, ascending; bucket i is [starts[i], starts[i+1]) and the last ends at `end`. */
  starts: Date[];
  end: Date;
}

const isoArray = (dates: Date[]) => `{${dates.map((d) => d.toISOString()).join(",")}}`;
const intArray = (values: number[]) => `{${values.join(",")}}`;

/**
 * The CTEs every statement starts with: the buckets and the services of each group. One
 * service or one bucket is written as a plain row, not an unnest: PostgreSQL estimates an
 * unnest of a parameter at ten rows, so a prepared statement for one service kept its
 * generic plan dearer than a fresh one and was planned again at every call (0.7 ms of a gate
 * evaluation's 1 ms statement). With the plain row the generic plan is chosen and reused.
 */
function scopeCtes(tiling: Tiling): SQL {
  const [only] = tiling.groups;
  const scopeServices =
    tiling.groups.length === 1 && only === undefined
      ? sql`select id as service_id, 0 as grp from services`
      : tiling.groups.length === 1 && only?.length === 1
        ? sql`select ${only[0]}::bigint as service_id, 0 as grp`
        : sql`select s.service_id, s.grp from unnest(${intArray(
            tiling.groups.flatMap((ids) => ids ?? []),
          )}::bigint[], ${intArray(tiling.groups.flatMap((ids, grp) => (ids ?? []).map(() => grp)))}::int[]) as s(service_id, grp)`;
  const buckets =
    tiling.starts.length === 1
      ? sql`select 0 as bucket, ${(tiling.starts[0] as Date).toISOString()}::timestamptz as bucket_from,
          ${tiling.end.toISOString()}::timestamptz as bucket_to`
      : sql`select (b.n - 1)::int as bucket, b.bucket_from,
          coalesce(lead(b.bucket_from) over (order by b.n), ${tiling.end.toISOString()}::timestamptz) as bucket_to
        from unnest(${isoArray(tiling.starts)}::timestamptz[]) with ordinality as b(bucket_from, n)`;
  return sql`
    buckets as (${buckets}),
    scope_services as (${scopeServices})`;
}

/**
 * With one group and one bucket the aggregates run without GROUP BY: PostgreSQL sorts the
 * input of a grouped ordered-set aggregate (percentile_cont) by the group keys first, an extra
 * sort of every row for nothing.
 */
const grouped = (tiling: Tiling) => tiling.groups.length > 1 || tiling.starts.length > 1;
const groupKeys = (tiling: Tiling) => (grouped(tiling) ? sql`grp, bucket` : sql`0 as grp, 0 as bucket`);
const groupBy = (tiling: Tiling) => (grouped(tiling) ? sql`group by grp, bucket` : sql``);

// width_bucket finds a time's bucket by binary search over the starts (they tile the window).
const bucketOf = (tiling: Tiling, column: SQL) =>
  tiling.starts.length === 1 ? sql`0` : sql`width_bucket(${column}, ${isoArray(tiling.starts)}::timestamptz[]) - 1`;
/** The end of each bucket, indexed like width_bucket's answer (1-based). */
const bucketEnd = (tiling: Tiling, column: SQL) =>
  tiling.starts.length === 1
    ? sql`${tiling.end.toISOString()}::timestamptz`
    : sql`(${isoArray([...tiling.starts.slice(1), tiling.end])}::timestamptz[])[width_bucket(${column}, ${isoArray(tiling.starts)}::timestamptz[])]`;
const inWindow = (tiling: Tiling, column: SQL) =>
  sql`${column} >= ${(tiling.starts[0] as Date).toISOString()}::timestamptz and ${column} < ${tiling.end.toISOString()}::timestamptz`;

/**
 * The 7-day periods of each bucket (SPEC 4.1). For one bucket their number is written into the
 * statement: PostgreSQL cannot estimate a generate_series over a parameter, guesses 1,000 rows,
 * and would plan the statement afresh at every call rather than reuse its generic plan.
 */
function weeksOf(tiling: Tiling): SQL {
  if (tiling.starts.length === 1) {
    const weeks = Math.max(1, Math.floor((tiling.end.getTime() - (tiling.starts[0] as Date).getTime()) / WEEK_MS));
    return sql`select 0 as bucket, p.week from generate_series(0, ${sql.raw(String(weeks - 1))}) as p(week)`;
  }
  return sql`select b.bucket, p.week
      from buckets b, generate_series(0, greatest(1, floor(date_part('epoch', b.bucket_to - b.bucket_from) / 604800)::int) - 1) as p(week)`;
}

const WEEK_MS = 604_800_000;

// docs/metrics.md "Negative spans": a duration that comes out negative (clocks or data disagree)
// is left out of every median, percentile and count of its metric; GET /api/v1/data-quality
// lists it (db/src/queries/data-quality.ts, same selections).

export type DeploymentStats = {
  grp: number;
  bucket: number;
  deployments: number;
  deploy_days: number;
  median_weekly_deploy_days: number;
  failed: number;
  recovered: number;
  recovery_median: number | null;
  recovery_p90: number | null;
  rework: number;
};

/**
 * Deployment frequency, change failure rate, failed deployment recovery time and rework rate.
 * A failure recovered before it finished stays a failure but is not `recovered` (negative span).
 */
export function deploymentStatement(db: Executor, tiling: Tiling): Promise<DeploymentStats[]> {
  const environment = tiling.environment === undefined ? sql`` : sql`and d.environment = ${tiling.environment}`;
  const production = sql`from scope_services s
      join deployments d on d.service_id = s.service_id
      where d.is_production and ${inWindow(tiling, sql`d.finished_at`)} ${environment}`;
  return rows<DeploymentStats>(
    db,
    sql`with ${scopeCtes(tiling)},
    -- One pass over the production deployments, counted per UTC date and per 7-day period of
    -- SPEC 4.1: whole periods ending at the bucket's end (period p is [end - (p+1) weeks,
    -- end - p weeks)); a shorter leftover at the start is ignored, a bucket under 7 days is one.
    deploy_days as (
      select s.grp, ${bucketOf(tiling, sql`d.finished_at`)} as bucket,
        ceil(date_part('epoch', ${bucketEnd(tiling, sql`d.finished_at`)} - d.finished_at) / 604800)::int - 1 as week,
        (d.finished_at at time zone 'UTC')::date as day,
        count(*) as deployments, count(*) filter (where d.failed) as failed,
        count(*) filter (where d.failed and d.recovered_at >= d.finished_at) as recovered,
        count(*) filter (where d.rework) as rework
      ${production}
      group by 1, 2, 3, 4
    ),
    deployment_counts as (
      select grp, bucket, sum(deployments)::int as deployments, count(distinct day)::int as deploy_days,
        sum(failed)::int as failed, sum(recovered)::int as recovered, sum(rework)::int as rework
      from deploy_days group by grp, bucket
    ),
    recoveries as (
      select ${grouped(tiling) ? sql`s.grp, ${bucketOf(tiling, sql`d.finished_at`)} as bucket` : sql`0 as grp, 0 as bucket`},
        percentile_cont(array[0.5, 0.9]) within group (order by date_part('epoch', d.recovered_at - d.finished_at)) as q
      ${production} and d.failed and d.recovered_at >= d.finished_at
      ${grouped(tiling) ? sql`group by 1, 2` : sql``}
    ),
    weeks as (${weeksOf(tiling)}),
    deploy_days_per_week as (
      select g.grp, w.bucket, w.week, count(distinct dd.day) as days
      from (select distinct grp from scope_services) g
      cross join weeks w
      left join deploy_days dd on dd.grp = g.grp and dd.bucket = w.bucket and dd.week = w.week
      group by g.grp, w.bucket, w.week
    ),
    median_deploy_days as (
      select grp, bucket, percentile_cont(0.5) within group (order by days) as median
      from deploy_days_per_week group by grp, bucket
    )
    select m.grp::int as grp, m.bucket::int as bucket,
      coalesce(c.deployments, 0)::int as deployments, coalesce(c.deploy_days, 0)::int as deploy_days,
      m.median::float8 as median_weekly_deploy_days,
      coalesce(c.failed, 0)::int as failed, coalesce(c.recovered, 0)::int as recovered,
      r.q[1]::float8 as recovery_median, r.q[2]::float8 as recovery_p90,
      coalesce(c.rework, 0)::int as rework
    from median_deploy_days m
    left join deployment_counts c on c.grp = m.grp and c.bucket = m.bucket
    left join recoveries r on r.grp = m.grp and r.bucket = m.bucket`,
  );
}

export type LeadTimeStats = {
  grp: number;
  bucket: number;
  changes: number;
  median: number | null;
  p75: number | null;
  p90: number | null;
};

// docs/metrics.md "Baseline deployment": its changes stay out of lead time unless its event listed them.
const baselineDeployments = sql`baseline_deployments as (
      select d.id from scope_services s join deployments d on d.service_id = s.service_id
      where d.baseline and d.explicit_commits is null
    )`;

function changesOfEnvironment(tiling: Tiling): SQL {
  if (tiling.environment === undefined) return sql``;
  return sql`and dc.deployment_id in (select d.id from scope_services s join deployments d on d.service_id = s.service_id
    where d.is_production and d.environment = ${tiling.environment} and ${inWindow(tiling, sql`d.finished_at`)})`;
}

/** Lead time for changes: every change counted, so one sort of possibly 10^5-10^6 values. */
export function leadTimeStatement(db: Executor, tiling: Tiling): Promise<LeadTimeStats[]> {
  return rows<LeadTimeStats>(
    db,
    sql`with ${scopeCtes(tiling)}, ${baselineDeployments},
    lead_time_changes as (
      select s.grp, ${bucketOf(tiling, sql`dc.finished_at`)} as bucket, dc.lead_time_seconds as seconds
      from scope_services s
      join deployment_changes dc on dc.service_id = s.service_id
      where ${inWindow(tiling, sql`dc.finished_at`)} and dc.in_scope and dc.committed_at is not null
        and dc.lead_time_seconds >= 0
        and dc.deployment_id not in (select id from baseline_deployments) ${changesOfEnvironment(tiling)}
    ),
    lead_times as (
      select ${groupKeys(tiling)}, count(*)::int as changes,
        percentile_cont(array[0.5, 0.75, 0.9]) within group (order by seconds) as q
      from lead_time_changes ${groupBy(tiling)}
    )
    select grp::int as grp, bucket::int as bucket, changes, q[1]::float8 as median, q[2]::float8 as p75, q[3]::float8 as p90
    from lead_times`,
  );
}

export type PullRequestStats = {
  grp: number;
  bucket: number;
  pull_requests: number;
  coding_median: number | null;
  review_median: number | null;
  deploy_median: number | null;
};

/**
 * The pull request breakdown of lead time, over the same changes: those that came through a
 * pull request (with the collectors, a PR's merge commit), each stage's median. Each stage is
 * a span of its own: a negative one is left out of its own median only (percentile_cont skips
 * nulls), whatever the change's other spans, so this reads the index alone (lead_time_seconds
 * is not in deployment_changes_pull_requests_idx).
 */
export function pullRequestStatement(db: Executor, tiling: Tiling): Promise<PullRequestStats[]> {
  return rows<PullRequestStats>(
    db,
    sql`with ${scopeCtes(tiling)}, ${baselineDeployments},
    pull_request_changes as (
      select s.grp, ${bucketOf(tiling, sql`dc.finished_at`)} as bucket,
        case when dc.pr_coding_seconds >= 0 then dc.pr_coding_seconds end as coding,
        case when dc.pr_review_seconds >= 0 then dc.pr_review_seconds end as review,
        case when dc.pr_deploy_seconds >= 0 then dc.pr_deploy_seconds end as deploy
      from scope_services s
      join deployment_changes dc on dc.service_id = s.service_id
      where ${inWindow(tiling, sql`dc.finished_at`)} and dc.in_scope and dc.committed_at is not null and dc.pr_number is not null
        and dc.deployment_id not in (select id from baseline_deployments) ${changesOfEnvironment(tiling)}
    )
    select ${groupKeys(tiling)}, count(*)::int as pull_requests,
      percentile_cont(0.5) within group (order by coding)::float8 as coding_median,
      percentile_cont(0.5) within group (order by review)::float8 as review_median,
      percentile_cont(0.5) within group (order by deploy)::float8 as deploy_median
    from pull_request_changes ${groupBy(tiling)}`,
  );
}

export type RestoreStats = {
  grp: number;
  bucket: number;
  incidents: number;
  median: number | null;
  p90: number | null;
};

/**
 * Time to restore service: incidents resolved in the bucket, not before they started.
 * Incidents have no environment.
 */
export function restoreStatement(db: Executor, tiling: Tiling): Promise<RestoreStats[]> {
  return rows<RestoreStats>(
    db,
    sql`with ${scopeCtes(tiling)},
    restored_incidents as (
      select s.grp, ${bucketOf(tiling, sql`i.resolved_at`)} as bucket,
        date_part('epoch', i.resolved_at - i.started_at) as seconds
      from scope_services s
      join incidents i on i.service_id = s.service_id
      where ${inWindow(tiling, sql`i.resolved_at`)} and i.resolved_at >= i.started_at
    ),
    time_to_restore as (
      select ${groupKeys(tiling)}, count(*)::int as incidents,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds) as q
      from restored_incidents ${groupBy(tiling)}
    )
    select grp::int as grp, bucket::int as bucket, incidents, q[1]::float8 as median, q[2]::float8 as p90
    from time_to_restore`,
  );
}
