import { type SQL, sql } from "drizzle-orm";
import { type Executor, rows } from "../client.ts";
import { bigintArray, timestamp } from "../sql-arrays.ts";
import { windowDays } from "./windows.ts";

// What the metrics had to leave out, or cannot know, for one scope and window (SPEC 4.2,
// docs/metrics.md "Data quality"). Each leaf is one bounded statement: its count over every
// matching row, and the first ROW_LIMIT rows naming the records behind it. The selections of
// the negative spans are those of db/src/queries/metric-statements.ts.

export const DATA_QUALITY_ROW_LIMIT = 100;
/** A commit not deployed this long after it was committed is "undeployed" (SPEC 4.2). */
export const UNDEPLOYED_AFTER_DAYS = 30;
/** A deployment still in progress this long after it started is "stuck" (SPEC 4.2). */
export const STUCK_AFTER_HOURS = 24;

export interface DataQualityScope {
  from: Date;
  to: Date;
  /** "Now", for the leaves that describe the present (stuck deployments). */
  now: Date;
  /** undefined = every service. */
  serviceIds?: number[] | undefined;
  environment?: string | undefined;
  /**
   * Whether failed webhook deliveries are listed: they belong to integrations, not services, so
   * a caller limited to a team is given none (docs/metrics.md "Data quality").
   */
  deliveries: boolean;
}

export interface Leaf<T> {
  count: number;
  rows: T[];
}

export type ChangeSpanRow = {
  id: number | null;
  sha: string;
  repository: string | null;
  service: string;
  deployment_id: number;
  external_id: string;
  committed_at: string;
  finished_at: string;
  seconds: number;
};

export type PullRequestSpanRow = {
  id: number | null;
  sha: string;
  repository: string | null;
  service: string;
  deployment_id: number;
  external_id: string;
  pull_request: number;
  first_commit_at: string | null;
  opened_at: string | null;
  merged_at: string | null;
  finished_at: string;
  seconds: number;
};

export type RecoverySpanRow = {
  id: number;
  service: string;
  external_id: string;
  sha: string;
  environment: string;
  finished_at: string;
  recovered_at: string;
  seconds: number;
};

export type RestoreSpanRow = {
  id: number;
  service: string;
  external_id: string;
  deployment_id: number | null;
  started_at: string;
  resolved_at: string;
  seconds: number;
};

export type UnknownChangesRow = {
  id: number;
  service: string;
  external_id: string;
  sha: string;
  environment: string;
  finished_at: string;
  baseline: boolean;
};

export type UndeployedCommitRow = {
  id: number;
  sha: string;
  repository: string;
  committed_at: string;
  branch: string | null;
  pull_request: number | null;
};

export type UnattributedIncidentRow = {
  id: number;
  service: string;
  external_id: string;
  title: string | null;
  started_at: string;
  resolved_at: string | null;
};

export type IdleServiceRow = {
  id: number;
  service: string;
  team: string | null;
  last_deployment_at: string | null;
};

export type StuckDeploymentRow = {
  id: number;
  service: string;
  external_id: string;
  sha: string;
  environment: string;
  started_at: string;
  seconds: number;
};

export type FailedDeliveryRow = {
  id: number;
  integration_id: string;
  source: string;
  delivery_id: string;
  event: string | null;
  received_at: string;
  error: string | null;
};

export type SetAsideRow = {
  id: number;
  service: string;
  kind: "deployment" | "change" | "incident";
  deployment_id: number | null;
  incident_id: number | null;
  repository: string | null;
  shas: string[] | null;
  attempts: number;
  last_error: string | null;
  set_aside_at: string;
};

export interface DataQuality {
  window: { from: string; to: string; days: number };
  negative_spans: {
    lead_time: Leaf<ChangeSpanRow>;
    coding: Leaf<PullRequestSpanRow>;
    review: Leaf<PullRequestSpanRow>;
    deploy: Leaf<PullRequestSpanRow>;
    recovery: Leaf<RecoverySpanRow>;
    time_to_restore: Leaf<RestoreSpanRow>;
  };
  unknown_changes: Leaf<UnknownChangesRow>;
  undeployed_commits: Leaf<UndeployedCommitRow>;
  unattributed_incidents: Leaf<UnattributedIncidentRow>;
  idle_services: Leaf<IdleServiceRow>;
  stuck_deployments: Leaf<StuckDeploymentRow>;
  failed_deliveries: Leaf<FailedDeliveryRow>;
  set_aside: Leaf<SetAsideRow>;
}

