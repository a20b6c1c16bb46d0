import { z } from "zod";
import { CollectorError, type DeploymentStatus, type MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { requireIsoUtc } from "../time.ts";
import { projectSchema, repositoryRef, serviceOf } from "./schemas.ts";

const deploymentSchema = z.object({
  status: z.string(),
  status_changed_at: z.unknown().optional(),
  deployment_id: z.number().int(),
  deployable_url: z.string().nullish(),
  environment: z.string().min(1),
  project: projectSchema,
  commit_url: z.string().nullish(),
  ref: z.string().nullish(),
});

/** GitLab sends a Deployment Hook when a deployment starts, succeeds, fails or is canceled. */
const STATUSES: Record<string, DeploymentStatus | undefined> = {
  created: "queued",
  running: "in_progress",
  success: "success",
  failed: "failure",
  canceled: "canceled",
};

const TERMINAL = new Set<DeploymentStatus>(["success", "failure", "canceled"]);

/** The hook carries only a short sha; the full one ends `commit_url` (.../-/commit/<sha>). */
export function mapDeployment(event: string, payload: unknown): MapResult {
  const deployment = parsePayload(deploymentSchema, payload, "deployment");
  const status = Object.hasOwn(STATUSES, deployment.status) ? STATUSES[deployment.status] : undefined;
  if (!status) return ignored(event, `deployment ${deployment.status}`);
  const sha = /\/commit\/([0-9a-f]{40}|[0-9a-f]{64})\/?$/i.exec(deployment.commit_url ?? "")?.[1];
  if (!sha) throw new CollectorError("invalid_payload", "deployment: commit_url names no full commit sha");
  const changedAt = requireIsoUtc(deployment.status_changed_at, "status_changed_at");
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "deployment",
        service: serviceOf(deployment.project),
        repository: repositoryRef(deployment.project),
        environment: deployment.environment,
        sha: sha.toLowerCase(),
        status,
        started_at: status === "in_progress" ? changedAt : undefined,
        finished_at: TERMINAL.has(status) ? changedAt : undefined,
        external_id: `gitlab-deployment-${deployment.deployment_id}`,
        url: deployment.deployable_url ?? undefined,
        branch: deployment.ref ?? undefined,
      },
    ],
  };
}
