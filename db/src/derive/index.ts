import { and, eq, sql } from "drizzle-orm";
import { type Executor, rows } from "../client.ts";
import { timestamp } from "../sql-arrays.ts";
import { serviceRepositoryIds } from "../events/services.ts";
import { deploymentChanges, deployments, incidents, services } from "../schema/index.ts";
import { attributeIncidents, deriveBaseline, deriveFailures, deriveRework } from "./outcomes.ts";
import {
  type WalkTarget,
  productionTimeline,
  releaseFromLater,
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

/**
 * Keeps the derived rows of a service true after one deployment was inserted or updated.
 * The result does not depend on the order events arrive in (docs/metrics.md, "Order").
 */
export async function afterDeploymentWritten(
  tx: Executor,
  before: DeploymentSnapshot | null,
  after: DeploymentSnapshot,
): Promise<void> {
  const wasProduction = before?.isProduction === true;
  const moved =
    wasProduction !== after.isProduction ||
    (wasProduction &&
      (before.finishedAt?.getTime() !== after.finishedAt?.getTime() ||
        before.sha !== after.sha ||
        !sameList(before.explicitCommits, after.explicitCommits)));

  if (moved) {
    const repositoryIds = await serviceRepositoryIds(tx, after.serviceId);
    if (wasProduction && before.finishedAt) {
      // It left or moved in the timeline: everything after its earliest position is re-walked.
      // Its commits go first: left at the old position they would still count as deployed
      // there for the deployments walked before it reaches its new one.
      await tx.delete(deploymentChanges).where(eq(deploymentChanges.deploymentId, after.id));
      const from = earliest(before, after);
      for (const target of await productionTimeline(tx, after.serviceId, from)) {
        await walkDeployment(tx, target, repositoryIds);
      }
    } else {
      const [target] = await walkTargets(tx, [after.id]);
      if (target) {
        const claimed = await walkDeployment(tx, target, repositoryIds);
        if (target.explicitCommits === null) {
          // A walked entry claims a commit together with everything behind it that a later
          // deployment had reached through it: those simply lose what it claimed.
          await releaseFromLater(tx, target, claimed);
        } else {
          // An explicit list claims commits without their ancestors, so a later walk that went
          // through them now stops there and reaches less: later deployments walk again, in order.
          for (const later of await productionTimeline(tx, after.serviceId, target)) {
            if (later.id !== target.id) await walkDeployment(tx, later, repositoryIds);
          }
        }
      }
    }
  }

  const since = await deploymentSince(tx, before, after);
  if (since === undefined) return;
  await attributeIncidents(tx, { serviceId: after.serviceId, since });
  await deriveFailures(tx, after.serviceId, since);
  await deriveRework(tx, after.serviceId, since);
  await deriveBaseline(tx, after.serviceId);
}

function earliest(before: DeploymentSnapshot, after: DeploymentSnapshot) {
  const candidates = [before, after]
    .filter((s) => s.finishedAt !== null)
    .map((s) => ({ finishedAt: s.finishedAt as Date, externalId: s.externalId }));
  candidates.sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime() || (a.externalId < b.externalId ? -1 : 1));
  return candidates[0];
}

/**
 * The earliest finish time whose derived outcome the write can change: the deployment's
 * old and new positions, the production deployment before them (it may be rolled back
 * or lose incidents to this one), the earlier deployment of the same sha (a redeploy rolls
 * back everything in between) and the deployment it fixes.
 */
async function deploymentSince(
  tx: Executor,
  before: DeploymentSnapshot | null,
  after: DeploymentSnapshot,
): Promise<Date | null | undefined> {
  const positions = [before, after].filter((s): s is DeploymentSnapshot => s?.isProduction === true && s.finishedAt !== null);
  if (positions.length === 0) return undefined;
  const times: Date[] = [];
  for (const s of positions) {
    const [found] = await rows<{ pred: string | null; same_sha: string | null; fixed: string | null }>(
      tx,
      sql`select
        (select to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from deployments
          where service_id = ${s.serviceId} and is_production and (finished_at, external_id) < (${timestamp(s.finishedAt as Date)}, ${s.externalId})
          order by finished_at desc, external_id desc limit 1) as pred,
        (select to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from deployments
          where service_id = ${s.serviceId} and is_production and sha = ${s.sha} and (finished_at, external_id) < (${timestamp(s.finishedAt as Date)}, ${s.externalId})
          order by finished_at desc, external_id desc limit 1) as same_sha,
        ${fixedTime(s)} as fixed`,
    );
    times.push(s.finishedAt as Date);
    for (const value of [found?.pred, found?.same_sha, found?.fixed]) if (value) times.push(new Date(value));
  }
  return new Date(Math.min(...times.map((t) => t.getTime())));
}

