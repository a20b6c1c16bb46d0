import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";
import { repositoryRef, repositorySchema } from "./schemas.ts";

const pullRequestSchema = z.object({
  action: z.string(),
  repository: repositorySchema,
  pull_request: z.object({
    number: z.number().int(),
    merged: z.boolean().nullish(),
    merge_commit_sha: z.string().nullish(),
    created_at: z.unknown().optional(),
    merged_at: z.unknown().optional(),
    html_url: z.string().nullish(),
    base: z.object({ ref: z.string() }).nullish(),
  }),
});

/**
 * A merged pull request: the merge commit as a change, carrying the PR's open and merge times for
 * the lead time breakdown (coding / review / deploy). Closing without merging changes nothing.
 */
export function mapPullRequest(payload: unknown): MapResult {
  const event = parsePayload(pullRequestSchema, payload, "pull_request");
  const pr = event.pull_request;
  if (event.action !== "closed" || pr.merged !== true) {
    return ignored("pull_request", `pull request ${event.action}, not merged`);
  }
  if (!pr.merge_commit_sha) return ignored("pull_request", "merged pull request without merge_commit_sha");
  const mergedAt = requireIsoUtc(pr.merged_at, "pull_request.merged_at");
  return {
    status: "processed",
    event: "pull_request",
    events: [
      {
        kind: "change",
        repository: repositoryRef(event.repository),
        sha: pr.merge_commit_sha,
        committed_at: mergedAt,
        branch: pr.base?.ref,
        pull_request: {
          number: pr.number,
          opened_at: toIsoUtc(pr.created_at),
          merged_at: mergedAt,
          url: pr.html_url ?? undefined,
        },
      },
    ],
  };
}