/** A time as the API writes it (Date.toISOString's form), from either driver. */
const iso = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** Seconds between two times, to the millisecond like the metrics. */
const span = (from: SQL, to: SQL) => sql`round(date_part('epoch', ${to} - ${from})::numeric, 3)::float8`;
const rounded = (seconds: SQL) => sql`round(${seconds}::numeric, 3)::float8`;

/** Runs one leaf's statement: it selects `total` (count(*) over ()) beside each row. */
async function leaf<T extends Record<string, unknown>>(db: Executor, statement: SQL): Promise<Leaf<T>> {
  const found = await rows<T & { total?: number }>(db, sql`${statement} limit ${sql.raw(String(DATA_QUALITY_ROW_LIMIT))}`);
  const count = found[0]?.total ?? 0;
  for (const row of found) delete row.total;
  return { count, rows: found };
}
const total = sql`count(*) over ()::int as total`;

/** Every statement's scope, window and environment conditions. */
function conditions(scope: DataQualityScope) {
  const from = timestamp(scope.from);
  const to = timestamp(scope.to);
  return {
    from,
    to,
    inScope: (serviceId: SQL) =>
      scope.serviceIds === undefined ? sql`true` : sql`${serviceId} = any(${bigintArray(scope.serviceIds)})`,
    inWindow: (column: SQL) => sql`${column} >= ${from} and ${column} < ${to}`,
    inEnvironment: (column: SQL) => (scope.environment === undefined ? sql`true` : sql`${column} = ${scope.environment}`),
  };
}

type Conditions = ReturnType<typeof conditions>;

/**
 * The changes lead time reads (metric-statements.ts leadTimeStatement): deployed in the window,
 * in the service's path prefix, commit time known, not a baseline's walked changes.
 */
const leadTimeChanges = (c: Conditions) => sql`
  from deployment_changes dc
  join deployments d on d.id = dc.deployment_id
  join services s on s.id = dc.service_id
  left join changes c on c.repository_id = dc.repository_id and c.sha = dc.sha
  left join repositories r on r.id = dc.repository_id
  where ${c.inScope(sql`dc.service_id`)} and ${c.inWindow(sql`dc.finished_at`)} and dc.in_scope and dc.committed_at is not null
    and not (d.baseline and d.explicit_commits is null) and ${c.inEnvironment(sql`d.environment`)}`;

const changeKeys = sql`c.id::int as id, dc.sha, r.name as repository, s.slug as service,
  dc.deployment_id::int as deployment_id, d.external_id`;

function negativeLeadTimes(db: Executor, c: Conditions) {
  return leaf<ChangeSpanRow>(
    db,
    sql`select ${changeKeys}, ${iso(sql`dc.committed_at`)} as committed_at, ${iso(sql`dc.finished_at`)} as finished_at,
          ${rounded(sql`dc.lead_time_seconds`)} as seconds, ${total}
        ${leadTimeChanges(c)} and dc.lead_time_seconds < 0
        order by dc.lead_time_seconds, dc.deployment_id, dc.sha`,
  );
}

const STAGES = { coding: sql`dc.pr_coding_seconds`, review: sql`dc.pr_review_seconds`, deploy: sql`dc.pr_deploy_seconds` };

/**
 * A pull request stage that came out negative, over the pull request changes of lead time's
 * selection (pullRequestStatement's). Each negative span is listed under its own kind: a pull
 * request merged after its deployment is usually a negative lead time too.
 */
function negativeStages(db: Executor, c: Conditions, stage: keyof typeof STAGES) {
  const seconds = STAGES[stage];
  return leaf<PullRequestSpanRow>(
    db,
    sql`select ${changeKeys}, dc.pr_number as pull_request, ${iso(sql`dc.pr_first_commit_at`)} as first_commit_at,
          ${iso(sql`dc.pr_opened_at`)} as opened_at, ${iso(sql`dc.pr_merged_at`)} as merged_at,
          ${iso(sql`dc.finished_at`)} as finished_at, ${rounded(seconds)} as seconds, ${total}
        ${leadTimeChanges(c)} and dc.pr_number is not null and ${seconds} < 0
        order by ${seconds}, dc.deployment_id, dc.sha`,
  );
}

