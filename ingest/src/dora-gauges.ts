import { type Database, computeBreakdown, services, settleDerivation } from "@sluice/db";
import type { Logger } from "./logger.ts";
import type { Telemetry } from "./telemetry.ts";

const DAY_MS = 86_400_000;

/** Recomputes the per-service DORA gauges (last 30 days) into the telemetry's cache. */
export async function refreshDoraGauges(options: { database: Database; telemetry: Telemetry; now: Date }): Promise<number> {
  await settleDerivation(options.database.db);
  const all = await options.database.db.select({ id: services.id, slug: services.slug }).from(services).orderBy(services.slug);
  const metrics = await computeBreakdown(options.database.db, {
    groups: all.map((s) => [s.id]),
    from: new Date(options.now.getTime() - 30 * DAY_MS),
    to: options.now,
    benchmark: "2024",
  });
  options.telemetry.setDora(
    all.map((service, i) => {
      const m = metrics[i];
      return {
        service: service.slug,
        deployments: m?.deployment_frequency.deployments ?? 0,
        leadTimeSeconds: m?.lead_time.median_seconds ?? null,
        changeFailureRate: m?.change_failure_rate.rate ?? null,
        recoveryTimeSeconds: m?.recovery_time.median_seconds ?? null,
      };
    }),
  );
  return all.length;
}

/**
 * Keeps the gauges fresh on a schedule so that a scrape only reads the cache and never
 * runs the metric queries (SPEC 9). Each replica keeps its own cache.
 */
export function startDoraGauges(options: {
  database: Database;
  telemetry: Telemetry;
  clock: () => Date;
  logger: Logger;
  intervalMs?: number;
}): () => void {
  const tick = async () => {
    try {
      await refreshDoraGauges({ database: options.database, telemetry: options.telemetry, now: options.clock() });
    } catch (error) {
      options.logger.error({ msg: "DORA gauges refresh failed", err: error });
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 60_000);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
