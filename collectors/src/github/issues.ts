import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { requireIsoUtc, toIsoUtc } from "../time.ts";
import { repositorySchema, serviceOf } from "./schemas.ts";

const issuesEventSchema = z.object({
  action: z.string(),
  repository: repositorySchema,
  issue: z.object({
    id: z.number().int(),
    title: z.string().nullish(),
    html_url: z.string().nullish(),
    state: z.string().nullish(),
    created_at: z.unknown().optional(),
    closed_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
    labels: z.array(z.object({ name: z.string() })).nullish(),
  }),
});

const OPENING = new Set(["opened", "labeled", "reopened"]);

/**
 * Issues labelled `incident` are incidents of the repository's service. A closed issue (closed by
 * this event or before it) resolves the incident, so that labelling a closed issue does not reopen it.
 */
export function mapIssues(payload: unknown): MapResult {
  const event = parsePayload(issuesEventSchema, payload, "issues");
  const issue = event.issue;
  const labels = (issue.labels ?? []).map((label) => label.name.trim());
  if (!labels.some((name) => name.toLowerCase() === "incident")) {
    return ignored("issues", "issue not labelled incident");
  }
  if (!OPENING.has(event.action) && event.action !== "closed") {
    return ignored("issues", `issue ${event.action}`);
  }
  const closed = event.action === "closed" || issue.state === "closed";
  return {
    status: "processed",
    event: "issues",
    events: [
      {
        kind: "incident",
        service: serviceOf(event.repository),
        external_id: `github-issue-${issue.id}`,
        title: issue.title ?? undefined,
        severity: severityFromLabels(labels),
        url: issue.html_url ?? undefined,
        started_at: requireIsoUtc(issue.created_at, "issue.created_at"),
        resolved_at: closed ? toIsoUtc(issue.closed_at ?? issue.updated_at) : reopenedOrUnstated(event.action),
      },
    ],
  };
}

/**
 * Only a reopen says "open again" (null). Opening or labelling leaves the resolution unstated, so
 * that a late delivery of them never reopens an incident a later event resolved: events may arrive
 * in any order and must give the same result (SPEC 10).
 */
function reopenedOrUnstated(action: string): null | undefined {
  return action === "reopened" ? null : undefined;
}

/** `severity:high`, `severity/high`, `severity: high` -> `high`; `sev1`, `SEV-1`, `sev 1` -> `sev1`. */
export function severityFromLabels(labels: string[]): string | undefined {
  for (const label of labels) {
    const named = /^severity\s*[:/=_-]\s*(\S.*)$/i.exec(label);
    if (named?.[1]) return named[1].trim().toLowerCase();
    const numbered = /^sev\s*[-_ ]?\s*(\d+)$/i.exec(label);
    if (numbered?.[1]) return `sev${numbered[1]}`;
  }
  return undefined;
}
