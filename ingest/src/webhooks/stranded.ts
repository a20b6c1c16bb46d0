import { type Database, deliveries, integrations } from "@sluice/db";
import { and, asc, eq, gt, lt } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import type { PendingGateRequest } from "./apply.ts";
import { integrationCreator, mapStoredDelivery, mappingError, markDelivery, processDelivery } from "./receive.ts";

const PAGE = 100;
/**
 * Only rows stored this long before the sweep started: younger ones may belong to a request
 * still in flight on this or another replica, which applies them itself.
 */
const SETTLED_MS = 60_000;

/**
 * Processes deliveries left `received`: stored, but the process died before applying them
 * (issue 18: a crash between storing and processing must not lose a delivery). Run at start;
 * processDelivery locks each row and applies it only while it is still `received`, so
 * replicas starting together, or a sender's retry arriving meanwhile, apply it once.
 */
export async function processStrandedDeliveries(options: {
  database: Database;
  logger: Logger;
  autoServiceQuota: number;
  now: Date;
  /** Gate requests of the deliveries applied (GitHub protection rules still waiting on an answer). */
  onGateRequest?: (request: PendingGateRequest) => void;
}): Promise<{ processed: number; failed: number }> {
  const report = { processed: 0, failed: 0 };
  const settled = new Date(options.now.getTime() - SETTLED_MS);
  let after = 0;
  for (;;) {
    const page = await options.database.db
      .select({ delivery: deliveries, integration: integrations })
      .from(deliveries)
      .innerJoin(integrations, eq(integrations.id, deliveries.integrationId))
      .where(and(eq(deliveries.status, "received"), lt(deliveries.receivedAt, settled), gt(deliveries.id, after)))
      .orderBy(asc(deliveries.id))
      .limit(PAGE);
    for (const { delivery, integration } of page) {
      after = delivery.id;
      const mapping = mapStoredDelivery(delivery, integration);
      if (!mapping) continue;
      // Mapped differently now (a mapping fix since): settled as the webhook route would settle it, so it is not swept again.
      if (!mapping.ok || mapping.result.status !== "processed") {
        const settled = mapping.ok
          ? { status: "ignored" as const, error: mapping.result.status === "ignored" ? mapping.result.reason : null, event: mapping.result.event }
          : { status: "failed" as const, error: mappingError(mapping.error) };
        await markDelivery(options.database, delivery.id, { ...settled, now: options.now });
        continue;
      }
      const result = await processDelivery({
        database: options.database,
        source: delivery.source,
        mapped: mapping.result,
        deliveryRowId: delivery.id,
        now: options.now,
        logger: options.logger,
        creator: integrationCreator(integration.id, options.autoServiceQuota),
      });
      if (result?.status === "processed") report.processed++;
      else if (result?.status === "failed") report.failed++;
      for (const request of result?.gateRequests ?? []) options.onGateRequest?.(request);
    }
    if (page.length < PAGE) return report;
  }
}