function negativeRecoveries(db: Executor, c: Conditions) {
  return leaf<RecoverySpanRow>(
    db,
    sql`select d.id::int as id, s.slug as service, d.external_id, d.sha, d.environment,
          ${iso(sql`d.finished_at`)} as finished_at, ${iso(sql`d.recovered_at`)} as recovered_at,
          ${span(sql`d.finished_at`, sql`d.recovered_at`)} as seconds, ${total}
        from deployments d join services s on s.id = d.service_id
        where ${c.inScope(sql`d.service_id`)} and d.is_production and ${c.inWindow(sql`d.finished_at`)}
          and ${c.inEnvironment(sql`d.environment`)} and d.failed and d.recovered_at < d.finished_at
        order by d.recovered_at - d.finished_at, d.id`,
  );
}

function negativeRestores(db: Executor, c: Conditions) {
  return leaf<RestoreSpanRow>(
    db,
    sql`select i.id::int as id, s.slug as service, i.external_id, i.deployment_id::int as deployment_id,
          ${iso(sql`i.started_at`)} as started_at, ${iso(sql`i.resolved_at`)} as resolved_at,
          ${span(sql`i.started_at`, sql`i.resolved_at`)} as seconds, ${total}
        from incidents i join services s on s.id = i.service_id
        where ${c.inScope(sql`i.service_id`)} and ${c.inWindow(sql`i.resolved_at`)} and i.resolved_at < i.started_at
        order by i.resolved_at - i.started_at, i.id`,
  );
}

/**
 * Production deployments without a commit list whose walk reached only commits Sluice has never
 * seen (no push, no API call named them with a time): usually the deployed sha alone. A redeploy
 * of an already deployed sha reaches nothing and is not unknown. Baselines are listed too: the
 * next deployment's walk cannot stop at what Sluice never saw.
 */
function unknownChanges(db: Executor, c: Conditions) {
  return leaf<UnknownChangesRow>(
    db,
    sql`select d.id::int as id, s.slug as service, d.external_id, d.sha, d.environment,
          ${iso(sql`d.finished_at`)} as finished_at, d.baseline, ${total}
        from deployments d join services s on s.id = d.service_id
        where ${c.inScope(sql`d.service_id`)} and d.is_production and ${c.inWindow(sql`d.finished_at`)}
          and ${c.inEnvironment(sql`d.environment`)} and d.explicit_commits is null
          and exists (select 1 from deployment_changes dc where dc.deployment_id = d.id)
          and not exists (select 1 from deployment_changes dc where dc.deployment_id = d.id and dc.committed_at is not null)
        order by d.finished_at desc, d.id desc`,
  );
}

/**
 * Commits of the scope's repositories that turned UNDEPLOYED_AFTER_DAYS old during the window
 * (committed in [from - 30 days, to - 30 days)) and that no production deployment of a scope
 * service claiming the repository had brought by the window's end.
 */
function undeployedCommits(db: Executor, c: Conditions) {
  const after = sql.raw(`interval '${UNDEPLOYED_AFTER_DAYS} days'`);
  return leaf<UndeployedCommitRow>(
    db,
    sql`select ch.id::int as id, ch.sha, r.name as repository, ${iso(sql`ch.committed_at`)} as committed_at,
          ch.branch, ch.pr_number as pull_request, ${total}
        from changes ch join repositories r on r.id = ch.repository_id
        where ch.repository_id in (select sr.repository_id from service_repositories sr where ${c.inScope(sql`sr.service_id`)})
          and ch.committed_at >= ${c.from} - ${after} and ch.committed_at < ${c.to} - ${after}
          and not exists (
            select 1 from deployment_changes dc
            join service_repositories sr on sr.service_id = dc.service_id and sr.repository_id = ch.repository_id
            where dc.sha = ch.sha and dc.finished_at < ${c.to} and ${c.inScope(sql`dc.service_id`)})
        order by ch.committed_at desc, ch.id desc`,
  );
}

/** Incidents that started in the window and are attributed to no deployment (docs/metrics.md "Incident attribution"). */
function unattributedIncidents(db: Executor, c: Conditions) {
  return leaf<UnattributedIncidentRow>(
    db,
    sql`select i.id::int as id, s.slug as service, i.external_id, i.title,
          ${iso(sql`i.started_at`)} as started_at, ${iso(sql`i.resolved_at`)} as resolved_at, ${total}
        from incidents i join services s on s.id = i.service_id
        where ${c.inScope(sql`i.service_id`)} and ${c.inWindow(sql`i.started_at`)} and i.deployment_id is null
        order by i.started_at desc, i.id desc`,
  );
}

