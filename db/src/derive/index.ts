import { and, eq, sql } from "drizzle-orm";
import { type Executor, rows } from "../client.ts";
import { matchesPattern } from "../patterns.ts";
import { bigintArray, textArray } from "../sql-arrays.ts";
import { serviceRepositoryIds } from "../events/services.ts";
import { deploymentChanges, deployments, derivationQueue, incidents, services } from "../schema/index.ts";
import { attributeIncidents, deriveBaseline, deriveFailures, deriveRework } from "./outcomes.ts";
import {
  type WalkTarget,
  productionTimeline,
  walkDeployment,
  walkExplicitTimeline,
  walkTargets,
} from "./walk.ts";

export { WALK_LIMIT } from "./walk.ts";

/** What derivation needs to know of a deployment row, before and after a write. */
export interface DeploymentSnapshot {
  id: number;
  serviceId: number;
  sha: string;
  finishedAt: Date | null;
  externalId: string;
  isProduction: boolean;
  explicitCommits: string[] | null;
  fixesRef: { id: number } | { sha: string } | null;
}

const sameList = (a: string[] | null, b: string[] | null) =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i]));

/** Where a service's outcomes must be derived again from: undefined nothing, null the whole timeline. */
export type Since = Date | null | undefined;

export const earlierSince = (a: Since, b: Since): Since =>
  a === undefined ? b : b === undefined ? a : a === null || b === null ? null : a < b ? a : b;

type Position = { finishedAt: Date; externalId: string };

const compare = (a: Position, b: Position) =>
  a.finishedAt.getTime() - b.finishedAt.getTime() || (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0);

/**
 * Brings a service's deployment_changes up to date after some of its deployments went from
 * `before` (as last derived) to `after`; outcomesSince then says from where its outcomes must
 * be derived again. Each deployment walked at most once: deployments that left or moved, and
 * those listing their commits, make everything from their earliest position walk again in
 * timeline order; the others before that point walk alone and release what they claim from
 * later ones. The result does not depend on the order events arrive in (docs/metrics.md, "Order").
 */
export async function walkAfterDeploymentsWritten(
  tx: Executor,
  serviceId: number,
  written: Array<{ before: DeploymentSnapshot | null; after: DeploymentSnapshot }>,
  repositoryIds: () => Promise<number[]>,
): Promise<void> {
  let rewalkFrom: Position | undefined;
  const from = (position: Position) => {
    if (!rewalkFrom || compare(position, rewalkFrom) < 0) rewalkFrom = position;
  };
  const alone: WalkTarget[] = [];
  for (const { before, after } of written) {
    const wasProduction = before?.isProduction === true;
    const moved =
      wasProduction !== after.isProduction ||
      (wasProduction &&
        (before.finishedAt?.getTime() !== after.finishedAt?.getTime() ||
          before.sha !== after.sha ||
          !sameList(before.explicitCommits, after.explicitCommits)));
    if (!moved) continue;
    if (wasProduction && before.finishedAt) {
      // It left or moved in the timeline: everything after its earliest position is walked
      // again. Its commits go first: left at the old position they would still count as
      // deployed there for the deployments walked before it reaches its new one.
      await tx.delete(deploymentChanges).where(eq(deploymentChanges.deploymentId, after.id));
      const position = earliest(before, after);
      if (position) from(position);
    } else if (after.isProduction && after.finishedAt) {
      // The snapshot is the row as it is now: it says all the walk needs.
      const target: WalkTarget = { ...after, finishedAt: after.finishedAt };
      // An explicit list claims commits without their ancestors, so a later walk that went
      // through them now stops there and reaches less: it and everything after walk again.
      if (target.explicitCommits !== null) from(target);
      else alone.push(target);
    }
  }
  alone.sort(compare);
  for (const target of alone) {
    if (rewalkFrom && compare(target, rewalkFrom) >= 0) break;
    // A walked deployment claims a commit together with everything behind it that a later
    // deployment had reached through it: those simply lose what it claimed.
    await walkDeployment(tx, target, await repositoryIds(), { release: true });
  }
  if (rewalkFrom) {
    for (const target of await productionTimeline(tx, serviceId, rewalkFrom)) {
      await walkDeployment(tx, target, await repositoryIds());
    }
  }
}

function earliest(before: DeploymentSnapshot, after: DeploymentSnapshot) {
  const candidates = [before, after]
    .filter((s) => s.finishedAt !== null)
    .map((s) => ({ finishedAt: s.finishedAt as Date, externalId: s.externalId }));
  candidates.sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime() || (a.externalId < b.externalId ? -1 : 1));
  return candidates[0];
}

/**
 * The earliest finish time whose derived outcome the writes can change: each deployment's
 * old and new positions, the production deployment before them (it may be rolled back or
 * lose incidents to this one), the earlier deployment of the same sha (a redeploy rolls
 * back everything in between) and the deployment it fixes. One statement for any number.
 */
