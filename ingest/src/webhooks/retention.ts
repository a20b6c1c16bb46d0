import type { Database } from "@sluice/db";
import { deliveries, inTransaction, rows } from "@sluice/db";
import { and, isNotNull, lt, sql } from "drizzle-orm";
import { applyEvaluationRetention } from "../gates/retention.ts";
import type { Logger } from "../logger.ts";

const RETENTION_LOCK_KEY = 7_305_158_114_201_904n;
const HOUR_MS = 3_600_000;

/**
 * Drops raw bodies of deliveries older than the retention period; their mapped events stay,
 * so reprocessing still rebuilds from them. One replica does it at a time (advisory lock).
 */
export async function applyRetention(options: { database: Database; days: number; now: Date }): Promise<number> {
  if (options.days <= 0) return 0;
  const cutoff = new Date(options.now.getTime() - options.days * 24 * HOUR_MS);
  return inTransaction(options.database.db, async (tx) => {
    const [lock] = await rows<{ locked: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) as locked`,
    );
    if (!lock?.locked) return 0;
    const dropped = await tx
      .update(deliveries)
      .set({ body: null, bodyBytes: null })
      .where(and(lt(deliveries.receivedAt, cutoff), isNotNull(deliveries.body)))
      .returning({ id: deliveries.id });
    return dropped.length;
  });
}

/** Every hour: delivery bodies past SLUICE_DELIVERY_RETENTION_DAYS, gate evaluations past SLUICE_EVALUATION_RETENTION_DAYS. */
export function startRetention(options: {
  database: Database;
  days: number;
  evaluationDays: number;
  clock: () => Date;
  logger: Logger;
}): () => void {
  if (options.days <= 0 && options.evaluationDays <= 0) return () => {};
  const tick = async () => {
    try {
      const dropped = await applyRetention({ database: options.database, days: options.days, now: options.clock() });
      if (dropped > 0) options.logger.info({ msg: "delivery bodies past retention dropped", count: dropped });
      const rolled = await applyEvaluationRetention({ database: options.database, days: options.evaluationDays, now: options.clock() });
      if (rolled > 0) options.logger.info({ msg: "gate evaluations past retention rolled up into daily counts", count: rolled });
    } catch (error) {
      options.logger.error({ msg: "retention failed", err: error });
    }
  };
  const timer = setInterval(() => void tick(), HOUR_MS);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
