import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz } from "./columns.ts";
import { services } from "./services.ts";

/**
 * Work for db/src/derive: an ingest write commits its event together with an entry here and
 * returns; the derived rows (a deployment's changes, failures, recovery, rework, incident
 * attribution) are brought up to date by a background deriver, and by any read before it
 * answers (docs/operations.md "Derivation"). One entry per write (the commits of a push share
 * one), appended without waiting for anything: the deriver folds the entries of one
 * deployment, commit or incident into one, keeping the first entry's snapshot, which is the
 * state the derived rows reflect.
 */
export const derivationQueue = pgTable(
  "derivation_queue",
  {
    id: id(),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    kind: text("kind").$type<"deployment" | "change" | "incident">().notNull(),
    deploymentId: bigint("deployment_id", { mode: "number" }),
    /** The deployment as last derived (null: it is new); see DeploymentSnapshot. */
    before: jsonb("before"),
    repositoryId: bigint("repository_id", { mode: "number" }),
    /** The commits of one repository written together (a push's, say): one entry for all of them. */
    shas: text("shas").array(),
    incidentId: bigint("incident_id", { mode: "number" }),
    /** The deployment the incident was attributed to when last derived. */
    previousDeploymentId: bigint("previous_deployment_id", { mode: "number" }),
    createdAt: createdAt(),
    /** Failed tries so far (SPEC 10 v2): each failure also sets lastError and a later retryAt. */
    attempts: integer("attempts").notNull().default(0),
    /** Why the last try failed, without the statement's values (safeErrorText). */
    lastError: text("last_error"),
    /** Not tried again before this time (back-off after a failure); null: ready. */
    retryAt: timestamptz("retry_at"),
    /** Set when the entry failed MAX_DERIVATION_ATTEMPTS times: no longer tried until an admin retries it. */
    setAsideAt: timestamptz("set_aside_at"),
  },
  (t) => [
    index("derivation_queue_service_idx").on(t.serviceId, t.id),
    // For "derived": false in the API's answers. Partial: most entries are a commit's, which
    // then cost no entry in these two.
    index("derivation_queue_deployment_idx").on(t.deploymentId).where(sql`${t.deploymentId} is not null`),
    index("derivation_queue_incident_idx").on(t.incidentId).where(sql`${t.incidentId} is not null`),
  ],
);
