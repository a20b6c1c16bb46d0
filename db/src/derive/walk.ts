import { and, eq, inArray, sql } from "drizzle-orm";
import { type Executor, rows } from "../client.ts";
import { deployments } from "../schema/index.ts";
import { bigintArray, textArray, timestamp } from "../sql-arrays.ts";

/** SPEC 4: the walk stops after this many commits (a first deployment of a big repository). */
export const WALK_LIMIT = 10_000;

export interface WalkTarget {
  id: number;
  serviceId: number;
  sha: string;
  finishedAt: Date;
  externalId: string;
  explicitCommits: string[] | null;
}

/**
 * "Already deployed to production for this service before the deployment under walk":
 * production deployments are ordered by (finished_at, external_id), a key that does not
 * depend on arrival order.
 */
function deployedBefore(target: WalkTarget, shaExpr: ReturnType<typeof sql>) {
  return sql`exists (
    select 1 from deployment_changes dc
    where dc.service_id = ${target.serviceId} and dc.sha = ${shaExpr}
      and (dc.finished_at < ${timestamp(target.finishedAt)}
        or (dc.finished_at = ${timestamp(target.finishedAt)} and dc.deployment_id <> ${target.id}
            and exists (select 1 from deployments d2 where d2.id = dc.deployment_id and d2.external_id < ${target.externalId}))))`;
}

/**
 * Recomputes the changes of one production deployment (SPEC 4, docs/metrics.md
 * "Changes of a deployment"): its explicit commit list when the event carried one, else
 * the commits reachable from its sha through known parents, stopping at commits an
 * earlier production deployment of the service already brought. With `release`, later
 * deployments of the service lose what it now claims (they no longer bring those commits
 * first). One statement; returns the new set.
 */
export async function walkDeployment(
  tx: Executor,
  target: WalkTarget,
  repositoryIds: number[],
  options: { release?: boolean } = {},
): Promise<string[]> {
  const repos = bigintArray(repositoryIds);
  // The walk, as the first parts of one statement. A data-modifying statement's parts all see
  // the rows as they were before it: the walk reads only other deployments' rows, the rows
  // kept are updated in place (deleting and inserting one key in one statement would clash),
  // and the release never touches this deployment's rows.
  const reached = target.explicitCommits
    ? sql`with recursive reached(sha) as (
            select distinct x.sha from unnest(${textArray(target.explicitCommits)}) as x(sha)
            where not ${deployedBefore(target, sql`x.sha`)})`
    : sql`with recursive walk(sha) as (
            select ${target.sha}::text where not ${deployedBefore(target, sql`${target.sha}::text`)}
            union
            select p.parent from walk w
              join changes c on c.sha = w.sha and c.repository_id = any(${repos})
              cross join lateral unnest(c.parents) as p(parent)
            where not ${deployedBefore(target, sql`p.parent`)}
          ),
          reached as materialized (select sha from walk limit ${WALK_LIMIT})`;
  const fin = timestamp(target.finishedAt);
  const release = options.release
    ? sql`, released as (
          delete from deployment_changes dc
          where dc.service_id = ${target.serviceId} and dc.sha in (select sha from inserted) and dc.deployment_id <> ${target.id}
            and (dc.finished_at > ${fin}
              or (dc.finished_at = ${fin}
                  and exists (select 1 from deployments d2 where d2.id = dc.deployment_id and d2.external_id > ${target.externalId}))))`
    : sql``;

  // in_scope: a commit outside every path_prefix the service claims in its repository
  // is walked through but is not one of the service's changes. Unknown files count.
  const inserted = await rows<{ sha: string }>(
    tx,
    sql`${reached},
        cleared as (
          delete from deployment_changes where deployment_id = ${target.id} and sha not in (select sha from reached)),
        inserted as (
          insert into deployment_changes (deployment_id, service_id, sha, repository_id, finished_at, in_scope,
            committed_at, pr_number, pr_first_commit_at, pr_opened_at, pr_merged_at)
          select ${target.id}, ${target.serviceId}, r.sha, c.repository_id, ${fin},
            c.files is null or exists (
              select 1 from service_repositories sr
              where sr.service_id = ${target.serviceId} and sr.repository_id = c.repository_id
                and (sr.path_prefix = '' or exists (select 1 from unnest(c.files) f where starts_with(f, sr.path_prefix)))),
            c.committed_at, c.pr_number, c.pr_first_commit_at, c.pr_opened_at, c.pr_merged_at
          from reached r
          left join lateral (
            select c.repository_id, c.files, c.committed_at, c.pr_number, c.pr_first_commit_at, c.pr_opened_at, c.pr_merged_at
            from changes c
            where c.sha = r.sha and c.repository_id = any(${repos})
            order by c.repository_id limit 1
          ) c on true
          on conflict (deployment_id, sha) do update set
            service_id = excluded.service_id, repository_id = excluded.repository_id, finished_at = excluded.finished_at,
            in_scope = excluded.in_scope, committed_at = excluded.committed_at, pr_number = excluded.pr_number,
            pr_first_commit_at = excluded.pr_first_commit_at, pr_opened_at = excluded.pr_opened_at,
            pr_merged_at = excluded.pr_merged_at
          returning sha)${release}
        select sha from inserted`,
  );
  return inserted.map((row) => row.sha);
}

