import { sql } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { timestamp } from "../sql-arrays.ts";

// The rules below are SPEC section 4, explained with worked examples in docs/metrics.md.
// Production deployments of a service form a timeline ordered by (finished_at, external_id).
// `since` bounds the work: rows finishing before it are known to be unaffected by the event.

const inRange = (column: ReturnType<typeof sql>, since: Date | null) =>
  since === null ? sql`true` : sql`${column} >= ${timestamp(since)}`;

/**
 * Incident attribution (docs/metrics.md "Incident attribution"): the deployment the
 * incident names (by id, else by sha), else the latest production deployment of its
 * service that finished at or before it started, within the attribution window.
 */
export async function attributeIncidents(
  tx: Executor,
  options: { serviceId: number; since: Date | null; incidentId?: number },
): Promise<void> {
  const which =
    options.incidentId !== undefined
      ? sql`i.id = ${options.incidentId}`
      : sql`(${inRange(sql`i.started_at`, options.since)} or i.cause_deployment_id is not null or i.cause_sha is not null)`;
  await tx.execute(sql`
    update incidents i set deployment_id = case
      when i.cause_deployment_id is not null then (
        select d.id from deployments d where d.id = i.cause_deployment_id and d.service_id = i.service_id)
      when i.cause_sha is not null then (
        select d.id from deployments d
        where d.service_id = i.service_id and d.is_production and starts_with(d.sha, i.cause_sha)
        order by d.finished_at <= i.started_at desc, d.finished_at desc, d.external_id desc limit 1)
      else (
        select d.id from deployments d, services s
        where s.id = i.service_id and d.service_id = i.service_id and d.is_production
          and d.finished_at <= i.started_at
          and (s.attribution_window_seconds = 0
            or d.finished_at >= i.started_at - make_interval(secs => s.attribution_window_seconds))
        order by d.finished_at desc, d.external_id desc limit 1)
      end
    where i.service_id = ${options.serviceId} and ${which}`);
}

/**
 * Failure, its reasons and recovery for each deployment finishing at or after `since`
 * (docs/metrics.md "Change failure rate" and "Failed deployment recovery time").
 */
export async function deriveFailures(tx: Executor, serviceId: number, since: Date | null): Promise<void> {
  await tx.execute(sql`
    -- not materialized: the lateral lookups below then use the deployments indexes instead of
    -- scanning the whole timeline once per deployment (quadratic on a full rederive)
    with prod as not materialized (
      select id, sha, finished_at, external_id, rollback, fixes_ref
      from deployments where service_id = ${serviceId} and is_production
    ),
    -- a redeploy of a sha an earlier production deployment (e) had deployed; materialized
    -- (rarely more than a row) so that the join below does not re-run it per deployment
    redeploys as materialized (
      select r.id as r_id, r.finished_at as r_fin, r.external_id as r_ext, e.finished_at as e_fin, e.external_id as e_ext
      from prod r
      cross join lateral (
        select p.finished_at, p.external_id from prod p
        where p.sha = r.sha and (p.finished_at, p.external_id) < (r.finished_at, r.external_id)
        order by p.finished_at desc, p.external_id desc limit 1) e
      where ${inRange(sql`r.finished_at`, since)}
    ),
    -- a deployment flagged rollback rolls back the one it replaced
    flagged as materialized (
      select r.id as r_id, r.finished_at as r_fin, r.external_id as r_ext, p.id as d_id
      from prod r
      cross join lateral (
        select p.id, p.sha from prod p
        where (p.finished_at, p.external_id) < (r.finished_at, r.external_id)
        order by p.finished_at desc, p.external_id desc limit 1) p
      where r.rollback and p.sha <> r.sha and ${inRange(sql`r.finished_at`, since)}
    ),
    rolled_back as (
      select distinct on (x.d_id) x.d_id, x.r_id from (
        select d.id as d_id, rr.r_id, rr.r_fin, rr.r_ext from prod d
        join redeploys rr on (d.finished_at, d.external_id) > (rr.e_fin, rr.e_ext)
                         and (d.finished_at, d.external_id) < (rr.r_fin, rr.r_ext)
        union all
        select d_id, r_id, r_fin, r_ext from flagged
      ) x order by x.d_id, x.r_fin, x.r_ext
    ),
    -- a fix-forward fixes an earlier deployment (SPEC 4: "a later deployment names it"); one
    -- naming a deployment that finished after it fixes nothing, whatever order they arrive in
    fix_targets as (
      select r.id as r_id, r.finished_at, r.external_id,
        case when r.fixes_ref ? 'id' then (
          select p.id from prod p
          where p.id = (r.fixes_ref->>'id')::bigint and (p.finished_at, p.external_id) < (r.finished_at, r.external_id))
        else (
          select x.id from (
            select p.id, p.finished_at, p.external_id from prod p
            where p.sha = r.fixes_ref->>'sha' and (p.finished_at, p.external_id) < (r.finished_at, r.external_id)
            union all
            -- an abbreviated sha: a prefix scan, skipped (one-time filter) for full ones
            select p.id, p.finished_at, p.external_id from prod p
            where length(r.fixes_ref->>'sha') not in (40, 64) and starts_with(p.sha, r.fixes_ref->>'sha')
              and p.sha <> r.fixes_ref->>'sha' and (p.finished_at, p.external_id) < (r.finished_at, r.external_id)
          ) x order by x.finished_at desc, x.external_id desc limit 1)
        end as d_id
      -- a fixer finishes after what it fixes: fixers before since fix nothing re-derived here
      from prod r where r.fixes_ref is not null and ${inRange(sql`r.finished_at`, since)}
    ),
    fixed as (
      select distinct on (d_id) d_id, r_id from fix_targets where d_id is not null
      order by d_id, finished_at, external_id
    ),
    incident_stats as (
      select deployment_id as d_id, count(*)::int as n, count(*) filter (where resolved_at is null)::int as open,
        max(resolved_at) as last_resolved
      from incidents where service_id = ${serviceId} and deployment_id is not null group by deployment_id
    ),
    outcome as (
      select d.id, d.is_production,
        ft.d_id as fixes_id, rb.r_id as rolled_back_by, fx.r_id as fixed_by,
        coalesce(inc.n, 0) > 0 as has_incidents, inc.open, inc.last_resolved, d.marked_failed,
        rbd.finished_at as rolled_back_at, fxd.finished_at as fixed_at
      from deployments d
      left join fix_targets ft on ft.r_id = d.id
      left join rolled_back rb on rb.d_id = d.id
      left join fixed fx on fx.d_id = d.id
      left join incident_stats inc on inc.d_id = d.id
      left join deployments rbd on rbd.id = rb.r_id
      left join deployments fxd on fxd.id = fx.r_id
      where d.service_id = ${serviceId} and (d.finished_at is null or ${inRange(sql`d.finished_at`, since)})
    ),
    derived as (
      select o.id, o.fixes_id as fixes_deployment_id,
        case when o.is_production then o.rolled_back_by end as rolled_back_by,
        case when o.is_production then o.fixed_by end as fixed_by,
        o.is_production and (o.has_incidents or o.rolled_back_by is not null or o.fixed_by is not null or o.marked_failed) as failed,
        case when not o.is_production then '{}'::text[] else array_remove(array[
          case when o.has_incidents then 'incident' end,
          case when o.rolled_back_by is not null then 'rolled_back' end,
          case when o.fixed_by is not null then 'fixed' end,
          case when o.marked_failed then 'marked' end]::text[], null) end as failure_reasons,
        case
          when not o.is_production then null
          when o.has_incidents then case when o.open = 0 then o.last_resolved end
          else least(o.rolled_back_at, o.fixed_at) end as recovered_at
      from outcome o
    )
    -- rows whose outcome did not change are left alone: no dead tuple, no index churn
    update deployments d set
      fixes_deployment_id = n.fixes_deployment_id, rolled_back_by = n.rolled_back_by, fixed_by = n.fixed_by,
      failed = n.failed, failure_reasons = n.failure_reasons, recovered_at = n.recovered_at
    from derived n
    where d.id = n.id
      and (d.fixes_deployment_id, d.rolled_back_by, d.fixed_by, d.failed, d.failure_reasons, d.recovered_at)
        is distinct from (n.fixes_deployment_id, n.rolled_back_by, n.fixed_by, n.failed, n.failure_reasons, n.recovered_at)`);
}

