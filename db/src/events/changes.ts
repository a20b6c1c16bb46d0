import { and, eq } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { afterChangeWritten, servicesHoldingRepository } from "../derive/index.ts";
import { changes, deploymentChanges } from "../schema/index.ts";
import { lockServices } from "./services.ts";

export interface ChangeInput {
  repositoryId: number;
  sha: string;
  committedAt?: Date | undefined;
  authoredAt?: Date | undefined;
  author?: string | undefined;
  message?: string | undefined;
  branch?: string | undefined;
  files?: string[] | undefined;
  parents?: string[] | undefined;
  pullRequest?:
    | {
        number: number;
        openedAt?: Date | undefined;
        mergedAt?: Date | undefined;
        firstCommitAt?: Date | undefined;
        url?: string | undefined;
      }
    | undefined;
}

export type ChangeRow = typeof changes.$inferSelect;

const union = (a: string[], b: string[] | undefined) => (b ? [...new Set([...a, ...b])] : a);

/**
 * Upserts a commit: values given win, parents and files accumulate (a push, a PR merge and
 * an API call may each know part of it). Deployments whose walk reached it walk again.
 */
export async function recordChange(
  tx: Executor,
  input: ChangeInput,
  options: { locked?: boolean } = {},
): Promise<{ change: ChangeRow; created: boolean }> {
  if (!options.locked) await lockServices(tx, await servicesHoldingRepository(tx, input.repositoryId));
  const [existing] = await tx
    .select()
    .from(changes)
    .where(and(eq(changes.repositoryId, input.repositoryId), eq(changes.sha, input.sha)));
  const pr = input.pullRequest;
  const values = {
    repositoryId: input.repositoryId,
    sha: input.sha,
    committedAt: input.committedAt ?? existing?.committedAt ?? null,
    authoredAt: input.authoredAt ?? existing?.authoredAt ?? null,
    author: input.author ?? existing?.author ?? null,
    message: input.message ?? existing?.message ?? null,
    branch: input.branch ?? existing?.branch ?? null,
    files: input.files ? union(existing?.files ?? [], input.files) : (existing?.files ?? null),
    parents: union(existing?.parents ?? [], input.parents),
    prNumber: pr?.number ?? existing?.prNumber ?? null,
    prOpenedAt: pr?.openedAt ?? existing?.prOpenedAt ?? null,
    prMergedAt: pr?.mergedAt ?? existing?.prMergedAt ?? null,
    prFirstCommitAt: pr?.firstCommitAt ?? existing?.prFirstCommitAt ?? null,
    prUrl: pr?.url ?? existing?.prUrl ?? null,
    updatedAt: new Date(),
  };
  const [row] = existing
    ? await tx.update(changes).set(values).where(eq(changes.id, existing.id)).returning()
    : await tx.insert(changes).values(values).returning();
  if (!row) throw new Error("change write returned no row");
  const graphChanged =
    !existing ||
    row.parents.length !== existing.parents.length ||
    (row.files?.length ?? -1) !== (existing.files?.length ?? -1);
  if (graphChanged) await afterChangeWritten(tx, input.repositoryId, input.sha);
  else if (existing && timesChanged(existing, row)) await copyTimes(tx, row);
  return { change: row, created: !existing };
}

const sameTime = (a: Date | null, b: Date | null) => a?.getTime() === b?.getTime();

function timesChanged(before: ChangeRow, after: ChangeRow): boolean {
  return (
    !sameTime(before.committedAt, after.committedAt) ||
    before.prNumber !== after.prNumber ||
    !sameTime(before.prFirstCommitAt, after.prFirstCommitAt) ||
    !sameTime(before.prOpenedAt, after.prOpenedAt) ||
    !sameTime(before.prMergedAt, after.prMergedAt)
  );
}

/** deployment_changes carries copies of these times for the metric queries: keep them equal. */
async function copyTimes(tx: Executor, row: ChangeRow): Promise<void> {
  await tx
    .update(deploymentChanges)
    .set({
      committedAt: row.committedAt,
      prNumber: row.prNumber,
      prFirstCommitAt: row.prFirstCommitAt,
      prOpenedAt: row.prOpenedAt,
      prMergedAt: row.prMergedAt,
    })
    .where(and(eq(deploymentChanges.repositoryId, row.repositoryId), eq(deploymentChanges.sha, row.sha)));
}