/** Services in scope with no production deployment finished in the window; with their last one before it. */
function idleServices(db: Executor, c: Conditions) {
  return leaf<IdleServiceRow>(
    db,
    sql`select s.id::int as id, s.slug as service, t.slug as team, ${iso(sql`last.finished_at`)} as last_deployment_at, ${total}
        from services s
        left join teams t on t.id = s.team_id
        cross join lateral (
          select max(d.finished_at) as finished_at from deployments d
          where d.service_id = s.id and d.is_production and d.finished_at < ${c.to} and ${c.inEnvironment(sql`d.environment`)}
        ) last
        where ${c.inScope(sql`s.id`)} and (last.finished_at is null or last.finished_at < ${c.from})
        order by s.slug`,
  );
}

/** Deployments still in_progress STUCK_AFTER_HOURS after they started (or, without a start, were received), as of now. */
function stuckDeployments(db: Executor, c: Conditions, now: Date) {
  const started = sql`coalesce(d.started_at, d.created_at)`;
  return leaf<StuckDeploymentRow>(
    db,
    sql`select d.id::int as id, s.slug as service, d.external_id, d.sha, d.environment,
          ${iso(started)} as started_at, ${span(started, timestamp(now))} as seconds, ${total}
        from deployments d join services s on s.id = d.service_id
        where ${c.inScope(sql`d.service_id`)} and d.status = 'in_progress' and ${c.inEnvironment(sql`d.environment`)}
          and ${started} <= ${timestamp(now)} - ${sql.raw(`interval '${STUCK_AFTER_HOURS} hours'`)}
        order by ${started}, d.id`,
  );
}

function failedDeliveries(db: Executor, c: Conditions) {
  return leaf<FailedDeliveryRow>(
    db,
    sql`select d.id::int as id, d.integration_id, d.source, d.delivery_id, d.event,
          ${iso(sql`d.received_at`)} as received_at, d.error, ${total}
        from deliveries d
        where d.status = 'failed' and ${c.inWindow(sql`d.received_at`)}
        order by d.received_at desc, d.id desc`,
  );
}

/** Derivation entries set aside after failing too often (SPEC 10 v2), whenever that was: they wait for an admin. */
function setAside(db: Executor, c: Conditions) {
  return leaf<SetAsideRow>(
    db,
    sql`select q.id::int as id, s.slug as service, q.kind, q.deployment_id::int as deployment_id,
          q.incident_id::int as incident_id, r.name as repository, q.shas[1:${sql.raw(String(DATA_QUALITY_ROW_LIMIT))}] as shas,
          q.attempts, q.last_error, ${iso(sql`q.set_aside_at`)} as set_aside_at, ${total}
        from derivation_queue q
        join services s on s.id = q.service_id
        left join repositories r on r.id = q.repository_id
        where ${c.inScope(sql`q.service_id`)} and q.set_aside_at is not null
        order by q.set_aside_at desc, q.id desc`,
  );
}

const none = <T>(): Leaf<T> => ({ count: 0, rows: [] });

/** The data-quality report of SPEC 4.2 for one scope and window. */
export async function computeDataQuality(db: Executor, scope: DataQualityScope): Promise<DataQuality> {
  const c = conditions(scope);
  // Independent statements: on PostgreSQL they run on separate pooled connections at once.
  const [leadTime, coding, review, deploy, recovery, timeToRestore, unknown, undeployed, unattributed, idle, stuck, failed, aside] =
    await Promise.all([
      negativeLeadTimes(db, c),
      negativeStages(db, c, "coding"),
      negativeStages(db, c, "review"),
      negativeStages(db, c, "deploy"),
      negativeRecoveries(db, c),
      negativeRestores(db, c),
      unknownChanges(db, c),
      undeployedCommits(db, c),
      unattributedIncidents(db, c),
      idleServices(db, c),
      stuckDeployments(db, c, scope.now),
      scope.deliveries ? failedDeliveries(db, c) : none<FailedDeliveryRow>(),
      setAside(db, c),
    ]);
  const days = Math.round(windowDays(scope.from, scope.to) * 10_000) / 10_000;
  return {
    window: { from: scope.from.toISOString(), to: scope.to.toISOString(), days },
    negative_spans: { lead_time: leadTime, coding, review, deploy, recovery, time_to_restore: timeToRestore },
    unknown_changes: unknown,
    undeployed_commits: undeployed,
    unattributed_incidents: unattributed,
    idle_services: idle,
    stuck_deployments: stuck,
    failed_deliveries: failed,
    set_aside: aside,
  };
}
