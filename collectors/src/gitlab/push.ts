import { z } from "zod";
import type { ChangeEvent, MapResult } from "../events.ts";
import { branchFromRef, pushParents, touchedFiles } from "../git.ts";
import { parsePayload, processed } from "../payload.ts";
import { toIsoUtc } from "../time.ts";
import { projectSchema, repositoryRef } from "./schemas.ts";

const files = z.array(z.string()).nullish();

const pushSchema = z.object({
  ref: z.string(),
  before: z.string().nullish(),
  total_commits_count: z.number().nullish(),
  project: projectSchema,
  commits: z
    .array(
      z.object({
        id: z.string().min(1),
        timestamp: z.unknown(),
        message: z.string().nullish(),
        author: z.object({ name: z.string().nullish() }).nullish(),
        added: files,
        modified: files,
        removed: files,
      }),
    )
    .nullish(),
});

/**
 * One change per pushed commit, parents as in a GitHub push (SPEC 4). GitLab lists only the newest
 * 20 commits of a larger push: then `before` is not the first listed commit's parent, and that
 * parent stays unknown rather than wrong.
 */
export function mapPush(event: string, payload: unknown): MapResult {
  const push = parsePayload(pushSchema, payload, "push");
  const commits = push.commits ?? [];
  const repository = repositoryRef(push.project);
  const branch = branchFromRef(push.ref);
  const truncated = (push.total_commits_count ?? 0) > commits.length;
  const parents = pushParents(
    commits.map((c) => c.id),
    truncated ? undefined : push.before,
  );
  const events = commits.map(
    (commit, i): ChangeEvent => ({
      kind: "change",
      repository,
      sha: commit.id,
      committed_at: toIsoUtc(commit.timestamp),
      author: commit.author?.name ?? undefined,
      message: commit.message ?? undefined,
      branch,
      files: touchedFiles(commit.added, commit.modified, commit.removed),
      parents: parents[i],
    }),
  );
  return processed(event, events, "no commits in this push");
}
