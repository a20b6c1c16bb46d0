import { z } from "zod";
import type { MapResult } from "../events.ts";
import { parsePayload } from "../payload.ts";
import { deployedRef } from "./artifact.ts";
import { type CDEvent, eventKey, occurredAt, referenceSchema } from "./schemas.ts";

const serviceContentSchema = z.object({
  environment: referenceSchema,
  artifactId: z.string().min(1),
});

/**
 * service.deployed / upgraded / rolledback: a finished, successful deployment of the service named
 * by subject.id to content.environment.id. The sha is the commit the artifact names, else the
 * artifactId itself (see artifact.ts); `artifact` keeps the artifactId either way.
 */
export function mapServiceEvent(event: string, cdevent: CDEvent): MapResult {
  const content = parsePayload(serviceContentSchema, cdevent.subject.content, "subject.content");
  const rollback = event === "service.rolledback";
  return {
    status: "processed",
    event,
    events: [
      {
        kind: "deployment",
        service: { name: cdevent.subject.id },
        environment: content.environment.id,
        sha: deployedRef(content.artifactId),
        artifact: content.artifactId,
        status: "success",
        finished_at: occurredAt(cdevent),
        external_id: `cdevents-${eventKey(cdevent)}`,
        rollback: rollback || undefined,
      },
    ],
  };
}
