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

/** Routes on X-GitHub-Event; ping and every event Sluice does not use are ignored. */
export function map(input: CollectorInput): MapResult {
  const payload = parseJson(input.body);
  const event = header(input.headers, "x-github-event")?.trim() || "unknown";
  const handler = HANDLERS.get(event);
  return handler ? handler(payload) : ignored(event.slice(0, 100), `event ${event.slice(0, 100)} is not used`);
}
