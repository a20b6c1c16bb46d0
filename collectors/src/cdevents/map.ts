import { z } from "zod";
import type { CollectorInput, MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { mapChangeMerged } from "./change.ts";
import { readEnvelope } from "./envelope.ts";
import { mapIncidentEvent } from "./incident.ts";
import { mapPipelineRunFinished } from "./pipeline-run.ts";
import { type CDEvent, cdeventSchema } from "./schemas.ts";
import { mapServiceEvent } from "./service.ts";

type Handler = (event: string, cdevent: CDEvent) => MapResult;

const HANDLERS = new Map<string, Handler>([
  ["change.merged", mapChangeMerged],
  ["service.deployed", mapServiceEvent],
  ["service.upgraded", mapServiceEvent],
  ["service.rolledback", mapServiceEvent],
  ["incident.detected", mapIncidentEvent],
  ["incident.resolved", mapIncidentEvent],
  ["pipelinerun.finished", mapPipelineRunFinished],
]);

/**
 * `dev.cdevents.<subject>.<predicate>.<major>.<minor>.<patch>[-draft]`. Spec 0.4 and 0.5 differ in
 * the event versions (service.deployed 0.1.x/0.2.0 vs 0.3.0) and in the context (`version` vs
 * `specversion`), not in the fields read here, so any event version is accepted.
 */
const TYPE = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.\d+\.\d+\.\d+(?:-[0-9a-z.-]+)?$/i;

const typeSchema = z.object({ context: z.object({ type: z.string() }) });

export function map(input: CollectorInput): MapResult {
  const { cdevent } = readEnvelope(input);
  const type = parsePayload(typeSchema, cdevent, "CDEvent").context.type;
  const match = TYPE.exec(type);
  const event = match ? `${match[1]}.${match[2]}`.toLowerCase() : "unknown";
  const handler = HANDLERS.get(event);
  if (!handler) return ignored(event, `type ${type.slice(0, 100)} is not used`);
  return handler(event, parsePayload(cdeventSchema, cdevent, "CDEvent"));
}
