import { isUtf8 } from "node:buffer";
import { trace } from "@opentelemetry/api";
import { type Collector, CollectorError, type CollectorInput, type MapResult, getCollector } from "@sluice/collectors";
import {
  type AutoCreator,
  type Database,
  type Executor,
  ServiceQuotaExceededError,
  type Tx,
  databaseUnavailable,
  deliveries,
  inTransaction,
  type integrations,
  rows,
  safeErrorText,
  worthRetrying,
} from "@sluice/db";
import { and, eq, sql } from "drizzle-orm";
import type { Logger } from "../logger.ts";
import { type EventOutcome, type PendingGateRequest, applyEvents } from "./apply.ts";
import { LAST_DELIVERY_PRECISION_MS, commitsOfOneRepository, storeChangesDelivery } from "./store-changes.ts";

export type ProcessStatus = "processed" | "ignored" | "failed";

export interface ProcessResult {
  status: ProcessStatus;
  events: EventOutcome[];
  gateRequests: PendingGateRequest[];
  error?: string;
}

export const MAX_ERROR_LENGTH = 2000;

export function collectorInput(
  headers: Record<string, string>,
  body: string,
  integration: typeof integrations.$inferSelect,
  raw?: Uint8Array | null,
): CollectorInput {
  return { headers, body, ...(raw ? { raw } : {}), secrets: integration.secrets, settings: integration.settings };
}

/**
 * The body's bytes when its text does not hold them exactly (a byte order mark, bytes that are
 * not UTF-8), so the delivery is stored byte for byte; null when the text is enough.
 */
export function bytesNotInText(input: CollectorInput): Uint8Array | null {
  const { raw } = input;
  // Valid UTF-8 without a byte order mark decodes to text that encodes back to the same bytes.
  if (!raw || (isUtf8(raw) && !(raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf))) return null;
  return raw;
}

export type Mapping = { ok: true; result: MapResult } | { ok: false; error: unknown };

/** Who creates the services an integration's deliveries name: counted against SLUICE_AUTO_SERVICE_QUOTA. */
export const integrationCreator = (integrationId: string, quota: number): AutoCreator => ({ key: `integration:${integrationId}`, quota });

/** A stored delivery mapped again by its collector (reprocessing, the start-up sweep); null without collector or body. */
export function mapStoredDelivery(
  delivery: typeof deliveries.$inferSelect,
  integration: typeof integrations.$inferSelect,
): Mapping | null {
  const collector = getCollector(delivery.source);
  if (!collector || delivery.body === null) return null;
  return mapDelivery(collector, collectorInput(delivery.headers, delivery.body, integration, delivery.bodyBytes));
}

/** The collector's answer for a delivery (pure, no I/O), with NULs dropped from its events. */
export function mapDelivery(collector: Collector, input: CollectorInput): Mapping {
  try {
    const result = trace.getTracer("sluice").startActiveSpan(`map ${collector.source} delivery`, (span) => {
      try {
        return collector.map(input);
      } finally {
        span.end();
      }
    });
    return { ok: true, result: result.status === "processed" && hasNul(result.events) ? { ...result, events: withoutNul(result.events) } : result };
  } catch (error) {
    return { ok: false, error };
  }
}

export const mappingError = (error: unknown) =>
  error instanceof CollectorError ? `${error.code}: ${error.message}` : "the payload could not be read";

/**
 * Stores a delivery (SPEC 6: the body is durably stored before any 2xx) and applies its
 * events. A push of new commits to a known repository is stored with them in one statement
 * (store-changes.ts); a delivery that maps to nothing or cannot be mapped is stored with its
 * final status; everything else is stored and applied in one transaction (applyStored), a
 * failure to apply being recorded on the stored delivery. Null: a duplicate. Services created
 * for repositories or names nobody claims are the integration's, up to autoServiceQuota
 * (SLUICE_AUTO_SERVICE_QUOTA): a delivery that would create one more is stored as failed.
 */
