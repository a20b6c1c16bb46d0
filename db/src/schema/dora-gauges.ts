import { integer, jsonb, pgTable } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.ts";

/**
 * The last computation of the per-service DORA gauges of /metrics (ingest/src/dora-gauges.ts):
 * one row, recomputed by one replica at a time and read by all of them.
 */
export const doraGauges = pgTable("dora_gauges", {
  id: integer("id").primaryKey(),
  computedAt: timestamptz("computed_at").notNull(),
  values: jsonb("values").notNull(),
});
