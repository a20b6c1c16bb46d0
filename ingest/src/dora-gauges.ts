import { type Database, type Executor, computeBreakdown, derivationBacklog, doraGauges, inTransaction, services, settleDerivation } from "@sluice/db";
import { eq } from "drizzle-orm";
import type { Logger } from "./logger.ts";
import type { Telemetry } from "./telemetry.ts";

const DAY_MS = 86_400_000;

type GaugeValues = Parameters<Telemetry["setDora"]>[0];

/** The per-service DORA gauges (last 30 days), computed now. */
async function computeGauges(db: Executor, now: Date): Promise<GaugeValues> {
  const all = await db.select({ id: services.id, slug: services.slug }).from(services).orderBy(services.slug);
  const metrics = await computeBreakdown(db, {
    groups: all.map((s) => [s.id]),
    from: new Date(now.getTime() - 30 * DAY_MS),
    to: now,
    benchmark: "2024",
  });
  return all.map((service, i) => {
    const m = metrics[i];
    return {
      service: service.slug,
      deployments: m?.deployment_frequency.deployments ?? 0,
      leadTimeSeconds: m?.lead_time.median_seconds ?? null,
      changeFailureRate: m?.change_failure_rate.rate ?? null,
      recoveryTimeSeconds: m?.recovery_time.median_seconds ?? null,
    };
  });
}

/**
 * Brings the telemetry's DORA gauges up to date. Across replicas the metric queries run once
 * per `maxAgeMs`: the snapshot row is taken with SKIP LOCKED, so the replica that gets it and
 * finds it older than that recomputes it, and every other one publishes the stored snapshot.
 * Returns whether this call computed.
 */
export async function refreshDoraGauges(options: { database: Database; telemetry: Telemetry; now: Date; maxAgeMs?: number }): Promise<boolean> {
  const { db } = options.database;
  const maxAgeMs = options.maxAgeMs ?? 0;
  await settleDerivation(db);
  const { values, computed } = await inTransaction(db, async (tx) => {
    await tx.insert(doraGauges).values({ id: 1, computedAt: new Date(0), values: [] }).onConflictDoNothing();
    const [mine] = await tx.select().from(doraGauges).where(eq(doraGauges.id, 1)).for("update", { skipLocked: true });
    if (mine && options.now.getTime() - mine.computedAt.getTime() >= maxAgeMs) {
      const fresh = await computeGauges(tx, options.now);
      await tx.update(doraGauges).set({ computedAt: options.now, values: fresh }).where(eq(doraGauges.id, 1));
      return { values: fresh, computed: true };
    }
    // Fresh enough, or another replica is computing it right now: publish what is stored.
    const [stored] = mine ? [mine] : await tx.select().from(doraGauges).where(eq(doraGauges.id, 1));
    return { values: (stored?.values ?? []) as GaugeValues, computed: false };
  });
  options.telemetry.setDora(values);
  options.telemetry.setDerivation(await derivationBacklog(db));
  return computed;
}

/**
 * Keeps the gauges fresh on a schedule so that a scrape only reads the cache and never
 * runs the metric queries (SPEC 9). Each replica keeps a cache of the one shared snapshot.
 */
export function startDoraGauges(options: {
  database: Database;
  telemetry: Telemetry;
  clock: () => Date;
  logger: Logger;
  intervalMs?: number;
}): () => void {
  const interval = options.intervalMs ?? 60_000;
  const tick = async () => {
    try {
      // A little under the interval, so that one replica's next tick finds it due.
      await refreshDoraGauges({ database: options.database, telemetry: options.telemetry, now: options.clock(), maxAgeMs: interval * 0.9 });
    } catch (error) {
      options.logger.error({ msg: "DORA gauges refresh failed", err: error });
    }
  };
  const timer = setInterval(() => void tick(), interval);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
