import { inArray, sql } from "drizzle-orm";
import { type Db, type Executor, rows } from "../client.ts";
import { safeErrorText } from "../safe-error.ts";
import { serviceRepositoryIds } from "../events/services.ts";
import { deployments, derivationQueue } from "../schema/index.ts";
import { bigintArray, textArray } from "../sql-arrays.ts";
import { databaseUnavailable, inTransaction, sqlState } from "../transaction.ts";
import {
  type DeploymentSnapshot,
  attributeAfterIncidentWritten,
  earlierSince,
  outcomesSince,
  walkAfterChangesWritten,
  walkAfterDeploymentsWritten,
} from "./index.ts";
import { attributeIncidents, deriveBaseline, deriveFailures, deriveRework } from "./outcomes.ts";

// Derivation runs after the write that needs it has committed (docs/operations.md
// "Derivation"): an ingest call appends an entry here in its own transaction and returns,
// taking no lock but the row it writes. Each service's entries are derived in batches by one
// deriver at a time (it holds the service's row lock, in the mode that still lets writers'
// foreign keys to the service through: "for no key update"). A write that commits while its
// service is being derived has its entry taken by the next batch, which repairs from the
// rows as they then are: every step below recomputes what it touches from the current rows,
// so the result is the same as deriving each write alone (test/integration/derivation.test.ts).

type StoredSnapshot = Omit<DeploymentSnapshot, "finishedAt"> & { finishedAt: string | null };

const stored = (before: DeploymentSnapshot | null): StoredSnapshot | null =>
  before && { ...before, finishedAt: before.finishedAt?.toISOString() ?? null };

/** Queues a deployment's write; `before` is the row as it was before the write (null: new). */
export async function enqueueDeployment(tx: Executor, before: DeploymentSnapshot | null, after: DeploymentSnapshot): Promise<void> {
  await tx
    .insert(derivationQueue)
    .values({ serviceId: after.serviceId, kind: "deployment", deploymentId: after.id, before: stored(before) });
}

/**
 * Queues commits of one repository whose details arrived, one entry for all of them per
 * service of the repository: the deriver walks again the deployments holding them, if any
 * (usually none: a push comes before the deployment whose walk will read it). Queuing
 * without looking means no lock is needed against a walk running at the same time.
 */
export async function enqueueChanges(tx: Executor, repositoryId: number, shas: string[]): Promise<void> {
  if (shas.length === 0) return;
  await tx.execute(sql`
    insert into derivation_queue (service_id, kind, repository_id, shas)
    select distinct sr.service_id, 'change', ${repositoryId}::bigint, ${textArray(shas)}
    from service_repositories sr where sr.repository_id = ${repositoryId}`);
}

export async function enqueueIncident(
  tx: Executor,
  incident: { id: number; serviceId: number; previousDeploymentId: number | null },
): Promise<void> {
  await tx.insert(derivationQueue).values({
    serviceId: incident.serviceId,
    kind: "incident",
    incidentId: incident.id,
    previousDeploymentId: incident.previousDeploymentId,
  });
}

type Entry = {
  id: number;
  kind: "deployment" | "change" | "incident";
  deployment_id: number | null;
  before: StoredSnapshot | null;
  shas: string[] | null;
  incident_id: number | null;
  previous_deployment_id: number | null;
};

/**
 * Derives everything queued for one service, in one pass: every walk first (in queue order),
 * then attribution, failures, recovery, rework and the baseline once, from the earliest
 * point any entry can change. The caller holds the service's row lock. Returns the number
 * of entries done.
 */
