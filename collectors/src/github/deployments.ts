import { z } from "zod";
import type { DeploymentEvent, DeploymentStatus, MapResult } from "../events.ts";
import { isCommitSha } from "../git.ts";
import { ignored, parsePayload } from "../payload.ts";
import { toIsoUtc } from "../time.ts";
import { type GitHubRepository, repositoryRef, repositorySchema, serviceOf } from "./schemas.ts";

const deploymentSchema = z.object({
  id: z.number().int(),
  environment: z.string().min(1),
  sha: z.string().min(1),
  ref: z.string().nullish(),
  url: z.string().nullish(),
  created_at: z.unknown().optional(),
});

const deploymentEventSchema = z.object({ deployment: deploymentSchema, repository: repositorySchema });

const deploymentStatusEventSchema = z.object({
  deployment: deploymentSchema,
  repository: repositorySchema,
  deployment_status: z.object({
    state: z.string(),
    environment: z.string().nullish(),
    created_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
    log_url: z.string().nullish(),
    target_url: z.string().nullish(),
  }),
});

/**
 * deployment_status states. `inactive` means a later deployment to the environment superseded this
 * one; it says nothing new about whether this one succeeded (it did, earlier), so it is ignored
 * rather than turning a success into something else. `error` is GitHub's "could not deploy".
 */
const STATES: Record<string, DeploymentStatus | undefined> = {
  success: "success",
  failure: "failure",
  error: "failure",
  in_progress: "in_progress",
  queued: "queued",
  pending: "queued",
};

export function mapDeployment(payload: unknown): MapResult {
  const event = parsePayload(deploymentEventSchema, payload, "deployment");
  return {
    status: "processed",
    event: "deployment",
    events: [deploymentEvent(event.deployment, event.repository, "queued")],
  };
}

export function mapDeploymentStatus(payload: unknown): MapResult {
  const event = parsePayload(deploymentStatusEventSchema, payload, "deployment_status");
  const status = event.deployment_status;
  const mapped = Object.hasOwn(STATES, status.state) ? STATES[status.state] : undefined;
  if (!mapped) return ignored("deployment_status", `deployment status ${status.state}`);
  const deployment = deploymentEvent(event.deployment, event.repository, mapped);
  const terminal = mapped === "success" || mapped === "failure";
  return {
    status: "processed",
    event: "deployment_status",
    events: [
      {
        ...deployment,
        environment: status.environment || deployment.environment,
        finished_at: terminal ? toIsoUtc(status.updated_at ?? status.created_at) : undefined,
        url: status.log_url || status.target_url || deployment.url,
      },
    ],
  };
}

function deploymentEvent(
  deployment: z.output<typeof deploymentSchema>,
  repository: GitHubRepository,
  status: DeploymentStatus,
): DeploymentEvent {
  // `ref` is a branch, a tag or the sha itself; only a branch helps (hotfix/* marks rework, SPEC 4).
  const ref = deployment.ref;
  const branch = ref && ref !== deployment.sha && !isCommitSha(ref) ? ref.replace(/^refs\/heads\//, "") : undefined;
  return {
    kind: "deployment",
    service: serviceOf(repository),
    repository: repositoryRef(repository),
    environment: deployment.environment,
    sha: deployment.sha,
    status,
    started_at: toIsoUtc(deployment.created_at),
    external_id: `github-deployment-${deployment.id}`,
    url: deployment.url ?? undefined,
    branch,
  };
}
