import { z } from "zod";
import type { DeploymentStatus, MapResult } from "../events.ts";
import { environmentFromName } from "../environment.ts";
import { ignored, parsePayload } from "../payload.ts";
import { toIsoUtc } from "../time.ts";
import { repositoryRef, repositorySchema, serviceOf } from "./schemas.ts";

const workflowRunEventSchema = z.object({
  action: z.string(),
  repository: repositorySchema,
  workflow: z.object({ name: z.string().nullish() }).nullish(),
  workflow_run: z.object({
    id: z.number().int(),
    name: z.string().nullish(),
    run_attempt: z.number().int().nullish(),
    head_sha: z.string().min(1),
    head_branch: z.string().nullish(),
    conclusion: z.string().nullish(),
    run_started_at: z.unknown().optional(),
    created_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
    html_url: z.string().nullish(),
  }),
});

/** Conclusions that say how a deployment ended; skipped, neutral, stale, action_required do not. */
const CONCLUSIONS: Record<string, DeploymentStatus | undefined> = {
  success: "success",
  failure: "failure",
  timed_out: "failure",
  cancelled: "canceled",
};

/**
 * A completed workflow run, as a candidate deployment: `workflow` carries its name and ingest keeps
 * it only when the name matches the service's deployment_pattern (default `deploy`, SPEC 3).
 * The environment is guessed from the name (see environment.ts). Each run attempt is its own
 * deployment: a re-run deploys again.
 */
export function mapWorkflowRun(payload: unknown): MapResult {
  const event = parsePayload(workflowRunEventSchema, payload, "workflow_run");
  if (event.action !== "completed") return ignored("workflow_run", `workflow run ${event.action}`);
  const run = event.workflow_run;
  const conclusion = run.conclusion ?? "none";
  const status = Object.hasOwn(CONCLUSIONS, conclusion) ? CONCLUSIONS[conclusion] : undefined;
  if (!status) return ignored("workflow_run", `workflow run concluded ${conclusion}`);
  // Some deliveries leave workflow_run.name empty; the workflow object still names it.
  const name = run.name || event.workflow?.name || "";
  return {
    status: "processed",
    event: "workflow_run",
    events: [
      {
        kind: "deployment",
        service: serviceOf(event.repository),
        repository: repositoryRef(event.repository),
        environment: environmentFromName(name),
        sha: run.head_sha,
        status,
        started_at: toIsoUtc(run.run_started_at ?? run.created_at),
        finished_at: toIsoUtc(run.updated_at),
        external_id: `github-workflow-run-${run.id}-${run.run_attempt ?? 1}`,
        url: run.html_url ?? undefined,
        branch: run.head_branch ?? undefined,
        workflow: name,
      },
    ],
  };
}
