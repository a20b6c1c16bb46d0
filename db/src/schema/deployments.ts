import { sql } from "drizzle-orm";
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz, updatedAt } from "./columns.ts";
import { services } from "./services.ts";

export const DEPLOYMENT_STATUSES = ["queued", "in_progress", "success", "failure", "canceled"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const FAILURE_REASONS = ["incident", "rolled_back", "fixed", "marked"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const REWORK_REASONS = ["rollback", "hotfix", "fix_forward", "after_failure"] as const;
export type ReworkReason = (typeof REWORK_REASONS)[number];

export const deployments = pgTable(
  "deployments",
  {
    id: id(),
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    environment: text("environment").notNull(),
    sha: text("sha").notNull(),
    status: text("status").$type<DeploymentStatus>().notNull(),
    startedAt: timestamptz("started_at"),
    finishedAt: timestamptz("finished_at"),
    source: text("source").notNull().default("api"),
    externalId: text("external_id").notNull(),
    url: text("url"),
    branch: text("branch"),
    rollback: boolean("rollback").notNull().default(false),
    hotfix: boolean("hotfix").notNull().default(false),
    /** What the event said it fixes: {"id": n} or {"sha": "..."}; resolved in fixes_deployment_id. */
    fixesRef: jsonb("fixes_ref").$type<{ id: number } | { sha: string }>(),
    markedFailed: boolean("marked_failed").notNull().default(false),
    /** The event's explicit commit list (shas), which wins over the commit graph. */
    explicitCommits: text("explicit_commits").array(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /**
     * When a rebuild (POST /api/v1/admin/reprocess) started that applied this row's event again;
     * a rebuild removes the webhook rows it did not reach (their deliveries no longer map).
     */
    rebuiltAt: timestamptz("rebuilt_at"),

    // Derived at ingest time (db/src/derive): see docs/metrics.md for each rule.
    isProduction: boolean("is_production").notNull().default(false),
    baseline: boolean("baseline").notNull().default(false),
    fixesDeploymentId: bigint("fixes_deployment_id", { mode: "number" }),
    rolledBackBy: bigint("rolled_back_by", { mode: "number" }),
    fixedBy: bigint("fixed_by", { mode: "number" }),
    failed: boolean("failed").notNull().default(false),
    failureReasons: text("failure_reasons")
      .array()
      .$type<FailureReason[]>()
      .notNull()
      .default(sql`'{}'::text[]`),
    recoveredAt: timestamptz("recovered_at"),
    rework: boolean("rework").notNull().default(false),
    reworkReasons: text("rework_reasons")
      .array()
      .$type<ReworkReason[]>()
      .notNull()
      .default(sql`'{}'::text[]`),
  },
  (t) => [
    uniqueIndex("deployments_service_external_id_key").on(t.serviceId, t.externalId),
    index("deployments_service_finished_idx").on(t.serviceId, t.finishedAt, t.id),
    index("deployments_production_finished_idx")
      .on(t.finishedAt, t.serviceId)
      .where(sql`${t.isProduction}`),
    index("deployments_service_sha_idx").on(t.serviceId, t.sha),
    // The metric queries read these columns of production deployments by service and time
    // from the index alone (index-only scans; docs/metrics.md).
    index("deployments_production_stats_idx")
      .on(t.serviceId, t.finishedAt, t.failed, t.rework, t.recoveredAt)
      .where(sql`${t.isProduction}`),
    // Lead time leaves out baseline deployments' changes: the metric queries look them up here.
    index("deployments_baseline_idx")
      .on(t.serviceId)
      .where(sql`${t.baseline}`),
  ],
);

/**
 * The commits that reached production for the first time with a deployment (SPEC 4,
 * "changes of a deployment"). Per service the sets are disjoint; finished_at and
 * service_id are copied here so the walk's "already deployed?" test is one index probe,
 * and the commit's times are copied so lead time is read from this table alone (the metric
 * queries scan hundreds of thousands of rows; a join to changes per row would dominate).
 */
export const deploymentChanges = pgTable(
  "deployment_changes",
  {
    deploymentId: bigint("deployment_id", { mode: "number" })
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    serviceId: bigint("service_id", { mode: "number" }).notNull(),
    sha: text("sha").notNull(),
    /** The service repository the commit is known in; null while the commit itself is unknown. */
    repositoryId: bigint("repository_id", { mode: "number" }),
    finishedAt: timestamptz("finished_at").notNull(),
    /** False for a commit outside the service's path_prefix: walked through, not counted. */
    inScope: boolean("in_scope").notNull().default(true),
    // Copies of the commit's changes row (kept in step by recordChange); null while unknown.
    committedAt: timestamptz("committed_at"),
    prNumber: integer("pr_number"),
    prFirstCommitAt: timestamptz("pr_first_commit_at"),
    prOpenedAt: timestamptz("pr_opened_at"),
    prMergedAt: timestamptz("pr_merged_at"),
    // Lead time and its pull request stages in seconds (docs/metrics.md), computed by PostgreSQL
    // whenever the times above change, so the metric queries sort stored numbers.
    leadTimeSeconds: doublePrecision("lead_time_seconds").generatedAlwaysAs(
      sql`date_part('epoch', finished_at - committed_at)`,
    ),
    prCodingSeconds: doublePrecision("pr_coding_seconds").generatedAlwaysAs(
      sql`date_part('epoch', pr_opened_at - pr_first_commit_at)`,
    ),
    prReviewSeconds: doublePrecision("pr_review_seconds").generatedAlwaysAs(sql`date_part('epoch', pr_merged_at - pr_opened_at)`),
    prDeploySeconds: doublePrecision("pr_deploy_seconds").generatedAlwaysAs(sql`date_part('epoch', finished_at - pr_merged_at)`),
  },
  (t) => [
    primaryKey({ columns: [t.deploymentId, t.sha] }),
    // Lead time and its pull request breakdown are read from these alone (index-only scans):
    // an org-wide 90 days is some 450,000 changes.
    index("deployment_changes_lead_time_idx")
      .on(t.serviceId, t.finishedAt, t.leadTimeSeconds, t.deploymentId)
      .where(sql`${t.inScope} and ${t.committedAt} is not null`),
    index("deployment_changes_pull_requests_idx")
      .on(t.serviceId, t.finishedAt, t.prCodingSeconds, t.prReviewSeconds, t.prDeploySeconds, t.deploymentId)
      .where(sql`${t.inScope} and ${t.committedAt} is not null and ${t.prNumber} is not null`),
    index("deployment_changes_service_sha_idx").on(t.serviceId, t.sha, t.finishedAt),
    index("deployment_changes_sha_idx").on(t.sha),
  ],
);
