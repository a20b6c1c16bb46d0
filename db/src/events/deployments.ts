import { and, eq } from "drizzle-orm";
import type { Executor } from "../client.ts";
import type { DeploymentSnapshot } from "../derive/index.ts";
import { enqueueDeployment } from "../derive/queue.ts";
import { matchesPattern } from "../patterns.ts";
import { inTransactionOf } from "../transaction.ts";
import { insertQueued } from "./insert-queued.ts";
import { type DeploymentStatus, deployments, serviceRepositories, services } from "../schema/index.ts";
import { recordChange } from "./changes.ts";
import { ensureRepository } from "./services.ts";

export interface CommitInput {
  sha: string;
  committedAt?: Date | undefined;
  authoredAt?: Date | undefined;
  author?: string | undefined;
  message?: string | undefined;
  parents?: string[] | undefined;
}

export interface DeploymentInput {
  serviceId: number;
  environment: string;
  sha: string;
  status: DeploymentStatus;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
  source: string;
  externalId?: string | undefined;
  url?: string | undefined;
  branch?: string | undefined;
  rollback?: boolean | undefined;
  hotfix?: boolean | undefined;
  fixes?: { id: number } | { sha: string } | undefined;
  commits?: CommitInput[] | undefined;
  /**
   * The start of the rebuild (POST /api/v1/admin/reprocess) applying this event again: the row
   * is stamped with it, and an application that changes nothing leaves the row otherwise as it is.
   */
  rebuiltAt?: Date | undefined;
}

export type DeploymentRow = typeof deployments.$inferSelect;

const TERMINAL = new Set<DeploymentStatus>(["success", "failure", "canceled"]);
const rank = (status: DeploymentStatus) => (TERMINAL.has(status) ? 2 : status === "in_progress" ? 1 : 0);

/**
 * Without an external id a retried call must not count twice (SPEC 3), so one is derived
 * from what identifies the deployment.
 */
export function derivedExternalId(input: Pick<DeploymentInput, "environment" | "sha" | "startedAt" | "finishedAt">) {
  const at = input.startedAt ?? input.finishedAt;
  return `${input.environment}:${input.sha}${at ? `:${at.toISOString()}` : ""}`;
}

/**
 * Status updates arrive out of order (a GitHub "in_progress" after "success"), so a status
 * never moves back from a terminal one; between two terminal ones the later finish wins,
 * status and finish time together (a re-run reports a new finish), and on equal finish times
 * the greater status name, so that the result never depends on which arrived last.
 */
function mergeOutcome(
  existing: DeploymentRow,
  input: DeploymentInput,
  now: Date,
): { status: DeploymentStatus; finishedAt: Date | null } {
  const incoming = rank(input.status);
  const current = rank(existing.status);
  const given = input.finishedAt ?? null;
  if (incoming < current) return { status: existing.status, finishedAt: existing.finishedAt ?? given };
  if (incoming === 2 && current === 2 && existing.finishedAt && given) {
    const gap = given.getTime() - existing.finishedAt.getTime();
    const newer = gap > 0 || (gap === 0 && input.status >= existing.status);
    return newer ? { status: input.status, finishedAt: given } : { status: existing.status, finishedAt: existing.finishedAt };
  }
  return { status: input.status, finishedAt: given ?? existing.finishedAt ?? (incoming === 2 ? now : null) };
}

export const snapshot = (row: DeploymentRow): DeploymentSnapshot => ({
  id: row.id,
  serviceId: row.serviceId,
  sha: row.sha,
  finishedAt: row.finishedAt,
  externalId: row.externalId,
  isProduction: row.isProduction,
  explicitCommits: row.explicitCommits,
  fixesRef: row.fixesRef,
});

/**
 * Stores a deployment, upserting by (service, external id), and queues its derivation in
 * the same statement or transaction (db/src/derive/queue.ts). A success without finished_at
 * finishes now (SPEC 3). A new deployment is one statement; an update merges into the
 * existing row under its row lock, so concurrent writers of one deployment never lose each
 * other's status.
 */