async function deriveQueued(tx: Executor, serviceId: number, only?: number): Promise<number> {
  const entries = await rows<Entry>(
    tx,
    sql`delete from derivation_queue where service_id = ${serviceId} and ${READY}
          ${only === undefined ? sql`` : sql`and id = ${only}`}
        returning id::int as id, kind, deployment_id::int as deployment_id, before, shas,
          incident_id::int as incident_id, previous_deployment_id::int as previous_deployment_id`,
  );
  if (entries.length === 0) return 0;
  entries.sort((a, b) => a.id - b.id);

  // One write's worth per deployment and incident: the first entry's snapshot is what the
  // derived rows reflect; the current row is where they must go.
  const firstBefore = new Map<number, StoredSnapshot | null>();
  const previousDeployment = new Map<number, number | null>();
  const shas = new Set<string>();
  for (const entry of entries) {
    if (entry.kind === "deployment" && entry.deployment_id !== null && !firstBefore.has(entry.deployment_id)) {
      firstBefore.set(entry.deployment_id, entry.before);
    } else if (entry.kind === "incident" && entry.incident_id !== null && !previousDeployment.has(entry.incident_id)) {
      previousDeployment.set(entry.incident_id, entry.previous_deployment_id);
    } else if (entry.kind === "change") {
      for (const sha of entry.shas ?? []) shas.add(sha);
    }
  }

  let repositories: number[] | undefined;
  const repositoryIds = async () => {
    repositories ??= await serviceRepositoryIds(tx, serviceId);
    return repositories;
  };
  const current = await currentSnapshots(tx, [...firstBefore.keys()]);
  const written = [...firstBefore].flatMap(([deploymentId, stored]) => {
    const after = current.get(deploymentId);
    return after ? [{ before: fromStored(stored), after }] : [];
  });
  await walkAfterDeploymentsWritten(tx, serviceId, written, repositoryIds);
  const positions = written.flatMap(({ before, after }) => (before ? [before, after] : [after]));
  const since = await outcomesSince(tx, serviceId, positions);
  if (shas.size > 0) await walkAfterChangesWritten(tx, serviceId, [...shas]);

  // Attribution first (the walks' range, then each incident written), then the outcomes
  // that read it, once, from the earliest point any entry can change.
  if (since !== undefined) await attributeIncidents(tx, { serviceId, since });
  let from = since;
  for (const [id, previousDeploymentId] of previousDeployment) {
    from = earlierSince(from, await attributeAfterIncidentWritten(tx, { id, serviceId, previousDeploymentId }));
  }
  if (from !== undefined) {
    await deriveFailures(tx, serviceId, from);
    await deriveRework(tx, serviceId, from);
  }
  if (since !== undefined) await deriveBaseline(tx, serviceId);
  return entries.length;
}

function fromStored(stored: StoredSnapshot | null): DeploymentSnapshot | null {
  return stored && { ...stored, finishedAt: stored.finishedAt === null ? null : new Date(stored.finishedAt) };
}

async function currentSnapshots(tx: Executor, ids: number[]): Promise<Map<number, DeploymentSnapshot>> {
  if (ids.length === 0) return new Map();
  const found = await tx
    .select({
      id: deployments.id,
      serviceId: deployments.serviceId,
      sha: deployments.sha,
      finishedAt: deployments.finishedAt,
      externalId: deployments.externalId,
      isProduction: deployments.isProduction,
      explicitCommits: deployments.explicitCommits,
      fixesRef: deployments.fixesRef,
    })
    .from(deployments)
    .where(sql`${deployments.id} in (${sql.join(
      ids.map((id) => sql`${id}`),
      sql`, `,
    )})`);
  return new Map(found.map((row) => [row.id, row]));
}

/** Entries a deriver may take now: not set aside, not waiting out a back-off. */
const READY = sql`set_aside_at is null and (retry_at is null or retry_at <= now())`;

const READ_ONLY_TRANSACTION = "25006";

/** A failing entry is tried this many times, with back-off, then set aside (SPEC 10 v2). */
export const MAX_DERIVATION_ATTEMPTS = 5;

async function queuedServices(db: Executor, limit: number, among?: number[]): Promise<number[]> {
  const found = await rows<{ service_id: number }>(
    db,
    sql`select service_id::int as service_id from derivation_queue
        where ${READY} ${among === undefined ? sql`` : sql`and service_id = any(${bigintArray(among)})`}
        group by service_id order by min(id) limit ${limit}`,
  );
  return found.map((r) => r.service_id);
}

type Lock = "wait" | "skip";

/** Takes the service's row lock (another replica may be deriving it); false when skipped. */
async function lockService(tx: Executor, serviceId: number, lock: Lock): Promise<boolean> {
  const [locked] = await rows<{ id: number }>(
    tx,
    lock === "wait"
      ? sql`select id::int as id from services where id = ${serviceId} for no key update`
      : sql`select id::int as id from services where id = ${serviceId} for no key update skip locked`,
  );
  return locked !== undefined;
}

/**
 * Derives a service's ready entries in one transaction. When that fails for a reason of the
 * data (not an unreachable database), each entry is tried alone, so the good ones are done
 * and the bad one is found: it gets an attempt, its error and a back-off, and after
 * MAX_DERIVATION_ATTEMPTS it is set aside. Never throws for the data of one service, so no
 * other service's read or round is held up by it (SPEC 10 v2).
 */