export async function receiveDelivery(options: {
  database: Database;
  collector: Collector;
  input: CollectorInput;
  mapping: Mapping;
  integrationId: string;
  deliveryId: string;
  now: Date;
  logger: Logger;
  /** config.autoServiceQuota: services this integration may create by naming unknown ones. */
  autoServiceQuota: number;
}): Promise<ProcessResult | null> {
  const { database, collector, input, mapping, now } = options;
  const delivery = {
    integrationId: options.integrationId,
    source: collector.source,
    deliveryId: options.deliveryId.slice(0, 500),
    headers: keptHeaders(input.headers),
    body: input.body,
    bodyBytes: bytesNotInText(input),
    now,
  };
  if (!mapping.ok) {
    const error = mappingError(mapping.error);
    const id = await storeDelivery(database.db, { ...delivery, outcome: { status: "failed", error } });
    return id === null ? null : { status: "failed", events: [], gateRequests: [], error };
  }
  const mapped = mapping.result;
  if (mapped.status === "ignored") {
    const outcome = { status: "ignored" as const, error: mapped.reason, event: mapped.event, events: [] };
    return (await storeDelivery(database.db, { ...delivery, outcome })) === null ? null : { status: "ignored", events: [], gateRequests: [] };
  }
  // The one-statement write stores text only: a body that needs its bytes takes the general path.
  const commits = delivery.bodyBytes === null ? commitsOfOneRepository(mapped.events) : null;
  if (commits) {
    const stored = await storeChangesDelivery(database, { ...delivery, event: mapped.event.slice(0, 200) }, commits, mapped.events, options.logger);
    if (stored.outcome === "duplicate") return null;
    if (stored.outcome === "stored") {
      const events = commits.map((event): EventOutcome => ({ kind: "change", service: stored.owner, ref: event.sha, action: "created" }));
      return { status: "processed", events, gateRequests: [] };
    }
  }
  const creator = integrationCreator(options.integrationId, options.autoServiceQuota);
  const apply = { source: collector.source, mapped, now, logger: options.logger, creator };
  // Stored and applied in one transaction: a crash leaves the delivery either not stored (the
  // sender retries) or stored with its events applied.
  const stored = await inTransaction(database.db, async (tx) => {
    const rowId = await storeDelivery(tx, delivery);
    return rowId === null ? null : applyStored(tx, rowId, apply);
  });
  if (stored !== null) return stored;
  // Stored before but never processed (a delivery of an older release, or one whose first
  // transaction is still open): this copy applies it.
  const stranded = await strandedDelivery(database, delivery);
  return stranded === null ? null : processDelivery({ database, deliveryRowId: stranded, ...apply });
}

/** The id of this delivery's stored row when it is still `received`, else null. */
async function strandedDelivery(database: Database, delivery: { integrationId: string; deliveryId: string }): Promise<number | null> {
  const [row] = await database.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.integrationId, delivery.integrationId), eq(deliveries.deliveryId, delivery.deliveryId), eq(deliveries.status, "received")));
  return row?.id ?? null;
}

type ApplyOptions = {
  source: string;
  mapped: Extract<MapResult, { status: "processed" }>;
  now: Date;
  logger: Logger;
  creator: AutoCreator;
};

/**
 * Applies a stored delivery's events in the caller's transaction together with the delivery's
 * new status, so a delivery is never half-applied. The events go in a savepoint: when they fail
 * for a reason of their data, the savepoint is undone and the delivery is recorded as failed
 * with why (for GET /api/v1/deliveries and reprocessing) instead of the error being thrown.
 * Conflicts worth another try and an unreachable database are thrown, for the whole
 * transaction to be retried or refused.
 */
async function applyStored(tx: Tx, deliveryRowId: number, options: ApplyOptions): Promise<ProcessResult> {
  const { mapped, now } = options;
  try {
    const applied = await tx.transaction((savepoint) => applyEvents(savepoint, mapped.events, { source: options.source, now, creator: options.creator }));
    await tx
      .update(deliveries)
      .set({ status: "processed", error: null, event: mapped.event, events: mapped.events, processedAt: now })
      .where(eq(deliveries.id, deliveryRowId));
    return { status: "processed", events: applied.outcomes, gateRequests: applied.gateRequests };
  } catch (error) {
    if (worthRetrying(error) || databaseUnavailable(error)) throw error;
    // Over the quota is the sender's (or the configuration's) doing, not Sluice's failure.
    if (error instanceof ServiceQuotaExceededError) {
      options.logger.warn({ msg: "delivery refused: service quota exceeded", delivery: deliveryRowId, creator: error.creator, quota: error.quota });
    } else {
      options.logger.error({ msg: "delivery processing failed", delivery: deliveryRowId, err: error });
    }
    const message = describeError(error).slice(0, MAX_ERROR_LENGTH);
    await tx
      .update(deliveries)
      .set({ status: "failed", error: message, event: mapped.event.slice(0, 200), events: mapped.events, processedAt: now })
      .where(eq(deliveries.id, deliveryRowId));
    return { status: "failed", events: [], gateRequests: [], error: message };
  }
}

/**
 * Applies a delivery stored earlier and still `received` (the sender's retry of a stranded
 * delivery, the start-up sweep). Null when another copy applied it first.
 */
