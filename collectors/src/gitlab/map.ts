import { z } from "zod";
import type { CollectorInput, MapResult } from "../events.ts";
import { ignored, parseJson } from "../payload.ts";
import { header } from "../request.ts";
import { mapDeployment } from "./deployment.ts";
import { mapIncident } from "./incident.ts";
import { mapMergeRequest } from "./merge-request.ts";
import { mapPush } from "./push.ts";

type Handler = (event: string, payload: unknown) => MapResult;

/**
 * Routed on the body's object_kind, which project, group and system hooks all carry (a system hook
 * says only "System Hook" in X-Gitlab-Event). Incidents are work items: object_kind `issue` or,
 * since GitLab 17, `work_item`.
 */
const HANDLERS = new Map<string, Handler>([
  ["push", mapPush],
  ["merge_request", mapMergeRequest],
  ["deployment", mapDeployment],
  ["issue", mapIncident],
  ["work_item", mapIncident],
]);

const kindSchema = z.object({ object_kind: z.string() });

/** Events Sluice does not use are ignored, never rejected: GitLab disables hooks that get 4xx. */
export function map(input: CollectorInput): MapResult {
  const payload = parseJson(input.body);
  const kind = kindSchema.safeParse(payload).data?.object_kind ?? "";
  const event = (header(input.headers, "x-gitlab-event")?.trim() || kind || "unknown").slice(0, 100);
  const handler = HANDLERS.get(kind);
  return handler ? handler(event, payload) : ignored(event, `object_kind ${kind.slice(0, 100) || "missing"}`);
}
