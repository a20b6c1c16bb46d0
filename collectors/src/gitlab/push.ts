import { z } from "zod";
import type { MapResult } from "../events.ts";
import { parsePayload, processed } from "../payload.ts";
import { changesOfPush, pushedCommitSchema } from "../push.ts";
import { projectSchema, repositoryRef } from "./schemas.ts";

const pushSchema = z.object({
  ref: z.string(),
  before: z.string().nullish(),
  total_commits_count: z.number().nullish(),
  project: projectSchema,
  commits: z.array(pushedCommitSchema).nullish(),
});

/**
 * One change per pushed commit, parents as in a GitHub push (SPEC 4). GitLab lists only the newest
 * 20 commits of a larger push: then `before` is not the first listed commit's parent.
 */
export function mapPush(event: string, payload: unknown): MapResult {
  const push = parsePayload(pushSchema, payload, "push");
  const commits = push.commits ?? [];
  const truncated = (push.total_commits_count ?? 0) > commits.length;
  const events = changesOfPush({
    repository: repositoryRef(push.project),
    ref: push.ref,
    before: truncated ? undefined : push.before,
    commits,
  });
  return processed(event, events, "no commits in this push");
}
