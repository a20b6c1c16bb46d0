import { z } from "zod";
import type { DeploymentStatus, MapResult } from "../events.ts";
import { environmentFromName } from "../environment.ts";
import { ignored, parsePayload } from "../payload.ts";
import { type CDEvent, eventKey, occurredAt } from "./schemas.ts";

const pipelineRunContentSchema = z.object({
  pipelineName: z.string().min(1),
  url: z.string().nullish(),
  outcome: z.string().nullish(),
});

const OUTCOMES: Record<string, DeploymentStatus | undefined> = {
  success: "success",
  failure: "failure",
  error: "failure",
  cancel: "canceled",
};

/**
 * pipelinerun.finished, as a candidate deployment like a GitHub workflow run: `workflow` is the
 * pipeline's name and ingest keeps the run only when it matches the service's deployment_pattern;
 * the environment is guessed from the name (environment.ts). A pipeline run names neither a service
 * nor a commit, so the service is named by the pipeline (add it as an alias of the service) and
 * the sha is an opaque `pipelinerun:<id>` that ties no commits to the deployment.
 */
export function mapPipelineRunFinished(event: string, cdevent: CDEvent): MapResult {
  const content = parsePayload(pipelineRunContentSchema, cdevent.subject.content, "subject.content");
  const outcome = content.outcome ?? "none";
  const status = Object.hasOwn(OUTCOMES, outcome) ? OUTCOMES[outcome] : undefined;
  if (!status) return ignored(event, `pipeline run outcome ${outcome.slice(0, 40)}`);
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "deployment",
        service: { name: content.pipelineName },
        environment: environmentFromName(content.pipelineName),
        sha: `pipelinerun:${cdevent.subject.id}`,
        status,
        finished_at: occurredAt(cdevent),
        external_id: `cdevents-${eventKey(cdevent)}`,
        url: content.url ?? undefined,
        workflow: content.pipelineName,
      },
    ],
  };
}
