import { getCollector } from "@sluice/collectors";
import { type Database, type Tx, deliveries, inTransaction, integrations, rederiveService, rows, services, sqlState } from "@sluice/db";
import { eq, sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { applyEvents } from "./apply.ts";
import { MAX_ERROR_LENGTH, describeError, integrationCreator, mapStoredDelivery } from "./receive.ts";

const REPROCESS_LOCK_KEY = 7_305_158_114_201_903n;

/** Deliveries per transaction: a page's bodies are read one at a time, so this bounds locks and work, not memory. */
const PAGE_SIZE = 500;

export interface ReprocessReport {
  deliveries: number;
  processed: number;
  ignored: number;
  failed: number;
  events: number;
  services: number;
}

type Counts = Omit<ReprocessReport, "services">;

/** What a delivery's row is set to after it was applied again. */
type Outcome =
  | { status: "processed" | "ignored"; error: string | null; events: unknown[] }
  | { status: "failed"; error: string; events: unknown[] | null };

/**
 * Rebuilds every row that came from webhooks (after a mapping fix), SPEC 10 v2. Every stored
 * delivery is mapped and applied again in the order it was received, a page at a time (one
 * transaction each), upserting onto the rows it reached before: ids survive, and what the API
 * corrected (a deployment marked failed, an incident naming its deployment) is kept. Each row
 * an event reaches is stamped with the rebuild's start; at the end, webhook rows no delivery
 * reached are removed (their deliveries no longer map) unless written after the start, and
 * every service is derived again. Rows posted through the API are kept. Deliveries whose body
 * is past retention are re-applied from their stored events. One rebuild at a time.
 */
export async function reprocessDeliveries(options: {
  database: Database;
  now: Date;
  logger: Logger;
  /** config.autoServiceQuota, as when the deliveries first arrived. */
  autoServiceQuota: number;
  /** Deliveries per transaction (tests make it small). */
  pageSize?: number;
}): Promise<ReprocessReport> {
  return exclusively(options.database, options.logger, async () => {
    const { database, now } = options;
    const pageSize = options.pageSize ?? PAGE_SIZE;
    const report: ReprocessReport = { deliveries: 0, processed: 0, ignored: 0, failed: 0, events: 0, services: 0 };
    let after: { receivedAt: string; id: number } | undefined;
    for (;;) {
      // A page retried after a conflict starts over: the upserts make that harmless, and its
      // counts are added once it committed.
      const page = await inTransaction(database.db, (tx) => reprocessPage(tx, { ...options, pageSize, after }));
      for (const key of ["deliveries", "processed", "ignored", "failed", "events"] as const) report[key] += page.counts[key];
      if (!page.last) break;
      after = page.last;
    }
    const removed = await inTransaction(database.db, async (tx) => {
      // Not reached by this rebuild, and older than it: live deliveries meanwhile write rows newer than it.
      const at = sql`${now.toISOString()}::timestamptz`;
      const remove = async (table: string) => {
        const [gone] = await rows<{ count: number }>(
          tx,
          sql`with gone as (
                delete from ${sql.identifier(table)}
                where source <> 'api' and (rebuilt_at is null or rebuilt_at < ${at}) and created_at < ${at}
                returning 1)
              select count(*)::int as count from gone`,
        );
        return gone?.count ?? 0;
      };
      return { deployments: await remove("deployments"), incidents: await remove("incidents") };
    });
    const all = await database.db.select({ id: services.id }).from(services);
    // One transaction per service: a large one does not hold the others' locks, nor they its.
    for (const service of all) await inTransaction(database.db, (tx) => rederiveService(tx, service.id));
    report.services = all.length;
    options.logger.info({ msg: "deliveries reprocessed", ...report, removed });
    return report;
  });
}

/**
 * Applies one page of deliveries, those after `after` in (received_at, id) order. Only their
 * keys are listed; each body is read when its turn comes. `last` is the page's last key, or
 * undefined when there were no more deliveries.
 */
async function reprocessPage(
  tx: Tx,
  options: {
    now: Date;
    logger: Logger;
    autoServiceQuota: number;
    pageSize: number;
    after: { receivedAt: string; id: number } | undefined;
  },
): Promise<{ counts: Counts; last: { receivedAt: string; id: number } | undefined }> {
  const counts: Counts = { deliveries: 0, processed: 0, ignored: 0, failed: 0, events: 0 };
  const { after } = options;
  // received_at as text with its microseconds: a JavaScript date would cut them and repeat rows.
  const keys = await rows<{ id: number; received_at: string }>(
    tx,
    sql`select id::int as id, to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as received_at
        from deliveries
        ${after ? sql`where (received_at, id) > (${after.receivedAt}::timestamptz, ${after.id})` : sql``}
        order by received_at, id
        limit ${options.pageSize}`,
  );
  for (const key of keys) {
    // Locked like processDelivery locks it, so a copy of it being applied meanwhile waits for this page.
    const [stored] = await tx
      .select({ delivery: deliveries, integration: integrations })
      .from(deliveries)
      .innerJoin(integrations, eq(integrations.id, deliveries.integrationId))
      .where(eq(deliveries.id, key.id))
      .for("update", { of: deliveries });
    if (!stored) continue;
    counts.deliveries++;
    const outcome = await reapply(tx, { ...stored, now: options.now, logger: options.logger, autoServiceQuota: options.autoServiceQuota });
    if (!outcome) continue;
    counts[outcome.status]++;
    counts.events += outcome.status === "processed" ? outcome.events.length : 0;
    await tx
      .update(deliveries)
      .set({ status: outcome.status, error: outcome.error, events: outcome.events, processedAt: options.now })
      .where(eq(deliveries.id, key.id));
  }
  const last = keys.at(-1);
  return { counts, last: last && { receivedAt: last.received_at, id: Number(last.id) } };
}

/** Serialization failure and deadlock: inTransaction retries the page. */
const CONFLICTS = new Set(["40001", "40P01"]);

/** Maps one stored delivery again and applies its events, stamped with the rebuild's start. Null: no collector for it. */
async function reapply(
  tx: Tx,
  options: {
    delivery: typeof deliveries.$inferSelect;
    integration: typeof integrations.$inferSelect;
    now: Date;
    logger: Logger;
    autoServiceQuota: number;
  },
): Promise<Outcome | null> {
  const { delivery, integration } = options;
  const collector = getCollector(delivery.source);
  if (!collector) return null;
  try {
    // A savepoint per delivery: one that fails again does not undo the others.
    return await tx.transaction(async (savepoint): Promise<Outcome> => {
      const mapping =
        delivery.body === null
          ? { ok: true as const, result: { status: "processed" as const, event: delivery.event ?? "stored", events: (delivery.events ?? []) as never[] } }
          : (mapStoredDelivery(delivery, integration) ?? { ok: false as const, error: new Error(`no collector for ${delivery.source}`) });
      if (!mapping.ok) throw mapping.error;
      const mapped = mapping.result;
      if (mapped.status === "ignored") return { status: "ignored", error: mapped.reason, events: [] };
      // The integration's quota holds here too: a delivery refused for it is not let in by a rebuild.
      const creator = integrationCreator(integration.id, options.autoServiceQuota);
      await applyEvents(savepoint, mapped.events, { source: collector.source, now: options.now, creator, rebuild: options.now });
      return { status: "processed", error: null, events: mapped.events };
    });
  } catch (caught) {
    // A conflict with a concurrent writer is no failure of the delivery: the page is tried again.
    if (CONFLICTS.has(sqlState(caught) ?? "")) throw caught;
    options.logger.warn({ msg: "delivery failed again while reprocessing", delivery: delivery.id, err: caught });
    return { status: "failed", error: describeError(caught).slice(0, MAX_ERROR_LENGTH), events: delivery.events };
  }
}

/** The rebuild running in this process, per database: PGlite has one session, so an advisory lock cannot tell two apart. */
const running = new WeakMap<Database, Promise<unknown>>();

/**
 * Runs a rebuild when no other one runs: one per process (queued behind the one running) and,
 * on PostgreSQL, one across replicas, by an advisory lock held for the whole rebuild in a
 * transaction of its own. The rebuild's pages are transactions on other connections of the
 * pool: a transaction-scoped lock is the only kind that stays on the connection that took it.
 */
async function exclusively<T>(database: Database, logger: Logger, work: () => Promise<T>): Promise<T> {
  const previous = running.get(database) ?? Promise.resolve();
  const current = previous.catch(() => {}).then(() => (database.kind === "postgres" ? lockedAcrossReplicas(database, logger, work) : work()));
  running.set(database, current);
  try {
    return await current;
  } finally {
    if (running.get(database) === current) running.delete(database);
  }
}

async function lockedAcrossReplicas<T>(database: Database, logger: Logger, work: () => Promise<T>): Promise<T> {
  let done: { result: T } | undefined;
  try {
    await database.db.transaction(async (lock) => {
      await lock.execute(sql`select pg_advisory_xact_lock(${REPROCESS_LOCK_KEY.toString()}::bigint)`);
      done = { result: await work() };
    });
  } catch (error) {
    // The work committed page by page; losing the lock's connection at the end (a server's
    // idle_in_transaction_session_timeout, say) does not undo it.
    if (!done) throw error;
    logger.warn({ msg: "the reprocessing lock's transaction failed after the rebuild finished", err: error });
  }
  return (done as { result: T }).result;
}