function fixedTime(s: DeploymentSnapshot) {
  const ref = s.fixesRef;
  if (!ref) return sql`null::text`;
  const where =
    "id" in ref
      ? sql`id = ${ref.id} and service_id = ${s.serviceId}`
      : sql`service_id = ${s.serviceId} and is_production and starts_with(sha, ${ref.sha})`;
  return sql`(select to_char(min(finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from deployments where ${where})`;
}

/**
 * A commit's details or parents arrived: the production deployment whose set reached it
 * (at most one per service) walks again, and later deployments release what it now claims.
 */
export async function afterChangeWritten(tx: Executor, repositoryId: number, sha: string): Promise<void> {
  const holders = await rows<{ deployment_id: number }>(
    tx,
    sql`select dc.deployment_id::int as deployment_id from deployment_changes dc
        where dc.sha = ${sha}
          and exists (select 1 from service_repositories sr where sr.service_id = dc.service_id and sr.repository_id = ${repositoryId})`,
  );
  for (const target of await walkTargets(
    tx,
    holders.map((h) => Number(h.deployment_id)),
  )) {
    const previous = new Set(
      (
        await tx
          .select({ sha: deploymentChanges.sha })
          .from(deploymentChanges)
          .where(eq(deploymentChanges.deploymentId, target.id))
      ).map((r) => r.sha),
    );
    const now = await walkDeployment(tx, target, await serviceRepositoryIds(tx, target.serviceId));
    await releaseFromLater(
      tx,
      target,
      now.filter((s) => !previous.has(s)),
    );
  }
}

/** Services whose deployments may hold a commit of this repository (to lock them first). */
export async function servicesHoldingRepository(tx: Executor, repositoryId: number): Promise<number[]> {
  const found = await rows<{ service_id: number }>(
    tx,
    sql`select distinct service_id::int as service_id from service_repositories where repository_id = ${repositoryId}`,
  );
  return found.map((r) => Number(r.service_id));
}

/** An incident was written: attribute it, then re-derive the deployments it left or joined. */
export async function afterIncidentWritten(
  tx: Executor,
  incident: { id: number; serviceId: number; previousDeploymentId: number | null },
): Promise<void> {
  await attributeIncidents(tx, { serviceId: incident.serviceId, since: null, incidentId: incident.id });
  const [row] = await tx
    .select({ deploymentId: incidents.deploymentId })
    .from(incidents)
    .where(eq(incidents.id, incident.id));
  const ids = [incident.previousDeploymentId, row?.deploymentId ?? null].filter((x): x is number => x !== null);
  if (ids.length === 0) return;
  const [earliestRow] = await rows<{ t: string | null }>(
    tx,
    sql`select to_char(min(finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
        from deployments where id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
  );
  const since = earliestRow?.t ? new Date(earliestRow.t) : null;
  await deriveFailures(tx, incident.serviceId, since);
  await deriveRework(tx, incident.serviceId, since);
}

/**
 * Rebuilds every derived row of a service from its events: after its production pattern,
 * repositories or attribution window changed, and on reprocessing.
 */
export async function rederiveService(tx: Executor, serviceId: number): Promise<void> {
  const [service] = await tx
    .select({ pattern: services.productionPattern })
    .from(services)
    .where(eq(services.id, serviceId));
  if (!service) return;
  const production = new RegExp(service.pattern, "i");
  const environments = await tx
    .selectDistinct({ environment: deployments.environment })
    .from(deployments)
    .where(eq(deployments.serviceId, serviceId));
  for (const { environment } of environments) {
    const isProduction = sql`${deployments.status} = 'success' and ${deployments.finishedAt} is not null and ${production.test(environment)}`;
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
