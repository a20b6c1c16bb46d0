import type { Database, Tx } from "@sluice/db";
import { inTransaction, rows } from "@sluice/db";
import { sql } from "drizzle-orm";
import { applyEvaluationRetention } from "../gates/retention.ts";
import type { Logger } from "../logger.ts";

const RETENTION_LOCK_KEY = 7_305_158_114_201_904n;
const HOUR_MS = 3_600_000;
/** Deliveries handled per transaction: a backlog of millions does not become one long transaction. */
const BATCH = 5_000;

/**
 * Deliveries past SLUICE_DELIVERY_RETENTION_DAYS (docs/operations.md "Retention"):
 * - processed: the raw body is dropped; the row and its mapped events stay, so a rebuild
 *   (POST /api/v1/admin/reprocess) re-applies them and keeps every id;
 * - failed: kept whole, body included: they are stored for reprocessing (SPEC 6), and a
 *   rebuild after a mapping fix needs the body;
 * - ignored, and failed ones whose body an earlier version dropped: nothing to rebuild from,
 *   so the row is deleted and counted in delivery_days (integration, UTC day received, status);
 * - received (not applied yet): left to the sweep that applies them.
 * Each batch is one transaction, so a crash loses neither a row nor its count; one replica works
 * at a time (advisory lock). Answers how many deliveries it acted on (bodies dropped plus rows deleted).
 */
export async function applyRetention(options: { database: Database; days: number; now: Date; batchSize?: number }): Promise<number> {
  if (options.days <= 0) return 0;
  const cutoff = new Date(options.now.getTime() - options.days * 24 * HOUR_MS).toISOString();
  const batch = options.batchSize ?? BATCH;
  let total = 0;
  for (;;) {
    const deleted = await underLock(options.database, (tx) => deleteBatch(tx, cutoff, batch));
    if (deleted === null) return total;
    total += deleted;
    if (deleted < batch) break;
  }
  // Oldest first, each batch starting where the last ended: rows whose body is already gone are
  // passed over once per run, not once per batch.
  let after: string | null = null;
  for (;;) {
    const dropped = await underLock(options.database, (tx) => dropBodiesBatch(tx, cutoff, after, batch));
    if (dropped === null) return total;
    total += dropped.count;
    if (dropped.count < batch || dropped.last === null) return total;
    after = dropped.last;
  }
}

/** fn in a transaction holding the retention lock, or null when another replica holds it. */
function underLock<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T | null> {
  return inTransaction(database.db, async (tx) => {
    const [lock] = await rows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) as locked`);
    return lock?.locked ? fn(tx) : null;
  });
}

/**
 * Deletes up to `batch` deliveries with nothing to rebuild from and adds them to their day's
 * count, in one statement. Rows another transaction holds (a rebuild re-mapping them) are
 * skipped for the next run; FOR UPDATE re-reads the rest as committed, so a row a rebuild just
 * turned into a processed one is not deleted.
 */
async function deleteBatch(tx: Tx, cutoff: string, batch: number): Promise<number> {
  const [result] = await rows<{ deleted: number }>(
    tx,
    sql`with doomed as (
          select id from deliveries
          where received_at < ${cutoff}::timestamptz and (status = 'ignored' or (status = 'failed' and body is null))
          limit ${batch}
          for update skip locked
        ), gone as (
          delete from deliveries d using doomed where d.id = doomed.id
          returning d.integration_id, d.received_at, d.status
        ), counted as (
          insert into delivery_days (integration_id, day, status, deliveries)
          select integration_id, (received_at at time zone 'UTC')::date, status, count(*)::int
          from gone
          group by 1, 2, 3
          on conflict (integration_id, day, status) do update set deliveries = delivery_days.deliveries + excluded.deliveries
        )
        select count(*)::int as deleted from gone`,
  );
  return result?.deleted ?? 0;
}

/** Drops the bodies of up to `batch` processed deliveries received after `after` (oldest first). */
async function dropBodiesBatch(tx: Tx, cutoff: string, after: string | null, batch: number): Promise<{ count: number; last: string | null }> {
  const [result] = await rows<{ count: number; last: string | null }>(
    tx,
    sql`with picked as (
          select id from deliveries
          where status = 'processed' and received_at < ${cutoff}::timestamptz and body is not null
            ${after === null ? sql`` : sql`and received_at >= ${after}::timestamptz`}
          order by received_at
          limit ${batch}
          for update skip locked
        ), dropped as (
          update deliveries d set body = null, body_bytes = null from picked where d.id = picked.id
          returning d.received_at
        )
        select count(*)::int as count,
               to_char(max(received_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as last
        from dropped`,
  );
  return { count: result?.count ?? 0, last: result?.last ?? null };
}

/** Every hour: deliveries past SLUICE_DELIVERY_RETENTION_DAYS, gate evaluations past SLUICE_EVALUATION_RETENTION_DAYS. */
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
      const acted = await applyRetention({ database: options.database, days: options.days, now: options.clock() });
      if (acted > 0) options.logger.info({ msg: "deliveries past retention: processed ones' bodies dropped, ignored ones counted into delivery_days", count: acted });
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
