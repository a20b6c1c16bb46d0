import { getCollector } from "@sluice/collectors";
import { type Database, deliveries, deployments, inTransaction, incidents, integrations, rederiveService, services } from "@sluice/db";
import { asc, eq, ne, sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { applyEvents } from "./apply.ts";
import { MAX_ERROR_LENGTH, describeError, integrationCreator, mapStoredDelivery } from "./receive.ts";

const REPROCESS_LOCK_KEY = 7_305_158_114_201_903n;

export interface ReprocessReport {
  deliveries: number;
  processed: number;
  ignored: number;
  failed: number;
  events: number;
  services: number;
}

/**
 * Rebuilds every row that came from webhooks (after a mapping fix): deployments and incidents
 * from webhook sources are removed, every stored delivery is mapped and applied again in the
 * order it was received, and every service is re-derived. One transaction: readers see the
 * old numbers until the new ones are complete. Rows posted through the API are kept.
 * Deliveries whose body is past retention are re-applied from their stored events.
 */
export async function reprocessDeliveries(options: {
  database: Database;
  now: Date;
  logger: Logger;
  /** config.autoServiceQuota, as when the deliveries first arrived. */
  autoServiceQuota: number;
}): Promise<ReprocessReport> {
  const report: ReprocessReport = { deliveries: 0, processed: 0, ignored: 0, failed: 0, events: 0, services: 0 };
  await inTransaction(
    options.database.db,
    async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${REPROCESS_LOCK_KEY.toString()}::bigint)`);
      await tx.delete(deployments).where(ne(deployments.source, "api"));
      await tx.delete(incidents).where(ne(incidents.source, "api"));
      const stored = await tx
        .select({ delivery: deliveries, integration: integrations })
        .from(deliveries)
        .innerJoin(integrations, eq(integrations.id, deliveries.integrationId))
        .orderBy(asc(deliveries.receivedAt), asc(deliveries.id));
      for (const { delivery, integration } of stored) {
        report.deliveries++;
        const collector = getCollector(delivery.source);
        if (!collector) continue;
        let status: "processed" | "ignored" | "failed";
        let error: string | null = null;
        let events: unknown[] | null = delivery.events;
        try {
          // A savepoint per delivery: one that fails again does not undo the others.
          await tx.transaction(async (savepoint) => {
            const mapping =
              delivery.body === null
                ? { ok: true as const, result: { status: "processed" as const, event: delivery.event ?? "stored", events: (delivery.events ?? []) as never[] } }
                : (mapStoredDelivery(delivery, integration) ?? { ok: false as const, error: new Error(`no collector for ${delivery.source}`) });
            if (!mapping.ok) throw mapping.error;
            const mapped = mapping.result;
            if (mapped.status === "ignored") {
              status = "ignored";
              error = mapped.reason;
              events = [];
              return;
            }
            // The integration's quota holds here too: a delivery refused for it is not let in by a rebuild.
            const creator = integrationCreator(integration.id, options.autoServiceQuota);
            await applyEvents(savepoint, mapped.events, { source: collector.source, now: options.now, creator });
            status = "processed";
            events = mapped.events;
            report.events += mapped.events.length;
          });
        } catch (caught) {
          status = "failed";
          error = describeError(caught).slice(0, MAX_ERROR_LENGTH);
          options.logger.warn({ msg: "delivery failed again while reprocessing", delivery: delivery.id, err: caught });
        }
        status ??= "failed";
        report[status]++;
        await tx.update(deliveries).set({ status, error, events, processedAt: options.now }).where(eq(deliveries.id, delivery.id));
      }
      const all = await tx.select({ id: services.id }).from(services);
      for (const service of all) await rederiveService(tx, service.id);
      report.services = all.length;
    },
    1,
  );
  return report;
}
