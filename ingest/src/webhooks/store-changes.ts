import type { ChangeEvent, NormalizedEvent } from "@sluice/collectors";
import { type Database, newChangeValues } from "@sluice/db";
import type { Logger } from "../logger.ts";
import { isoOrNull } from "../schemas.ts";
import { isUniqueViolation } from "../sql-errors.ts";
import { changeInput } from "./apply.ts";
import { Coalescer, coalescerFor } from "./coalesce.ts";

/** The integration's "last delivery" is kept to the second (storeDelivery in receive.ts). */
export const LAST_DELIVERY_PRECISION_MS = 1000;

export interface StoredDelivery {
  integrationId: string;
  source: string;
  deliveryId: string;
  /** Already filtered to the headers worth keeping. */
  headers: Record<string, string>;
  body: string;
  event: string;
  now: Date;
}

export type ChangesOutcome =
  /** Stored, processed, its commits written and queued: one statement, one commit. */
  | { outcome: "stored"; id: number; owner: string }
  | { outcome: "duplicate" }
  /** Not the common case (an unknown repository, a commit seen before, a race): take the general path. */
  | { outcome: "general" };

/**
 * The events of a push: commits of one repository, each named once. Anything else (a
 * deployment, two repositories, a sha listed twice) goes through applyEvents.
 */
export function commitsOfOneRepository(events: NormalizedEvent[]): ChangeEvent[] | null {
  if (events.length === 0) return null;
  const first = events[0];
  if (first?.kind !== "change") return null;
  const repository = first.repository.name.toLowerCase();
  const shas = new Set<string>();
  for (const event of events) {
    if (event.kind !== "change" || event.repository.name.toLowerCase() !== repository) return null;
    shas.add(event.sha.toLowerCase());
  }
  return shas.size === events.length ? (events as ChangeEvent[]) : null;
}

interface Pending {
  delivery: StoredDelivery;
  logger: Logger;
  commits: ChangeEvent[];
  events: NormalizedEvent[];
  resolve: (outcome: ChangesOutcome) => void;
}

// Deliveries are written in batches, one statement and one commit for a batch (coalesce.ts):
// while STORE_CONCURRENCY batches are being written, the deliveries that arrive wait and go
// together in the next. A batch holds at most MAX_BATCH deliveries: each body is a parameter
// of its own, and statements of up to 64 parameters are prepared (db/src/client.ts).
const STORE_CONCURRENCY = 2;
const MAX_BATCH = 48;
const coalescers = new WeakMap<Database, Coalescer<Pending>>();

/**
 * A push whose repository is known and claimed and whose commits are all new is the common
 * delivery. It is stored already processed, together with its commits and their derivation
 * queue entries, in one statement with the other such deliveries that arrived with it: one
 * round trip and one commit instead of eight per delivery, with the same rows as the general
 * path (receive.ts processDelivery + applyEvents + recordChange). The statement stores
 * nothing of a delivery unless all of it applies: it skips one whose repository is unknown or
 * that names a known commit (which recordChange would merge). Any failure (a commit inserted
 * by a concurrent writer is a unique violation) undoes the whole statement, and its
 * deliveries are written one by one; one that fails alone takes the general path, which
 * stores the delivery first and records a failure on it (a warning is logged unless the
 * failure was a concurrent writer's commit).
 */
export function storeChangesDelivery(
  database: Database,
  delivery: StoredDelivery,
  commits: ChangeEvent[],
  events: NormalizedEvent[],
  logger: Logger,
): Promise<ChangesOutcome> {
  const coalescer = coalescerFor(coalescers, database, () => new Coalescer({ concurrency: STORE_CONCURRENCY, maxBatch: MAX_BATCH, run: (batch) => flush(database, batch) }));
  return new Promise((resolve) => coalescer.add({ delivery, logger, commits, events, resolve }));
}

