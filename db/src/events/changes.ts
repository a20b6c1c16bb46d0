import { and, eq } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { enqueueChanges } from "../derive/queue.ts";
import { changes } from "../schema/index.ts";
import { inTransactionOf } from "../transaction.ts";
import { insertQueued } from "./insert-queued.ts";

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

/** The row a new commit gets (the values recordChange inserts, also used by batched writers). */
export function newChangeValues(input: ChangeInput, now: Date) {
  const pr = input.pullRequest;
  return {
    repositoryId: input.repositoryId,
    sha: input.sha,
    committedAt: input.committedAt ?? null,
    authoredAt: input.authoredAt ?? null,
    author: input.author ?? null,
    message: input.message ?? null,
    branch: input.branch ?? null,
    files: input.files ? [...new Set(input.files)] : null,
    parents: [...new Set(input.parents ?? [])],
    prNumber: pr?.number ?? null,
    prOpenedAt: pr?.openedAt ?? null,
    prMergedAt: pr?.mergedAt ?? null,
    prFirstCommitAt: pr?.firstCommitAt ?? null,
    prUrl: pr?.url ?? null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Upserts a commit: values given win, parents and files accumulate (a push, a PR merge and
 * an API call may each know part of it). A new commit is one statement; a known one is
 * merged under its row lock. Either way the services of its repository are queued to walk
 * again any deployment that reached it (db/src/derive/queue.ts).
 */
export async function recordChange(tx: Executor, input: ChangeInput): Promise<{ change: ChangeRow; created: boolean }> {
  const pr = input.pullRequest;
  const now = new Date();
  const inserted = await insertQueued(tx, {
    key: "change",
    table: changes,
    values: newChangeValues(input, now),
    target: [changes.repositoryId, changes.sha],
    queue: `insert into derivation_queue (service_id, kind, repository_id, shas)
        select distinct sr.service_id, 'change', ins.repository_id, array[ins.sha]
        from ins join service_repositories sr on sr.repository_id = ins.repository_id`,
  });
  if (inserted) return { change: inserted, created: true };

  return inTransactionOf(tx, async (inner) => {
    const [existing] = await inner
      .select()
      .from(changes)
      .where(and(eq(changes.repositoryId, input.repositoryId), eq(changes.sha, input.sha)))
      .for("update");
    if (!existing) throw new Error(`change ${input.sha} vanished`);
    const values = {
      committedAt: input.committedAt ?? existing.committedAt,
      authoredAt: input.authoredAt ?? existing.authoredAt,
      author: input.author ?? existing.author,
      message: input.message ?? existing.message,
      branch: input.branch ?? existing.branch,
      files: input.files ? union(existing.files ?? [], input.files) : existing.files,
      parents: union(existing.parents, input.parents),
      prNumber: pr?.number ?? existing.prNumber,
      prOpenedAt: pr?.openedAt ?? existing.prOpenedAt,
      prMergedAt: pr?.mergedAt ?? existing.prMergedAt,
      prFirstCommitAt: pr?.firstCommitAt ?? existing.prFirstCommitAt,
      prUrl: pr?.url ?? existing.prUrl,
      updatedAt: now,
    };
    const [row] = await inner.update(changes).set(values).where(eq(changes.id, existing.id)).returning();
    if (!row) throw new Error("change write returned no row");
    // What deployment_changes copies or walks through changed: the holder walks again.
    if (graphChanged(existing, row) || timesChanged(existing, row)) await enqueueChanges(inner, row.repositoryId, [row.sha]);
    return { change: row, created: false };
  });
}

const sameTime = (a: Date | null, b: Date | null) => a?.getTime() === b?.getTime();

const graphChanged = (before: ChangeRow, after: ChangeRow) =>
  after.parents.length !== before.parents.length || (after.files?.length ?? -1) !== (before.files?.length ?? -1);

function timesChanged(before: ChangeRow, after: ChangeRow): boolean {
  return (
    !sameTime(before.committedAt, after.committedAt) ||
    before.prNumber !== after.prNumber ||
    !sameTime(before.prFirstCommitAt, after.prFirstCommitAt) ||
    !sameTime(before.prOpenedAt, after.prOpenedAt) ||
    !sameTime(before.prMergedAt, after.prMergedAt)
  );
}