async function deriveIsolated(db: Db, serviceId: number, lock: Lock, onFailure?: OnDerivationFailure): Promise<number> {
  try {
    return await inTransaction(db, async (tx) => ((await lockService(tx, serviceId, lock)) ? deriveQueued(tx, serviceId) : 0));
  } catch (error) {
    // A read-only database (a streaming replica): the primary's derivers do the work.
    if (sqlState(error) === READ_ONLY_TRANSACTION) return 0;
    if (databaseUnavailable(error)) throw error;
  }
  const ids = await rows<{ id: number }>(
    db,
    sql`select id::int as id from derivation_queue where service_id = ${serviceId} and ${READY} order by id`,
  );
  let done = 0;
  for (const { id } of ids) {
    try {
      done += await inTransaction(db, async (tx) => ((await lockService(tx, serviceId, lock)) ? deriveQueued(tx, serviceId, id) : 0));
    } catch (error) {
      if (databaseUnavailable(error)) throw error;
      const setAside = await recordFailure(db, id, error);
      onFailure?.({ entry: id, serviceId, setAside }, error);
    }
  }
  return done;
}

/** Told of each entry that failed, and whether it has now been set aside (the deriver logs it). */
export type OnDerivationFailure = (failure: { entry: number; serviceId: number; setAside: boolean }, error: unknown) => void;

/** Back-off after the n-th failure: 2^n seconds (2, 4, 8, 16: set aside about half a minute after the first). */
async function recordFailure(db: Db, id: number, error: unknown): Promise<boolean> {
  const [row] = await rows<{ set_aside: boolean }>(
    db,
    sql`
    update derivation_queue set
      attempts = attempts + 1,
      last_error = ${safeErrorText(error).slice(0, 2000)},
      retry_at = now() + make_interval(secs => power(2, attempts + 1)),
      set_aside_at = case when attempts + 1 >= ${MAX_DERIVATION_ATTEMPTS} then now() end
    where id = ${id}
    returning set_aside_at is not null as set_aside`,
  );
  return row?.set_aside === true;
}

/**
 * Derives what was queued before the call for these services (every service when undefined),
 * waiting for those another transaction is deriving or writing: a read that settles first
 * sees every write acknowledged before it. Each service in its own transaction; an entry that
 * fails is recorded and skipped (deriveIsolated), so the read answers from the rows as derived.
 */
export async function settleDerivation(db: Db, serviceIds?: number[]): Promise<number> {
  if (serviceIds?.length === 0) return 0;
  let done = 0;
  for (const serviceId of await queuedServices(db, 1_000_000, serviceIds)) done += await deriveIsolated(db, serviceId, "wait");
  return done;
}

/**
 * Derives what is queued for one service inside the caller's transaction, first waiting for
 * the service's row lock (another replica may be deriving it). For a write whose caller
 * wants its effect in the answer (PATCH /deployments/:id).
 */
export async function deriveServiceNow(tx: Executor, serviceId: number): Promise<number> {
  await lockService(tx, serviceId, "wait");
  return deriveQueued(tx, serviceId);
}

/**
 * One round of background derivation: up to `limit` services, skipping those another
 * replica or a writer holds. Returns the number of entries done.
 */
export async function deriveSome(db: Db, limit = 32, onFailure?: OnDerivationFailure): Promise<number> {
  let done = 0;
  for (const serviceId of await queuedServices(db, limit)) done += await deriveIsolated(db, serviceId, "skip", onFailure);
  return done;
}

/** Queue sizes for /metrics: entries waiting (ready or backing off) and entries set aside. */
export async function derivationBacklog(db: Executor): Promise<{ queued: number; setAside: number }> {
  const [counts] = await rows<{ queued: number; set_aside: number }>(
    db,
    sql`select count(*) filter (where set_aside_at is null)::int as queued,
          count(*) filter (where set_aside_at is not null)::int as set_aside
        from derivation_queue`,
  );
  return { queued: counts?.queued ?? 0, setAside: counts?.set_aside ?? 0 };
}

/** Gives set-aside entries (all, or one service's) a fresh start after a fix; returns how many. */
export async function retrySetAside(db: Executor, serviceIds?: number[]): Promise<number> {
  const found = await rows<{ id: number }>(
    db,
    sql`update derivation_queue set attempts = 0, retry_at = null, set_aside_at = null
        where set_aside_at is not null ${serviceIds === undefined ? sql`` : sql`and service_id = any(${bigintArray(serviceIds)})`}
        returning id::int as id`,
  );
  return found.length;
}

/** Which of these deployments or incidents still wait for derivation (written after the read settled). */
export async function stillQueued(db: Executor, kind: "deployment" | "incident", ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const column = kind === "deployment" ? derivationQueue.deploymentId : derivationQueue.incidentId;
  const found = await db.select({ id: column }).from(derivationQueue).where(inArray(column, ids));
  return new Set(found.map((r) => r.id as number));
}