export async function recordDeployment(
  tx: Executor,
  input: DeploymentInput,
  now: Date,
  known?: typeof services.$inferSelect,
): Promise<{ deployment: DeploymentRow; created: boolean }> {
  const service = known ?? (await tx.select().from(services).where(eq(services.id, input.serviceId)))[0];
  if (!service) throw new Error(`service ${input.serviceId} not found`);
  const externalId = input.externalId ?? derivedExternalId(input);

  let explicitCommits: string[] | null = null;
  if (input.commits && input.commits.length > 0) {
    const repositoryId = await primaryRepository(tx, service);
    for (const commit of input.commits) await recordChange(tx, { repositoryId, ...commit });
    explicitCommits = [...new Set(input.commits.map((c) => c.sha))];
  }
  const isProduction = (v: { status: DeploymentStatus; finishedAt: Date | null; environment: string }) =>
    v.status === "success" && v.finishedAt !== null && matchesPattern(service.productionPattern, v.environment);

  const fresh = {
    serviceId: input.serviceId,
    environment: input.environment,
    sha: input.sha,
    status: input.status,
    startedAt: input.startedAt ?? null,
    finishedAt: input.finishedAt ?? (TERMINAL.has(input.status) ? now : null),
    source: input.source,
    externalId,
    url: input.url ?? null,
    branch: input.branch ?? null,
    rollback: input.rollback ?? false,
    hotfix: input.hotfix ?? false,
    fixesRef: input.fixes ?? null,
    explicitCommits,
    isProduction: false,
    createdAt: now,
    updatedAt: now,
    rebuiltAt: input.rebuiltAt ?? null,
  };
  fresh.isProduction = isProduction(fresh);
  const inserted = await insertQueued(tx, {
    key: "deployment",
    table: deployments,
    values: fresh,
    target: [deployments.serviceId, deployments.externalId],
    queue: "insert into derivation_queue (service_id, kind, deployment_id) select service_id, 'deployment', id from ins",
  });
  if (inserted) return { deployment: inserted, created: true };

  // It exists: merge under its row lock (a transaction of its own unless the caller's).
  return inTransactionOf(tx, async (inner) => {
    const [existing] = await inner
      .select()
      .from(deployments)
      .where(and(eq(deployments.serviceId, input.serviceId), eq(deployments.externalId, externalId)))
      .for("update");
    if (!existing) throw new Error(`deployment ${externalId} vanished`);
    const { status, finishedAt } = mergeOutcome(existing, input, now);
    const startedAt =
      existing.startedAt && input.startedAt
        ? new Date(Math.min(existing.startedAt.getTime(), input.startedAt.getTime()))
        : (input.startedAt ?? existing.startedAt ?? null);
    // Columns no event sets are left alone: marked_failed is the API's correction (PATCH), and the
    // derived ones are derivation's.
    const values = {
      environment: input.environment,
      sha: input.sha,
      status,
      startedAt,
      finishedAt,
      url: input.url ?? existing.url,
      branch: input.branch ?? existing.branch,
      rollback: existing.rollback || (input.rollback ?? false),
      hotfix: existing.hotfix || (input.hotfix ?? false),
      fixesRef: input.fixes ?? existing.fixesRef,
      explicitCommits: explicitCommits ?? existing.explicitCommits,
      isProduction: isProduction({ status, finishedAt, environment: input.environment }),
    };
    const { rebuiltAt } = input;
    // A rebuild applies every event again: one that changes nothing only stamps the row, so
    // readers meanwhile see the same rows (updated_at included) and nothing is queued.
    if (rebuiltAt && unchanged(existing, values)) {
      const [row] = await inner.update(deployments).set({ rebuiltAt }).where(eq(deployments.id, existing.id)).returning();
      if (!row) throw new Error("deployment write returned no row");
      return { deployment: row, created: false };
    }
    const [row] = await inner
      .update(deployments)
      .set({ ...values, updatedAt: now, ...(rebuiltAt ? { rebuiltAt } : {}) })
      .where(eq(deployments.id, existing.id))
      .returning();
    if (!row) throw new Error("deployment write returned no row");
    await enqueueDeployment(inner, snapshot(existing), snapshot(row));
    return { deployment: row, created: false };
  });
}

/** Whether merging an event into a row would leave every column the event sets as it is. */
function unchanged(existing: DeploymentRow, values: Partial<DeploymentRow>): boolean {
  return Object.entries(values).every(([key, value]) => sameValue(existing[key as keyof DeploymentRow], value));
}

const sameValue = (a: unknown, b: unknown): boolean =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : JSON.stringify(a) === JSON.stringify(b);

export interface DeploymentPatch {
  status?: DeploymentStatus | undefined;
  finishedAt?: Date | undefined;
  failed?: boolean | undefined;
}

/** An explicit correction through the API: applied as given, its derivation queued. */
export async function patchDeployment(
  tx: Executor,
  id: number,
  patch: DeploymentPatch,
  now: Date,
): Promise<DeploymentRow | undefined> {
  const [existing] = await tx.select().from(deployments).where(eq(deployments.id, id)).for("update");
  if (!existing) return undefined;
  const [service] = await tx.select().from(services).where(eq(services.id, existing.serviceId));
  if (!existing || !service) return undefined;
  const status = patch.status ?? existing.status;
  const finishedAt = patch.finishedAt ?? existing.finishedAt ?? (TERMINAL.has(status) ? now : null);
  const isProduction =
    status === "success" && finishedAt !== null && matchesPattern(service.productionPattern, existing.environment);
  const [row] = await tx
    .update(deployments)
    .set({
      status,
      finishedAt,
      isProduction,
      markedFailed: patch.failed ?? existing.markedFailed,
      updatedAt: now,
    })
    .where(eq(deployments.id, id))
    .returning();
  if (!row) return undefined;
  await enqueueDeployment(tx, snapshot(existing), snapshot(row));
  return row;
}

/**
 * Explicit commit lists need a repository to live in: the service's first one, or, for a
 * service posted to without any, a repository named after the service.
 */
async function primaryRepository(tx: Executor, service: typeof services.$inferSelect): Promise<number> {
  const [mapped] = await tx
    .select({ id: serviceRepositories.repositoryId })
    .from(serviceRepositories)
    .where(eq(serviceRepositories.serviceId, service.id))
    .orderBy(serviceRepositories.repositoryId)
    .limit(1);
  if (mapped) return mapped.id;
  const repositoryId = await ensureRepository(tx, { name: service.slug, provider: "git" });
  await tx.insert(serviceRepositories).values({ serviceId: service.id, repositoryId, pathPrefix: "" }).onConflictDoNothing();
  return repositoryId;
}
