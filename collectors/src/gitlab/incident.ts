import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";
import { projectSchema, serviceOf } from "./schemas.ts";

const issueSchema = z.object({
  project: projectSchema,
  object_attributes: z.object({
    id: z.number().int(),
    title: z.string().nullish(),
    url: z.string().nullish(),
    action: z.string().nullish(),
    // GitLab 17.2+ names the work item type in `type` ("Incident"); older versions in `issue_type`.
    type: z.string().nullish(),
    issue_type: z.string().nullish(),
    severity: z.string().nullish(),
    created_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
    closed_at: z.unknown().optional(),
  }),
});

/** GitLab incidents (issues of type incident) of the project's service; other issues are ignored. */
export function mapIncident(event: string, payload: unknown): MapResult {
  const parsed = parsePayload(issueSchema, payload, "issue");
  const issue = parsed.object_attributes;
  const types = [issue.type, issue.issue_type].map((type) => type?.toLowerCase());
  if (!types.includes("incident")) return ignored(event, `issue of type ${types.find(Boolean) ?? "issue"}`);
  const action = issue.action ?? "";
  if (action !== "open" && action !== "reopen" && action !== "close") return ignored(event, `incident ${action}`);
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "incident",
        service: serviceOf(parsed.project),
        external_id: `gitlab-incident-${issue.id}`,
        title: issue.title ?? undefined,
        // "unknown" is GitLab's default severity: not a severity anyone chose.
        severity: issue.severity && issue.severity !== "unknown" ? issue.severity.toLowerCase() : undefined,
        url: issue.url ?? undefined,
        started_at: requireIsoUtc(issue.created_at, "object_attributes.created_at"),
        // Only a reopen says "open again"; an open leaves it unstated, so a late open never undoes a close.
        resolved_at: action === "close" ? toIsoUtc(issue.closed_at ?? issue.updated_at) : action === "reopen" ? null : undefined,
      },
    ],
  };
}
