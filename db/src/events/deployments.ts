import { and, eq } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { type DeploymentSnapshot, afterDeploymentWritten, servicesHoldingRepository } from "../derive/index.ts";
import { type DeploymentStatus, deployments, serviceRepositories, services } from "../schema/index.ts";
import { recordChange } from "./changes.ts";
import { ensureRepository, lockServices } from "./services.ts";

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
 * Stores a deployment, upserting by (service, external id), and re-derives what depends
 * on it in the same transaction. A success without finished_at finishes now (SPEC 3).
 */
export async function recordDeployment(
  tx: Executor,
  input: DeploymentInput,
  now: Date,
): Promise<{ deployment: DeploymentRow; created: boolean }> {
  const [service] = await tx.select().from(services).where(eq(services.id, input.serviceId));
  if (!service) throw new Error(`service ${input.serviceId} not found`);
  // Explicit commits may touch other services of a monorepo: lock them all, in id order.
  const repositoryId = input.commits?.length ? await primaryRepository(tx, service) : undefined;
  const holders = repositoryId === undefined ? [] : await servicesHoldingRepository(tx, repositoryId);
  await lockServices(tx, [input.serviceId, ...holders]);
  const externalId = input.externalId ?? derivedExternalId(input);
  const [existing] = await tx
    .select()
    .from(deployments)
    .where(and(eq(deployments.serviceId, input.serviceId), eq(deployments.externalId, externalId)));

  let explicitCommits: string[] | null = existing?.explicitCommits ?? null;
  if (input.commits && input.commits.length > 0 && repositoryId !== undefined) {
    for (const commit of input.commits) {
      await recordChange(tx, { repositoryId, ...commit }, { locked: true });
    }
    explicitCommits = [...new Set(input.commits.map((c) => c.sha))];
  }

  const { status, finishedAt } = existing
    ? mergeOutcome(existing, input, now)
    : { status: input.status, finishedAt: input.finishedAt ?? (TERMINAL.has(input.status) ? now : null) };
  const startedAt =
    existing?.startedAt && input.startedAt
      ? new Date(Math.min(existing.startedAt.getTime(), input.startedAt.getTime()))
      : (input.startedAt ?? existing?.startedAt ?? null);
  const productionPattern = new RegExp(service.productionPattern, "i");

  const values = {
    serviceId: input.serviceId,
    environment: input.environment,
    sha: input.sha,
    status,
    startedAt,
    finishedAt,
    source: existing?.source ?? input.source,
    externalId,
    url: input.url ?? existing?.url ?? null,
    branch: input.branch ?? existing?.branch ?? null,
    rollback: (existing?.rollback ?? false) || (input.rollback ?? false),
    hotfix: (existing?.hotfix ?? false) || (input.hotfix ?? false),
    fixesRef: input.fixes ?? existing?.fixesRef ?? null,
    explicitCommits,
    isProduction: false,
    updatedAt: now,
  };
  values.isProduction = values.status === "success" && values.finishedAt !== null && productionPattern.test(values.environment);

  const [row] = existing
    ? await tx.update(deployments).set(values).where(eq(deployments.id, existing.id)).returning()
    : await tx.insert(deployments).values(values).returning();
  if (!row) throw new Error("deployment write returned no row");
  await afterDeploymentWritten(tx, existing ? snapshot(existing) : null, snapshot(row));
  const [fresh] = await tx.select().from(deployments).where(eq(deployments.id, row.id));
  return { deployment: fresh ?? row, created: !existing };
}

export interface DeploymentPatch {
  status?: DeploymentStatus | undefined;
  finishedAt?: Date | undefined;
  failed?: boolean | undefined;
}

/** An explicit correction through the API: applied as given, then re-derived. */
export async function patchDeployment(
  tx: Executor,
  id: number,
  patch: DeploymentPatch,
  now: Date,
): Promise<DeploymentRow | undefined> {
  const [found] = await tx.select({ serviceId: deployments.serviceId }).from(deployments).where(eq(deployments.id, id));
  if (!found) return undefined;
  await lockServices(tx, [found.serviceId]);
  const [existing] = await tx.select().from(deployments).where(eq(deployments.id, id));
  const [service] = await tx.select().from(services).where(eq(services.id, found.serviceId));
  if (!existing || !service) return undefined;
  const status = patch.status ?? existing.status;
  const finishedAt = patch.finishedAt ?? existing.finishedAt ?? (TERMINAL.has(status) ? now : null);
  const isProduction =
    status === "success" && finishedAt !== null && new RegExp(service.productionPattern, "i").test(existing.environment);
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
  await afterDeploymentWritten(tx, snapshot(existing), snapshot(row));
  const [fresh] = await tx.select().from(deployments).where(eq(deployments.id, id));
  return fresh;
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
