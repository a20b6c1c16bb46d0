import { type Database, deliveries, integrations } from "@sluice/db";
import { and, asc, eq, gt } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { collectorInput, getCollector, mapDelivery, processDelivery } from "./receive.ts";

const PAGE = 100;

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
}): Promise<{ processed: number; failed: number }> {
  const report = { processed: 0, failed: 0 };
  let after = 0;
  for (;;) {
    const page = await options.database.db
      .select({ delivery: deliveries, integration: integrations })
      .from(deliveries)
      .innerJoin(integrations, eq(integrations.id, deliveries.integrationId))
      .where(and(eq(deliveries.status, "received"), gt(deliveries.id, after)))
      .orderBy(asc(deliveries.id))
      .limit(PAGE);
    for (const { delivery, integration } of page) {
      after = delivery.id;
      const collector = getCollector(delivery.source);
      if (!collector || delivery.body === null) continue;
      const mapping = mapDelivery(collector, collectorInput(delivery.headers, delivery.body, integration, delivery.bodyBytes));
      // A delivery that maps to nothing was stored with its final status; one stranded as received mapped to events.
      if (!mapping.ok || mapping.result.status !== "processed") continue;
      const result = await processDelivery({
        database: options.database,
        source: delivery.source,
        mapped: mapping.result,
        deliveryRowId: delivery.id,
        now: options.now,
        logger: options.logger,
        creator: { key: `integration:${integration.id}`, quota: options.autoServiceQuota },
      });
      if (result?.status === "processed") report.processed++;
      else if (result?.status === "failed") report.failed++;
    }
    if (page.length < PAGE) return report;
  }
}
