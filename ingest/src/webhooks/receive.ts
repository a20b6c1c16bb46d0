import { isUtf8 } from "node:buffer";
import { trace } from "@opentelemetry/api";
import { type Collector, CollectorError, type CollectorInput, type MapResult, getCollector } from "@sluice/collectors";
import { type AutoCreator, type Database, ServiceQuotaExceededError, deliveries, inTransaction, type integrations, rows, safeErrorText } from "@sluice/db";
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
 * final status; everything else is stored first and then processed (processDelivery), so
 * a failure to apply is recorded on the stored delivery. Null: a duplicate. Services created
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
    const id = await storeDelivery(database, { ...delivery, outcome: { status: "failed", error } });
    return id === null ? null : { status: "failed", events: [], gateRequests: [], error };
  }
  const mapped = mapping.result;
  if (mapped.status === "ignored") {
    const outcome = { status: "ignored" as const, error: mapped.reason, event: mapped.event, events: [] };
    return (await storeDelivery(database, { ...delivery, outcome })) === null ? null : { status: "ignored", events: [], gateRequests: [] };
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
  const process = (rowId: number) =>
    processDelivery({ database, source: collector.source, mapped, deliveryRowId: rowId, now, logger: options.logger, creator });
  const rowId = await storeDelivery(database, delivery);
  if (rowId !== null) return process(rowId);
  // Stored before but never processed (the process died between the two): this copy applies it.
  const stranded = await strandedDelivery(database, delivery);
  return stranded === null ? null : process(stranded);
}

/** The id of this delivery's stored row when it is still `received`, else null. */
async function strandedDelivery(database: Database, delivery: { integrationId: string; deliveryId: string }): Promise<number | null> {
  const [row] = await database.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.integrationId, delivery.integrationId), eq(deliveries.deliveryId, delivery.deliveryId), eq(deliveries.status, "received")));
  return row?.id ?? null;
}

/**
 * Applies a stored delivery's events in one transaction together with the delivery's new
 * status, so a delivery is never half-applied. A failure is recorded on the delivery (for
 * GET /api/v1/deliveries and reprocessing) instead of being thrown.
 */
export async function processDelivery(options: {
  database: Database;
  source: string;
  mapped: Extract<MapResult, { status: "processed" }>;
  deliveryRowId: number;
  now: Date;
  logger: Logger;
  creator: AutoCreator;
}): Promise<ProcessResult | null> {
  const { database, mapped, deliveryRowId, now } = options;
  try {
    return await inTransaction(database.db, async (tx) => {
      // Whoever holds the row applies it; one that finds it processed already has a duplicate.
      const [claimed] = await tx
        .select({ status: deliveries.status })
        .from(deliveries)
        .where(eq(deliveries.id, deliveryRowId))
        .for("update");
      if (claimed?.status !== "received") return null;
      const applied = await applyEvents(tx, mapped.events, { source: options.source, now, creator: options.creator });
      await tx
        .update(deliveries)
        .set({ status: "processed", error: null, event: mapped.event, events: mapped.events, processedAt: now })
        .where(eq(deliveries.id, deliveryRowId));
      return { status: "processed" as const, events: applied.outcomes, gateRequests: applied.gateRequests };
    });
  } catch (error) {
    // Over the quota is the sender's (or the configuration's) doing, not Sluice's failure.
    if (error instanceof ServiceQuotaExceededError) {
      options.logger.warn({ msg: "delivery refused: service quota exceeded", delivery: deliveryRowId, creator: error.creator, quota: error.quota });
    } else {
      options.logger.error({ msg: "delivery processing failed", delivery: deliveryRowId, err: error });
    }
    const message = describeError(error).slice(0, MAX_ERROR_LENGTH);
    await markDelivery(database, deliveryRowId, { status: "failed", error: message, event: mapped.event, now, events: mapped.events });
    return { status: "failed", events: [], gateRequests: [], error: message };
  }
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
  database: Database,
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
  const insert = database.db
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
    database.db,
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
