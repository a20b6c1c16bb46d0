import { z } from "zod";
import type { MapResult } from "../events.ts";
import { isCommitSha } from "../git.ts";
import { ignored, parsePayload } from "../payload.ts";
import { type CDEvent, occurredAt, referenceSchema } from "./schemas.ts";

const changeContentSchema = z.object({ repository: referenceSchema.nullish() });

/**
 * change.merged. In CDEvents a change is a proposed change (a pull or merge request) and its
 * subject.id is the change's id in the repository, not a commit: the spec carries no sha. A
 * producer that uses the merge commit's sha as the change id gives us a change; any other id
 * cannot be placed in the commit graph and is ignored.
 */
export function mapChangeMerged(event: string, cdevent: CDEvent): MapResult {
  const content = parsePayload(changeContentSchema, cdevent.subject.content, "subject.content");
  const sha = cdevent.subject.id;
  if (!isCommitSha(sha)) return ignored(event, "change id is not a commit sha");
  if (!content.repository) return ignored(event, "change names no repository");
  const at = occurredAt(cdevent);
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "change",
        repository: {
          name: content.repository.id,
          provider: "git",
          url: content.repository.source ?? undefined,
        },
        sha: sha.toLowerCase(),
        committed_at: at,
      },
    ],
  };
}