export async function outcomesSince(tx: Executor, serviceId: number, snapshots: DeploymentSnapshot[]): Promise<Since> {
  const positions = snapshots.filter((s): s is DeploymentSnapshot & { finishedAt: Date } => s.isProduction && s.finishedAt !== null);
  if (positions.length === 0) return undefined;
  const fixId = (s: DeploymentSnapshot) => (s.fixesRef && "id" in s.fixesRef ? s.fixesRef.id : 0);
  const fixSha = (s: DeploymentSnapshot) => (s.fixesRef && "sha" in s.fixesRef ? s.fixesRef.sha : "");
  const [found] = await rows<{ t: string | null }>(
    tx,
    sql`select to_char(min(least(p.fin, pred.fin, same_sha.fin, fixed.fin)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
        from unnest(${textArray(positions.map((s) => s.finishedAt.toISOString()))}::timestamptz[],
                    ${textArray(positions.map((s) => s.externalId))}, ${textArray(positions.map((s) => s.sha))},
                    ${bigintArray(positions.map(fixId))}, ${textArray(positions.map(fixSha))}) as p(fin, ext, sha, fix_id, fix_sha)
        left join lateral (
          select finished_at as fin from deployments
          where service_id = ${serviceId} and is_production and (finished_at, external_id) < (p.fin, p.ext)
          order by finished_at desc, external_id desc limit 1) pred on true
        left join lateral (
          select finished_at as fin from deployments
          where service_id = ${serviceId} and is_production and sha = p.sha and (finished_at, external_id) < (p.fin, p.ext)
          order by finished_at desc, external_id desc limit 1) same_sha on true
        left join lateral (
          select min(finished_at) as fin from deployments
          where service_id = ${serviceId}
            and ((p.fix_id > 0 and id = p.fix_id) or (p.fix_sha <> '' and is_production and starts_with(sha, p.fix_sha)))) fixed on true`,
  );
  return found?.t ? new Date(found.t) : undefined;
}

/**
 * Commits' details or parents arrived: the production deployments of the service whose sets
 * reached them (at most one each) walk again, and later deployments release what they now claim.
 */
export async function walkAfterChangesWritten(tx: Executor, serviceId: number, shas: string[]): Promise<void> {
  const holders = await rows<{ deployment_id: number }>(
    tx,
    sql`select distinct dc.deployment_id::int as deployment_id from deployment_changes dc
        where dc.service_id = ${serviceId} and dc.sha = any(${textArray(shas)})`,
  );
  for (const target of await walkTargets(
    tx,
    holders.map((h) => Number(h.deployment_id)),
  )) {
    await walkDeployment(tx, target, await serviceRepositoryIds(tx, target.serviceId), { release: true });
  }
}

/**
 * An incident was written: attribute it, and say from where outcomes must be derived again
 * (the deployment it left and the one it joined).
 */
export async function attributeAfterIncidentWritten(
  tx: Executor,
  incident: { id: number; serviceId: number; previousDeploymentId: number | null },
): Promise<Since> {
  await attributeIncidents(tx, { serviceId: incident.serviceId, since: null, incidentId: incident.id });
  const [row] = await tx
    .select({ deploymentId: incidents.deploymentId })
    .from(incidents)
    .where(eq(incidents.id, incident.id));
  const ids = [incident.previousDeploymentId, row?.deploymentId ?? null].filter((x): x is number => x !== null);
  if (ids.length === 0) return undefined;
  const [earliestRow] = await rows<{ t: string | null }>(
    tx,
    sql`select to_char(min(finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
        from deployments where id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
  );
  return earliestRow?.t ? new Date(earliestRow.t) : null;
}

/**
 * Rebuilds every derived row of a service from its events: after its production pattern,
 * repositories or attribution window changed, and on reprocessing.
 */
export async function rederiveService(tx: Executor, serviceId: number): Promise<void> {
  // The row lock every deriver of the service takes (db/src/derive/queue.ts).
  const [service] = await tx
    .select({ pattern: services.productionPattern })
    .from(services)
    .where(eq(services.id, serviceId))
    .for("no key update");
  if (!service) return;
  // Everything is rebuilt from the events: what was queued for the service is part of it.
  await tx.delete(derivationQueue).where(eq(derivationQueue.serviceId, serviceId));
  const environments = await tx
    .selectDistinct({ environment: deployments.environment })
    .from(deployments)
    .where(eq(deployments.serviceId, serviceId));
  for (const { environment } of environments) {
    const isProduction = sql`${deployments.status} = 'success' and ${deployments.finishedAt} is not null and ${matchesPattern(service.pattern, environment)}`;
    await tx
      .update(deployments)
      .set({ isProduction })
      .where(
        and(
          eq(deployments.serviceId, serviceId),
          eq(deployments.environment, environment),
          sql`${deployments.isProduction} is distinct from (${isProduction})`,
        ),
      );
  }
  await tx.delete(deploymentChanges).where(eq(deploymentChanges.serviceId, serviceId));
  const repositoryIds = await serviceRepositoryIds(tx, serviceId);
  const timeline: WalkTarget[] = await productionTimeline(tx, serviceId);
  if (timeline.every((target) => target.explicitCommits !== null)) await walkExplicitTimeline(tx, serviceId, repositoryIds);
  else for (const target of timeline) await walkDeployment(tx, target, repositoryIds);
  await attributeIncidents(tx, { serviceId, since: null });
  await deriveFailures(tx, serviceId, null);
  await deriveRework(tx, serviceId, null);
  await deriveBaseline(tx, serviceId);
}