/**
 * The walk of a whole timeline in one statement, for a service whose production deployments
 * all listed their commits: each listed commit belongs to the first deployment, in timeline
 * order, that lists it, which is what walking them one by one gives.
 */
export async function walkExplicitTimeline(tx: Executor, serviceId: number, repositoryIds: number[]): Promise<void> {
  const repos = bigintArray(repositoryIds);
  await tx.execute(
    sql`insert into deployment_changes (deployment_id, service_id, sha, repository_id, finished_at, in_scope,
          committed_at, pr_number, pr_first_commit_at, pr_opened_at, pr_merged_at)
        select f.id, ${serviceId}, f.sha, c.repository_id, f.finished_at,
          c.files is null or exists (
            select 1 from service_repositories sr
            where sr.service_id = ${serviceId} and sr.repository_id = c.repository_id
              and (sr.path_prefix = '' or exists (select 1 from unnest(c.files) f where starts_with(f, sr.path_prefix)))),
          c.committed_at, c.pr_number, c.pr_first_commit_at, c.pr_opened_at, c.pr_merged_at
        from (
          select distinct on (x.sha) d.id, d.finished_at, x.sha
          from deployments d cross join lateral unnest(d.explicit_commits) as x(sha)
          where d.service_id = ${serviceId} and d.is_production
          order by x.sha, d.finished_at, d.external_id
        ) f
        left join lateral (
          select c.repository_id, c.files, c.committed_at, c.pr_number, c.pr_first_commit_at, c.pr_opened_at, c.pr_merged_at
          from changes c
          where c.sha = f.sha and c.repository_id = any(${repos})
          order by c.repository_id limit 1
        ) c on true`,
  );
}

const targetColumns = {
  id: deployments.id,
  serviceId: deployments.serviceId,
  sha: deployments.sha,
  finishedAt: deployments.finishedAt,
  externalId: deployments.externalId,
  explicitCommits: deployments.explicitCommits,
};

/** Production deployments of a service from a point on, in timeline order. */
export async function productionTimeline(
  tx: Executor,
  serviceId: number,
  from?: { finishedAt: Date; externalId: string },
): Promise<WalkTarget[]> {
  const found = await tx
    .select(targetColumns)
    .from(deployments)
    .where(
      and(
        eq(deployments.serviceId, serviceId),
        eq(deployments.isProduction, true),
        from
          ? sql`(${deployments.finishedAt}, ${deployments.externalId}) >= (${timestamp(from.finishedAt)}, ${from.externalId})`
          : undefined,
      ),
    )
    .orderBy(deployments.finishedAt, deployments.externalId);
  return found.filter((row): row is WalkTarget => row.finishedAt !== null);
}

export async function walkTargets(tx: Executor, ids: number[]): Promise<WalkTarget[]> {
  if (ids.length === 0) return [];
  const found = await tx
    .select(targetColumns)
    .from(deployments)
    .where(and(inArray(deployments.id, ids), eq(deployments.isProduction, true)))
    .orderBy(deployments.finishedAt, deployments.externalId);
  return found.filter((row): row is WalkTarget => row.finishedAt !== null);
}
