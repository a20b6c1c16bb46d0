import { requestHeaders } from "../node-http.ts";
import { ApiError, notFound, rateLimited } from "../errors.ts";
import { createRouter } from "../router.ts";
import { findIntegration } from "./integrations.ts";
import { collectorInput, getCollector, mapDelivery, receiveDelivery } from "./receive.ts";

/**
 * POST /webhooks/:source/:integration_id (SPEC 6). Answers: 202 processed | ignored | failed
 * (failed = stored for reprocessing; the sender must not retry), 200 duplicate, 401 bad
 * signature, 404 unknown integration or source, 400 invalid JSON, 413 too large.
 */
/** Replaces bytes that are not UTF-8 and drops a leading byte order mark, as JSON parsers want. */
const UTF8 = new TextDecoder("utf-8");

export const webhooksRouter = createRouter();

webhooksRouter.post("/webhooks/:source/:integration_id", async (c) => {
  const { deps } = c.var;
  const source = c.req.param("source");
  const collector = getCollector(source);
  const integrationId = c.req.param("integration_id");
  const integration = collector && integrationId.length <= 100 ? await findIntegration(deps.database.db, integrationId) : undefined;
  if (!collector || !integration || integration.source !== source) throw notFound("webhook integration");

  // Signatures are over the bytes the sender signed: different bytes may decode to the same text.
  const raw = new Uint8Array(await c.req.arrayBuffer());
  const body = UTF8.decode(raw);
  const headers = requestHeaders(c);
  const input = collectorInput(headers, body, integration, raw);
  if (!collector.verify(input)) {
    deps.telemetry.webhookDelivery(source, "unauthenticated");
    throw new ApiError({ status: 401, code: "invalid_signature", message: `the request is not signed with this integration's ${source} secret` });
  }
  const wait = deps.webhookLimiter.take(`integration:${integration.id}`);
  if (wait !== null) {
    deps.telemetry.webhookDelivery(source, "rate_limited");
    throw rateLimited(wait);
  }
  // Mapped once, before storing (collectors are pure): a body that is not JSON is the
  // sender's mistake (400, nothing stored); any other mapping failure is stored as failed.
  const mapping = mapDelivery(collector, input);
  if (!mapping.ok && !isJson(collector.payloadText?.(input) ?? body)) {
    throw new ApiError({ status: 400, code: "invalid_json", message: "the body is not valid JSON" });
  }

  const deliveryId = collector.deliveryId(input);
  const result = await receiveDelivery({
    database: deps.database,
    collector,
    input,
    mapping,
    integrationId: integration.id,
    deliveryId,
    now: deps.clock(),
    logger: deps.logger,
    autoServiceQuota: deps.config.autoServiceQuota,
  });
  if (result === null) {
    deps.telemetry.webhookDelivery(source, "duplicate");
    return c.json({ delivery_id: deliveryId, status: "duplicate" as const }, 200);
  }
  deps.telemetry.webhookDelivery(source, result.status);
  for (const outcome of result.events) if (outcome.action !== "ignored") deps.telemetry.eventsIngested(outcome.kind);
  if (result.status === "processed") deps.derivation?.queued();
  for (const request of result.gateRequests) deps.onGateRequest?.(request);
  return c.json(
    {
      delivery_id: deliveryId,
      status: result.status,
      events: result.events,
      ...(result.error ? { error: result.error } : {}),
    },
    202,
  );
});


function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
