import { z } from "zod";
import type { ChangeEvent, RepositoryRef } from "./events.ts";
import { branchFromRef, pushParents, touchedFiles } from "./git.ts";
import { toIsoUtc } from "./time.ts";

const files = z.array(z.string()).nullish();

/** A commit as GitHub and GitLab push hooks both list it. */
export const pushedCommitSchema = z.object({
  id: z.string().min(1),
  timestamp: z.unknown().optional(),
  message: z.string().nullish(),
  author: z.object({ name: z.string().nullish() }).nullish(),
  added: files,
  modified: files,
  removed: files,
});

type PushedCommit = z.output<typeof pushedCommitSchema>;

/**
 * One change per pushed commit. `before` is the first commit's parent; pass undefined when the
 * list is known to be incomplete, so that parent stays unknown rather than wrong.
 */
export function changesOfPush(push: {
  repository: RepositoryRef;
  ref: string;
  before: string | null | undefined;
  commits: PushedCommit[];
}): ChangeEvent[] {
  const branch = branchFromRef(push.ref);
  const parents = pushParents(
    push.commits.map((commit) => commit.id),
    push.before,
  );
  return push.commits.map((commit, i) => ({
    kind: "change",
    repository: push.repository,
    sha: commit.id,
    committed_at: toIsoUtc(commit.timestamp),
    author: commit.author?.name ?? undefined,
    message: commit.message ?? undefined,
    branch,
    files: touchedFiles(commit.added, commit.modified, commit.removed),
    parents: parents[i],
  }));
}
