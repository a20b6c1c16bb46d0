import { bigint, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz, updatedAt } from "./columns.ts";
import { services } from "./services.ts";

export const incidents = pgTable(
  "incidents",
  {
    id: id(),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    externalId: text("external_id").notNull(),
    source: text("source").notNull().default("api"),
    title: text("title"),
    severity: text("severity"),
    url: text("url"),
    startedAt: timestamptz("started_at").notNull(),
    resolvedAt: timestamptz("resolved_at"),
    /** What the event named as the cause, if anything. */
    causeDeploymentId: bigint("cause_deployment_id", { mode: "number" }),
    causeSha: text("cause_sha"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /**
     * When a rebuild (POST /api/v1/admin/reprocess) started that applied this row's event again;
     * a rebuild removes the webhook rows it did not reach (their deliveries no longer map).
     */
    rebuiltAt: timestamptz("rebuilt_at"),
    // Derived (db/src/derive): the deployment the incident is attributed to, see docs/metrics.md.
    deploymentId: bigint("deployment_id", { mode: "number" }),
  },
  (t) => [
    uniqueIndex("incidents_service_external_id_key").on(t.serviceId, t.externalId),
    index("incidents_service_started_idx").on(t.serviceId, t.startedAt),
    index("incidents_resolved_idx").on(t.resolvedAt),
    index("incidents_deployment_idx").on(t.deploymentId),
  ],
);
