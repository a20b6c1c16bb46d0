import type { ChangeEvent, NormalizedEvent } from "@sluice/collectors";
import { type Database, newChangeValues, rows } from "@sluice/db";
import { sql } from "drizzle-orm";
import { changeInput } from "./apply.ts";

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

const iso = (value: Date | null) => value?.toISOString() ?? null;

/**
 * A push whose repository is known and claimed and whose commits are all new is the common
 * delivery. It is stored already processed, together with its commits and their derivation
 * queue entries, in one statement: one round trip and one commit instead of eight, with the
 * same rows as the general path (receive.ts processDelivery + applyEvents + recordChange).
 * The statement writes nothing unless all of it applies: it sees an unknown repository or a
 * known commit (which recordChange would merge) and stores nothing; a commit inserted by a
 * concurrent writer aborts it (unique violation). Either way the caller takes the general
 * path, which stores the delivery first and records a failure on it.
 */
export async function storeChangesDelivery(
  database: Database,
  delivery: StoredDelivery,
  commits: ChangeEvent[],
  events: NormalizedEvent[],
): Promise<ChangesOutcome> {
  const written = new Date();
  const values = commits.map((event, position) => {
    const row = newChangeValues(changeInput(event, 0), written);
    return {
      position,
      sha: row.sha,
      committed_at: iso(row.committedAt),
      authored_at: iso(row.authoredAt),
      author: row.author,
      message: row.message,
      branch: row.branch,
      files: row.files,
      parents: row.parents,
      pr_number: row.prNumber,
      pr_opened_at: iso(row.prOpenedAt),
      pr_merged_at: iso(row.prMergedAt),
      pr_first_commit_at: iso(row.prFirstCommitAt),
      pr_url: row.prUrl,
    };
  });
  const repository = (commits[0] as ChangeEvent).repository.name.toLowerCase();
  const now = delivery.now.toISOString();
  let found: Array<{ id: number | null; owner: string | null }>;
  try {
    found = await rows(
      database.db,
      sql`with commits as (
          select * from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as c(
            position int, sha text, committed_at timestamptz, authored_at timestamptz, author text, message text,
            branch text, files text[], parents text[], pr_number int, pr_opened_at timestamptz, pr_merged_at timestamptz,
            pr_first_commit_at timestamptz, pr_url text)
        ),
        -- The repository's owner as resolveRepository (apply.ts) finds it, if nothing is new.
        fresh as (
          select r.id as repository_id, s.slug
          from repositories r
          join service_repositories sr on sr.repository_id = r.id
          join services s on s.id = sr.service_id
          where r.name = ${repository}
            and not exists (select 1 from changes k join commits using (sha) where k.repository_id = r.id)
          order by s.id limit 1
        ),
        stored as (
          insert into deliveries (integration_id, source, delivery_id, headers, body, received_at, status, event, events, processed_at)
          select ${delivery.integrationId}, ${delivery.source}, ${delivery.deliveryId}, ${JSON.stringify(delivery.headers)}::jsonb,
            ${delivery.body}, ${now}::timestamptz, 'processed', ${delivery.event}, ${JSON.stringify(events)}::jsonb, ${now}::timestamptz
          from fresh
          on conflict (source, delivery_id) do nothing
          returning id
        ),
        ins as (
          insert into changes (repository_id, sha, committed_at, authored_at, author, message, branch, files, parents,
            pr_number, pr_opened_at, pr_merged_at, pr_first_commit_at, pr_url, created_at, updated_at)
          select fresh.repository_id, c.sha, c.committed_at, c.authored_at, c.author, c.message, c.branch, c.files,
            coalesce(c.parents, '{}'), c.pr_number, c.pr_opened_at, c.pr_merged_at, c.pr_first_commit_at, c.pr_url,
            ${written.toISOString()}::timestamptz, ${written.toISOString()}::timestamptz
          from fresh cross join stored cross join commits c
          order by c.position
          returning repository_id, sha
        ),
        queued as (
          insert into derivation_queue (service_id, kind, repository_id, sha)
          select distinct sr.service_id, 'change', ins.repository_id, ins.sha
          from ins join service_repositories sr on sr.repository_id = ins.repository_id
        ),
        touched as (
          update integrations set last_delivery_at = ${now}::timestamptz
          where id = ${delivery.integrationId} and exists (select 1 from stored)
            and (last_delivery_at is null
              or last_delivery_at < ${new Date(delivery.now.getTime() - LAST_DELIVERY_PRECISION_MS).toISOString()}::timestamptz)
        )
        select (select id::int from stored) as id, (select slug from fresh) as owner`,
    );
  } catch {
    return { outcome: "general" };
  }
  const [row] = found;
  if (!row?.owner) return { outcome: "general" };
  return row.id === null ? { outcome: "duplicate" } : { outcome: "stored", id: row.id, owner: row.owner };
}
