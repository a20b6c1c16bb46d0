import { sql } from "drizzle-orm";
import { bigint, boolean, date, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz, updatedAt } from "./columns.ts";
import { services } from "./services.ts";

export type GateMode = "enforce" | "dry_run";
export type GateDecision = "pass" | "warn" | "fail" | "pending";

export interface GateAppliesTo {
  teams?: string[];
  services?: string[];
  environments: string[];
}

export const gates = pgTable(
  "gates",
  {
    id: id(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    appliesTo: jsonb("applies_to").$type<GateAppliesTo>().notNull(),
    mode: text("mode").$type<GateMode>().notNull().default("enforce"),
    /** Rules as validated by the gates API (ingest/src/gates); typed there. */
    rules: jsonb("rules").$type<unknown[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("gates_slug_key").on(t.slug)],
);

export const gateOverrides = pgTable(
  "gate_overrides",
  {
    id: id(),
    gateId: bigint("gate_id", { mode: "number" })
      .notNull()
      .references(() => gates.id, { onDelete: "cascade" }),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    sha: text("sha"),
    reason: text("reason").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("gate_overrides_lookup_idx").on(t.gateId, t.serviceId, t.expiresAt)],
);

export const gateEvaluations = pgTable(
  "gate_evaluations",
  {
    id: id(),
    gateId: bigint("gate_id", { mode: "number" })
      .notNull()
      .references(() => gates.id, { onDelete: "cascade" }),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    environment: text("environment").notNull(),
    sha: text("sha"),
    decision: text("decision").$type<GateDecision>().notNull(),
    allow: boolean("allow").notNull(),
    enforced: boolean("enforced").notNull(),
    rules: jsonb("rules").$type<unknown[]>().notNull(),
    inputs: jsonb("inputs").$type<Record<string, unknown>>().notNull(),
    overrideId: bigint("override_id", { mode: "number" }),
    caller: text("caller").notNull(),
    /** The API token that asked; null for SLUICE_ADMIN_TOKEN and for GitHub protection rules. */
    callerTokenId: bigint("caller_token_id", { mode: "number" }),
    retryAfterSeconds: bigint("retry_after_seconds", { mode: "number" }),
    evaluatedAt: timestamptz("evaluated_at").notNull(),
  },
  (t) => [
    index("gate_evaluations_gate_idx").on(t.gateId, t.evaluatedAt),
    // The audit list pages newest first by id within one gate.
    index("gate_evaluations_gate_id_idx").on(t.gateId, t.id),
  ],
);

/**
 * What is left of evaluations past SLUICE_EVALUATION_RETENTION_DAYS (SPEC 7 v2): how many a gate
 * gave a service in an environment on a day (UTC), per decision, and how many of them allowed.
 */
export const gateEvaluationDays = pgTable(
  "gate_evaluation_days",
  {
    id: id(),
    gateId: bigint("gate_id", { mode: "number" })
      .notNull()
      .references(() => gates.id, { onDelete: "cascade" }),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    environment: text("environment").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    decision: text("decision").$type<GateDecision>().notNull(),
    evaluations: integer("evaluations").notNull(),
    allowed: integer("allowed").notNull(),
  },
  (t) => [uniqueIndex("gate_evaluation_days_key").on(t.gateId, t.serviceId, t.environment, t.day, t.decision)],
);

export type ProtectionRequestStatus = "pending" | "approved" | "rejected" | "failed" | "expired";

/**
 * A GitHub deployment protection rule waiting for Sluice's verdict. Kept until GitHub has
 * been answered, so a pending gate is re-evaluated (by any replica) until it decides.
 */
export const gateProtectionRequests = pgTable(
  "gate_protection_requests",
  {
    id: id(),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    environment: text("environment").notNull(),
    sha: text("sha"),
    callbackUrl: text("callback_url").notNull(),
    /** "owner/name" the delivery named; the callback must belong to it (SPEC 7 v2). Null only on rows from before v2. */
    repository: text("repository"),
    installationId: bigint("installation_id", { mode: "number" }),
    status: text("status").$type<ProtectionRequestStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** When a replica may next claim it; claiming pushes it forward (a lease). */
    nextAttemptAt: timestamptz("next_attempt_at").notNull(),
    /** The last status report sent, so an unchanged pending verdict is not re-posted. */
    lastComment: text("last_comment"),
    lastError: text("last_error"),
    evaluationIds: bigint("evaluation_ids", { mode: "number" })
      .array()
      .notNull()
      .default(sql`'{}'::bigint[]`),
    receivedAt: timestamptz("received_at").notNull(),
    decidedAt: timestamptz("decided_at"),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("gate_protection_requests_callback_key").on(t.callbackUrl, t.environment),
    index("gate_protection_requests_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);