export async function processDelivery(options: ApplyOptions & { database: Database; deliveryRowId: number }): Promise<ProcessResult | null> {
  return inTransaction(options.database.db, async (tx) => {
    // Whoever holds the row applies it; one that finds it processed already has a duplicate.
    const [claimed] = await tx
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(eq(deliveries.id, options.deliveryRowId))
      .for("update");
    return claimed?.status === "received" ? applyStored(tx, options.deliveryRowId, options) : null;
  });
}

function hasNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === "object") return Object.entries(value).some(([key, inner]) => key.includes("\0") || hasNul(inner));
  return false;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000; a sender's stray NUL (in a commit message,
 * say) is dropped rather than failing the whole delivery.
 */
function withoutNul<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("\0", "") as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replaceAll("\0", ""), withoutNul(inner)])) as T;
  }
  return value;
}

/** Why a delivery failed, for its `error`: the quota's sentence, else the driver's reason and statement. */
export function describeError(error: unknown): string {
  if (error instanceof ServiceQuotaExceededError) {
    return (
      `service_quota_exceeded: the integration has already created ${error.quota} services for repositories or services nobody ` +
      "claimed, its quota (SLUICE_AUTO_SERVICE_QUOTA); an admin may create the service, map the repository or raise the quota"
    );
  }
  // Stored on the delivery and listed to admins: without the failed statement's values (SPEC 10 v2).
  return safeErrorText(error);
}

export async function markDelivery(
  database: Database,
  id: number,
  update: { status: ProcessStatus; error: string | null; now: Date; event?: string; events?: unknown[] },
) {
  await database.db
    .update(deliveries)
    .set({
      status: update.status,
      error: update.error?.slice(0, MAX_ERROR_LENGTH) ?? null,
      processedAt: update.now,
      ...(update.event ? { event: update.event.slice(0, 200) } : {}),
      ...(update.events ? { events: update.events } : {}),
    })
    // Only while still unapplied: a retry or the start-up sweep may have applied it since this attempt rolled back.
    .where(and(eq(deliveries.id, id), eq(deliveries.status, "received")));
}

/** Headers worth keeping with a delivery: enough to re-verify and re-map, nothing secret. */
const KEPT_HEADERS = /^(content-type|user-agent|x-github-|x-hub-signature|x-gitlab-event|x-gitlab-event-uuid|x-gitlab-instance|x-gitlab-webhook-uuid|idempotency-key|x-pagerduty-|x-webhook-id|ce-)/;

export function keptHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => KEPT_HEADERS.test(name) && name !== "x-gitlab-token"));
}

/**
 * Stores the raw delivery before anything else (SPEC 6: the body is durably stored before
 * any 2xx), with its final status when that is already known. Returns null when this source
 * already has a delivery with that id.
 */
async function storeDelivery(
  db: Executor,
  values: {
    integrationId: string;
    source: string;
    deliveryId: string;
    headers: Record<string, string>;
    body: string;
    bodyBytes: Uint8Array | null;
    now: Date;
    outcome?: { status: "ignored" | "failed"; error: string; event?: string; events?: unknown[] };
  },
): Promise<number | null> {
  const { outcome } = values;
  const insert = db
    .insert(deliveries)
    .values({
      integrationId: values.integrationId,
      source: values.source,
      deliveryId: values.deliveryId,
      headers: values.headers,
      body: values.body,
      bodyBytes: values.bodyBytes,
      receivedAt: values.now,
      ...(outcome && {
        status: outcome.status,
        error: outcome.error.slice(0, MAX_ERROR_LENGTH),
        processedAt: values.now,
        ...(outcome.event ? { event: outcome.event.slice(0, 200) } : {}),
        ...(outcome.events ? { events: outcome.events } : {}),
      }),
    })
    .onConflictDoNothing({ target: [deliveries.integrationId, deliveries.deliveryId] })
    .returning({ id: deliveries.id });
  // One statement: the delivery, and the integration's "last delivery", to the second (so a
  // busy integration's row is not updated, and locked, by every one of its deliveries).
  const [row] = await rows<{ id: number }>(
    db,
    sql`with stored as (${insert.getSQL()}),
        touched as (
          update integrations set last_delivery_at = ${values.now.toISOString()}::timestamptz
          where id = ${values.integrationId} and exists (select 1 from stored)
            and (last_delivery_at is null
              or last_delivery_at < ${new Date(values.now.getTime() - LAST_DELIVERY_PRECISION_MS).toISOString()}::timestamptz))
        select id::int as id from stored`,
  );
  return row?.id ?? null;
}

export { getCollector };
