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
    created_at: z.unknown(),
    closed_at: z.unknown(),
    updated_at: z.unknown(),
    labels: z.array(z.object({ name: z.string() })).nullish(),
  }),
});

const OPENING = new Set(["opened", "labeled", "reopened"]);

/**
 * Issues labelled `incident` are incidents of the repository's service. The issue's state decides
 * open or resolved (not only the action), so that labelling an already closed issue does not
 * reopen its incident.
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
        resolved_at: closed ? toIsoUtc(issue.closed_at ?? issue.updated_at) : null,
      },
    ],
  };
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
