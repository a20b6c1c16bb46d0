import { bigint, boolean, index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
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
    retryAfterSeconds: bigint("retry_after_seconds", { mode: "number" }),
    evaluatedAt: timestamptz("evaluated_at").notNull(),
  },
  (t) => [index("gate_evaluations_gate_idx").on(t.gateId, t.evaluatedAt)],
);