async function flush(database: Database, pending: Pending[]) {
  // A delivery id or commit that a batch already holds would fail the whole batch: alone.
  const together: Pending[] = [];
  const alone: Pending[] = [];
  const keys = new Set<string>();
  for (const item of pending) {
    const repository = (item.commits[0] as ChangeEvent).repository.name.toLowerCase();
    const own = [`${item.delivery.integrationId}\n${item.delivery.deliveryId}`, ...item.commits.map((c) => `${repository}\n${c.sha.toLowerCase()}`)];
    if (own.some((key) => keys.has(key))) {
      alone.push(item);
    } else {
      together.push(item);
      for (const key of own) keys.add(key);
    }
  }
  await Promise.all([write(database, together), ...alone.map((item) => write(database, [item]))]);
}

async function write(database: Database, items: Pending[]): Promise<void> {
  if (items.length === 0) return;
  let outcomes: ChangesOutcome[];
  try {
    outcomes = await storeAll(database, items);
  } catch (error) {
    const [only] = items;
    if (only && items.length === 1) {
      // A concurrent writer's commit is the expected reason; anything else would otherwise
      // only show as every push taking the slower path.
      if (!isUniqueViolation(error)) {
        only.logger.warn({ msg: "a push's one-statement write failed; it takes the general path", delivery: only.delivery.deliveryId, err: error });
      }
      only.resolve({ outcome: "general" });
      return;
    }
    await Promise.all(items.map((item) => write(database, [item])));
    return;
  }
  for (const [k, item] of items.entries()) item.resolve(outcomes[k] ?? { outcome: "general" });
}

// The bodies (most of the bytes) are parameters of their own ($5 on) rather than strings in the
// JSON: neither escaped here nor parsed as JSON by PostgreSQL. Always MAX_BATCH of them (null
// past the batch's end), so that the statement has one text, prepared and planned once per
// connection (a text per batch size was planned again at nearly every call, 1-2 ms each), and
// that text is written once: building it with drizzle cost more CPU than running it.
const BODY_ROWS = Array.from({ length: MAX_BATCH }, (_, k) => `(${k}, $${k + 5}::text)`).join(", ");
const STORE_ALL = `with d as (
        select d.*, b.body from jsonb_to_recordset($1::text::jsonb) as d(
          k int, integration_id text, source text, delivery_id text, headers jsonb, event text, events jsonb,
          received_at timestamptz, repository text, shas text[])
        join (values ${BODY_ROWS}) as b(k, body) using (k)
      ),
      c as (
        -- Named as newChangeValues names them (commitRecord).
        select * from jsonb_to_recordset($2::text::jsonb) as c(
          k int, position int, sha text, "committedAt" timestamptz, "authoredAt" timestamptz, author text, message text,
          branch text, files text[], parents text[], "prNumber" int, "prOpenedAt" timestamptz, "prMergedAt" timestamptz,
          "prFirstCommitAt" timestamptz, "prUrl" text)
      ),
      -- Each repository's owner as resolveRepository (apply.ts) finds it, for deliveries with nothing known.
      fresh as (
        select d.*, o.repository_id, o.slug
        from d cross join lateral (
          select r.id as repository_id, s.slug
          from repositories r
          join service_repositories sr on sr.repository_id = r.id
          join services s on s.id = sr.service_id
          where r.name = d.repository
          order by s.id limit 1
        ) o
        -- Each sha looked up on its own in the (repository, sha) key: a LIMIT 1 lateral cannot be
        -- turned into a join, which a prepared statement planned while the table was small could
        -- run as a scan of every change, and keep doing as the table grows.
        where not exists (
          select from unnest(d.shas) as s(sha)
          cross join lateral (select from changes x where x.repository_id = o.repository_id and x.sha = s.sha limit 1) known
        )
      ),
      stored as (
        insert into deliveries (integration_id, source, delivery_id, headers, body, received_at, status, event, events, processed_at)
        select integration_id, source, delivery_id, headers, body, received_at, 'processed', event, events, received_at
        from fresh order by k
        on conflict (integration_id, delivery_id) do nothing
        returning id, integration_id, delivery_id
      ),
      applied as (
        select f.* from fresh f join stored s using (integration_id, delivery_id)
      ),
      ins as (
        insert into changes (repository_id, sha, committed_at, authored_at, author, message, branch, files, parents,
          pr_number, pr_opened_at, pr_merged_at, pr_first_commit_at, pr_url, created_at, updated_at)
        select a.repository_id, c.sha, c."committedAt", c."authoredAt", c.author, c.message, c.branch, c.files,
          coalesce(c.parents, '{}'), c."prNumber", c."prOpenedAt", c."prMergedAt", c."prFirstCommitAt", c."prUrl",
          $3::timestamptz, $3::timestamptz
        from applied a join c on c.k = a.k
        order by a.k, c.position
        returning repository_id, sha
      ),
      -- One entry per service and repository for all of the batch's commits (distinct: a service
      -- may hold the repository under several path prefixes, one service_repositories row each).
      queued as (
        insert into derivation_queue (service_id, kind, repository_id, shas)
        select sr.service_id, 'change', ins.repository_id, array_agg(distinct ins.sha)
        from ins join service_repositories sr on sr.repository_id = ins.repository_id
        group by sr.service_id, ins.repository_id
      ),
      -- The integration's "last delivery", to the second, as storeDelivery keeps it (receive.ts).
      touched as (
        update integrations i set last_delivery_at = t.at
        from (select integration_id, max(received_at) as at from applied group by integration_id) t
        where i.id = t.integration_id
          and (i.last_delivery_at is null or i.last_delivery_at < t.at - $4::interval)
      )
      select f.k, s.id::int as id, f.slug as owner from fresh f left join stored s using (integration_id, delivery_id)`;

