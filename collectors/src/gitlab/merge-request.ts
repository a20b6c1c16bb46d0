import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";
import { projectSchema, repositoryRef } from "./schemas.ts";

const mergeRequestSchema = z.object({
  project: projectSchema,
  object_attributes: z.object({
    action: z.string().nullish(),
    iid: z.number().int(),
    url: z.string().nullish(),
    target_branch: z.string().nullish(),
    created_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
    merged_at: z.unknown().optional(),
    merge_commit_sha: z.string().nullish(),
    squash_commit_sha: z.string().nullish(),
    last_commit: z.object({ id: z.string().min(1) }).nullish(),
  }),
});

/**
 * A merged merge request: the commit it landed as, with the MR's open and merge times.
 * - The commit: merge_commit_sha; a squash without a merge commit lands as squash_commit_sha;
 *   a fast-forward merge lands the MR's last commit itself.
 * - GitLab's hook data does not include merged_at (it lives in the MR's metrics), but the `merge`
 *   action is sent when the merge happens and updated_at is then the merge time. merged_at is
 *   used when a GitLab version does send it.
 */
export function mapMergeRequest(event: string, payload: unknown): MapResult {
  const parsed = parsePayload(mergeRequestSchema, payload, "merge request");
  const mr = parsed.object_attributes;
  if (mr.action !== "merge") return ignored(event, `merge request ${mr.action ?? "without action"}`);
  const sha = mr.merge_commit_sha || mr.squash_commit_sha || mr.last_commit?.id;
  if (!sha) return ignored(event, "merged merge request names no commit");
  const mergedAt = requireIsoUtc(mr.merged_at ?? mr.updated_at, "object_attributes.updated_at");
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "change",
        repository: repositoryRef(parsed.project),
        sha,
        committed_at: mergedAt,
        branch: mr.target_branch ?? undefined,
        pull_request: {
          number: mr.iid,
          opened_at: toIsoUtc(mr.created_at),
          merged_at: mergedAt,
          url: mr.url ?? undefined,
        },
      },
    ],
  };
}
