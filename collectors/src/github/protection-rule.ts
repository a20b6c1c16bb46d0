import { z } from "zod";
import type { MapResult } from "../events.ts";
import { ignored, parsePayload } from "../payload.ts";
import { repositorySchema, serviceOf } from "./schemas.ts";

const protectionRuleSchema = z.object({
  action: z.string(),
  environment: z.string().min(1),
  deployment_callback_url: z.string().min(1),
  // Newer deliveries name the sha at the top level; older ones only inside `deployment`.
  sha: z.string().nullish(),
  deployment: z.object({ sha: z.string().nullish() }).nullish(),
  repository: repositorySchema,
  installation: z.object({ id: z.number().int() }).nullish(),
});

/** A GitHub deployment protection rule asks Sluice's gates for a verdict (SPEC 7). */
export function mapProtectionRule(payload: unknown): MapResult {
  const event = parsePayload(protectionRuleSchema, payload, "deployment_protection_rule");
  if (event.action !== "requested") return ignored("deployment_protection_rule", `rule ${event.action}`);
  return {
    status: "processed",
    event: "deployment_protection_rule",
    events: [
      {
        kind: "gate_request",
        service: serviceOf(event.repository),
        environment: event.environment,
        sha: event.sha || event.deployment?.sha || undefined,
        deployment_callback_url: event.deployment_callback_url,
        installation_id: event.installation?.id,
      },
    ],
  };
}
