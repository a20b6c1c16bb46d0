import type { CollectorInput, MapResult } from "../events.ts";
import { ignored, parseJson } from "../payload.ts";
import { header } from "../request.ts";
import { mapDeployment, mapDeploymentStatus } from "./deployments.ts";
import { mapIssues } from "./issues.ts";
import { mapProtectionRule } from "./protection-rule.ts";
import { mapPullRequest } from "./pull-request.ts";
import { mapPush } from "./push.ts";
import { mapWorkflowRun } from "./workflow-run.ts";

const HANDLERS = new Map<string, (payload: unknown) => MapResult>([
  ["push", mapPush],
  ["pull_request", mapPullRequest],
  ["deployment", mapDeployment],
  ["deployment_status", mapDeploymentStatus],
  ["workflow_run", mapWorkflowRun],
  ["issues", mapIssues],
  ["deployment_protection_rule", mapProtectionRule],
]);

/**
 * GitHub's webhook form defaults to application/x-www-form-urlencoded, where the JSON is the
 * `payload` field; accepting it spares users a 400 for a setting they missed.
 */
export function jsonBody(input: CollectorInput): string {
  const type = header(input.headers, "content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return input.body;
  return new URLSearchParams(input.body).get("payload") ?? "";
}

/** Routes on X-GitHub-Event; ping and every event Sluice does not use are ignored. */
export function map(input: CollectorInput): MapResult {
  const payload = parseJson(jsonBody(input));
  const event = header(input.headers, "x-github-event")?.trim() || "unknown";
  const handler = HANDLERS.get(event);
  return handler ? handler(payload) : ignored(event.slice(0, 100), `event ${event.slice(0, 100)} is not used`);
}
