import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload, processed } from "../payload.ts";
import { changesOfPush, pushedCommitSchema } from "../push.ts";
import { repositoryRef, repositorySchema } from "./schemas.ts";

const pushSchema = z.object({
  ref: z.string(),
  before: z.string().nullish(),
  deleted: z.boolean().nullish(),
  repository: repositorySchema,
  commits: z.array(pushedCommitSchema).nullish(),
});

/** One change per pushed commit, linked to each other and to `before` (SPEC 4). */
export function mapPush(payload: unknown): MapResult {
  const push = parsePayload(pushSchema, payload, "push");
  const commits = push.commits ?? [];
  // A deleted branch, or a new branch/tag without new commits, adds nothing to the commit graph.
  if (push.deleted || commits.length === 0) return ignored("push", "no commits in this push");
  const events = changesOfPush({
    repository: repositoryRef(push.repository),
    ref: push.ref,
    before: push.before,
    commits,
  });
  return processed("push", events, "no commits in this push");
}