/**
 * Rework (DORA 2024; docs/metrics.md "Rework rate"): unplanned fixes. Runs after
 * deriveFailures because "after a failure" reads the predecessor's derived recovery.
 */
export async function deriveRework(tx: Executor, serviceId: number, since: Date | null): Promise<void> {
  await tx.execute(sql`
    with outcome as (
      select d.id, d.is_production,
        array_remove(array[
          case when d.rollback or (p.sha <> d.sha and exists (
              select 1 from deployments e where e.service_id = d.service_id and e.is_production and e.sha = d.sha
                and (e.finished_at, e.external_id) < (d.finished_at, d.external_id))) then 'rollback' end,
          case when d.hotfix or d.branch like 'hotfix/%' then 'hotfix' end,
          case when d.fixes_ref is not null then 'fix_forward' end,
          case when p.failed and (p.recovered_at is null or d.finished_at < p.recovered_at) then 'after_failure' end
        ]::text[], null) as reasons
      from deployments d
      left join lateral (
        select p.sha, p.failed, p.recovered_at from deployments p
        where p.service_id = d.service_id and p.is_production
          and (p.finished_at, p.external_id) < (d.finished_at, d.external_id)
        order by p.finished_at desc, p.external_id desc limit 1) p on d.is_production
      where d.service_id = ${serviceId} and (d.finished_at is null or ${inRange(sql`d.finished_at`, since)})
    )
    update deployments d set
      rework = o.is_production and cardinality(o.reasons) > 0,
      rework_reasons = case when o.is_production then o.reasons else '{}'::text[] end
    from outcome o
    where d.id = o.id
      and (d.rework, d.rework_reasons) is distinct from
        (o.is_production and cardinality(o.reasons) > 0, case when o.is_production then o.reasons else '{}'::text[] end)`);
}

/** The baseline: the service's first production deployment (docs/metrics.md "Baseline deployment"). */
export async function deriveBaseline(tx: Executor, serviceId: number): Promise<void> {
  await tx.execute(sql`
    with first as (
      select id from deployments where service_id = ${serviceId} and is_production
      order by finished_at, external_id limit 1)
    update deployments d set baseline = coalesce(d.id = (select id from first), false)
    where d.service_id = ${serviceId} and (d.baseline or d.id = (select id from first))
      and d.baseline <> coalesce(d.id = (select id from first), false)`);
}
