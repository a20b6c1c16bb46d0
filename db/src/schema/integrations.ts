import { sql } from "drizzle-orm";
import { bigint, customType, date, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz } from "./columns.ts";
import { teams } from "./teams.ts";

/**
 * A webhook endpoint. Secrets are kept as given: HMAC verification needs the key itself.
 * Several secrets may be active at once so a sender's key can be rotated without downtime.
 */
export const integrations = pgTable("integrations", {
  id: text("id").primaryKey(),
  source: text("source").notNull(),
  name: text("name").notNull(),
  secrets: text("secrets").array().notNull(),
  /** Source-specific settings, e.g. the Alertmanager label naming the service. */
  settings: jsonb("settings")
    .$type<Record<string, unknown>>()
    .notNull()
    .default(sql`'{}'::jsonb`),
  createdAt: createdAt(),
  lastDeliveryAt: timestamptz("last_delivery_at"),
});

/** bytea as a Uint8Array on both drivers (postgres.js gives a Buffer, PGlite a Uint8Array). */
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

export const DELIVERY_STATUSES = ["received", "processed", "ignored", "failed", "duplicate"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Every webhook body exactly as received; normalized rows can be rebuilt from these. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: id(),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    source: text("source").notNull(),
    deliveryId: text("delivery_id").notNull(),
    event: text("event"),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    /** Raw body as UTF-8 text; null once the retention period has passed. */
    body: text("body"),
    /**
     * The body's bytes, only when `body` cannot hold them exactly (a byte order mark, bytes that
     * are not UTF-8): signatures and reprocessing read these. Null otherwise, and after retention.
     */
    bodyBytes: bytes("body_bytes"),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    status: text("status").$type<DeliveryStatus>().notNull().default("received"),
    error: text("error"),
    events: jsonb("events").$type<unknown[]>(),
    processedAt: timestamptz("processed_at"),
  },
  (t) => [
    // A sender's delivery id names a delivery to one endpoint: two integrations of one source
    // (two organisations, an App and a repository hook) may be sent the same id.
    uniqueIndex("deliveries_integration_delivery_id_key").on(t.integrationId, t.deliveryId),
    index("deliveries_received_idx").on(t.receivedAt),
    index("deliveries_status_idx").on(t.status, t.receivedAt),
  ],
);

/**
 * Deliveries past retention that carried nothing to rebuild from (ignored, and failed ones
 * whose body is gone), counted per integration, day received and status once their rows are
 * deleted: the deliveries list keeps its history as counts (docs/operations.md "Retention").
 */
export const deliveryDays = pgTable(
  "delivery_days",
  {
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    deliveries: integer("deliveries").notNull(),
  },
  (t) => [uniqueIndex("delivery_days_key").on(t.integrationId, t.day, t.status)],
);

export const TOKEN_SCOPES = ["read", "ingest", "gate", "admin"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: id(),
    name: text("name").notNull(),
    scopes: text("scopes").array().$type<TokenScope[]>().notNull(),
    teamId: bigint("team_id", { mode: "number" }).references(() => teams.id, { onDelete: "cascade" }),
    /** SHA-256 of the secret, hex. The secret itself is shown once and never stored. */
    tokenHash: text("token_hash").notNull(),
    /** The first characters of the secret, so people can tell tokens apart. */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamptz("last_used_at"),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash_key").on(t.tokenHash), index("api_tokens_team_idx").on(t.teamId)],
);

/**
 * A dashboard sign-in: a random secret of its own (only its SHA-256 is stored) standing for
 * an API token, so the browser's cookie never holds the token and signing out ends it here.
 * It dies with its token (revoked or deleted) and at expires_at. A sign-in with
 * SLUICE_ADMIN_TOKEN has no token row: it keeps that token's SHA-256 instead, and dies
 * when the environment's token changes.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    tokenId: bigint("token_id", { mode: "number" }).references(() => apiTokens.id, { onDelete: "cascade" }),
    adminTokenHash: text("admin_token_hash"),
    sessionHash: text("session_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamptz("expires_at").notNull(),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [uniqueIndex("sessions_hash_key").on(t.sessionHash), index("sessions_token_idx").on(t.tokenId)],
);
