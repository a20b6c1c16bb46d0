import { z } from "zod";
import type { ChangeEvent, MapResult } from "../events.ts";
import { branchFromRef, pushParents, touchedFiles } from "../git.ts";
import { ignored, parsePayload, processed } from "../payload.ts";
import { toIsoUtc } from "../time.ts";
import { repositoryRef, repositorySchema } from "./schemas.ts";

const files = z.array(z.string()).nullish();

const pushSchema = z.object({
  ref: z.string(),
  before: z.string().nullish(),
  deleted: z.boolean().nullish(),
  repository: repositorySchema,
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

/** One change per pushed commit, linked to each other and to `before` (SPEC 4). */
export function mapPush(payload: unknown): MapResult {
  const push = parsePayload(pushSchema, payload, "push");
  const commits = push.commits ?? [];
  // A deleted branch, or a new branch/tag without new commits, adds nothing to the commit graph.
  if (push.deleted || commits.length === 0) return ignored("push", "no commits in this push");
  const repository = repositoryRef(push.repository);
  const branch = branchFromRef(push.ref);
  const parents = pushParents(
    commits.map((c) => c.id),
    push.before,
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
  return processed("push", events, "no commits in this push");
}