/**
 * A commit's row as the statement's `c` reads it: only its columns, and its times as ISO text
 * (JSON.stringify writes Date objects through their toJSON, about three times slower per commit).
 */
function commitRecord(k: number, position: number, row: ReturnType<typeof newChangeValues>) {
  return {
    k,
    position,
    sha: row.sha,
    committedAt: isoOrNull(row.committedAt),
    authoredAt: isoOrNull(row.authoredAt),
    author: row.author,
    message: row.message,
    branch: row.branch,
    files: row.files,
    parents: row.parents,
    prNumber: row.prNumber,
    prOpenedAt: isoOrNull(row.prOpenedAt),
    prMergedAt: isoOrNull(row.prMergedAt),
    prFirstCommitAt: isoOrNull(row.prFirstCommitAt),
    prUrl: row.prUrl,
  };
}

async function storeAll(database: Database, items: Pending[]): Promise<ChangesOutcome[]> {
  // Each commit's row as recordChange writes it (its sha and parents lower-cased, and so on).
  const rowsOf = items.map((item) => item.commits.map((event) => newChangeValues(changeInput(event, 0), item.delivery.now)));
  const deliveries = items.map(({ delivery, commits, events }, k) => ({
    k,
    integration_id: delivery.integrationId,
    source: delivery.source,
    delivery_id: delivery.deliveryId,
    headers: delivery.headers,
    event: delivery.event,
    events,
    received_at: delivery.now.toISOString(),
    repository: (commits[0] as ChangeEvent).repository.name.toLowerCase(),
    shas: (rowsOf[k] ?? []).map((row) => row.sha),
  }));
  const commits = rowsOf.flatMap((rows, k) => rows.map((row, position) => commitRecord(k, position, row)));
  const found = await database.query<{ k: number; id: number | null; owner: string }>(STORE_ALL, [
    JSON.stringify(deliveries),
    JSON.stringify(commits),
    new Date().toISOString(),
    `${LAST_DELIVERY_PRECISION_MS} milliseconds`,
    ...Array.from({ length: MAX_BATCH }, (_, k) => items[k]?.delivery.body ?? null),
  ]);
  const outcomes: ChangesOutcome[] = items.map(() => ({ outcome: "general" }));
  for (const row of found) {
    outcomes[row.k] = row.id === null ? { outcome: "duplicate" } : { outcome: "stored", id: row.id, owner: row.owner };
  }
  return outcomes;
}
