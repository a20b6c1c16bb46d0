import { type Database, inTransaction, rows } from "@sluice/db";
import { sql } from "drizzle-orm";

const RETENTION_LOCK_KEY = 7_305_158_114_201_905n;
const DAY_MS = 86_400_000;
/** Evaluations rolled up per transaction: a backlog of millions does not become one statement. */
const BATCH = 5_000;

/**
 * Rolls gate evaluations older than `days` up into gate_evaluation_days (one row per gate,
 * service, environment, UTC day and decision, with how many there were and how many allowed)
 * and deletes them (SPEC 7 v2). Each batch is one transaction, so a crash loses neither an
 * evaluation nor its count; one replica works at a time (advisory lock).
 */
export async function applyEvaluationRetention(options: { database: Database; days: number; now: Date }): Promise<number> {
  if (options.days <= 0) return 0;
  const cutoff = new Date(options.now.getTime() - options.days * DAY_MS).toISOString();
  let total = 0;
  for (;;) {
    const moved = await inTransaction(options.database.db, async (tx) => {
      const [lock] = await rows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY.toString()}::bigint) as locked`);
      if (!lock?.locked) return 0;
      const [result] = await rows<{ moved: number }>(
        tx,
        sql`with gone as (
              delete from gate_evaluations
              where id in (select id from gate_evaluations where evaluated_at < ${cutoff}::timestamptz order by id limit ${BATCH})
              returning gate_id, service_id, environment, evaluated_at, decision, allow
            ), counted as (
              insert into gate_evaluation_days (gate_id, service_id, environment, day, decision, evaluations, allowed)
              select gate_id, service_id, environment, (evaluated_at at time zone 'UTC')::date, decision,
                     count(*)::int, (count(*) filter (where allow))::int
              from gone
              group by 1, 2, 3, 4, 5
              on conflict (gate_id, service_id, environment, day, decision) do update
                set evaluations = gate_evaluation_days.evaluations + excluded.evaluations,
                    allowed = gate_evaluation_days.allowed + excluded.allowed
            )
            select count(*)::int as moved from gone`,
      );
      return result?.moved ?? 0;
    });
    total += moved;
    if (moved < BATCH) return total;
  }
}
