import { createRoute, z } from "@hono/zod-openapi";
import { DATA_QUALITY_ROW_LIMIT, computeDataQuality } from "@sluice/db";
import { requireScope } from "../auth.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json } from "../schemas.ts";
import { visibleServiceIds } from "./filters.ts";
import { metricsQuery, resolveWindow } from "./metrics-schemas.ts";

// SPEC 4.2: what the metrics of a scope left out or cannot know, each leaf with its count and
// the first rows naming the records behind it. The definitions live in @sluice/db
// (queries/data-quality.ts) and docs/metrics.md "Data quality".

const time = isoDateTime;
const seconds = z.number().openapi({ description: "the span in seconds (negative: why it was left out)" });

const leaf = <T extends z.ZodType>(row: T, description: string) =>
  z
    .object({
      count: z.number().int().openapi({ description: "every matching record" }),
      rows: z.array(row).max(DATA_QUALITY_ROW_LIMIT).openapi({ description: `the first ${DATA_QUALITY_ROW_LIMIT}` }),
    })
    .openapi({ description });

const change = {
  id: z.number().int().nullable().openapi({ description: "the commit's id (GET /api/v1/changes)" }),
  sha: z.string(),
  repository: z.string().nullable(),
  service: z.string(),
  deployment_id: z.number().int(),
  external_id: z.string().openapi({ description: "the deployment's external id" }),
};

const ChangeSpan = z
  .object({ ...change, committed_at: time, finished_at: time, seconds })
  .openapi("DataQualityChangeSpan");

const PullRequestSpan = z
  .object({
    ...change,
    pull_request: z.number().int(),
    first_commit_at: time.nullable(),
    opened_at: time.nullable(),
    merged_at: time.nullable(),
    finished_at: time.openapi({ description: "when the deployment finished" }),
    seconds,
  })
  .openapi("DataQualityPullRequestSpan");

const RecoverySpan = z
  .object({
    id: z.number().int().openapi({ description: "the failed deployment" }),
    service: z.string(),
    external_id: z.string(),
    sha: z.string(),
    environment: z.string(),
    finished_at: time,
    recovered_at: time,
    seconds,
  })
  .openapi("DataQualityRecoverySpan");

const RestoreSpan = z
  .object({
    id: z.number().int().openapi({ description: "the incident" }),
    service: z.string(),
    external_id: z.string(),
    deployment_id: z.number().int().nullable(),
    started_at: time,
    resolved_at: time,
    seconds,
  })
  .openapi("DataQualityRestoreSpan");

const UnknownChanges = z
  .object({
    id: z.number().int(),
    service: z.string(),
    external_id: z.string(),
    sha: z.string(),
    environment: z.string(),
    finished_at: time,
    baseline: z.boolean(),
  })
  .openapi("DataQualityUnknownChanges");

const UndeployedCommit = z
  .object({
    id: z.number().int(),
    sha: z.string(),
    repository: z.string(),
    committed_at: time,
    branch: z.string().nullable(),
    pull_request: z.number().int().nullable(),
  })
  .openapi("DataQualityUndeployedCommit");

const UnattributedIncident = z
  .object({
    id: z.number().int(),
    service: z.string(),
    external_id: z.string(),
    title: z.string().nullable(),
    started_at: time,
    resolved_at: time.nullable(),
  })
  .openapi("DataQualityUnattributedIncident");

const IdleService = z
  .object({
    id: z.number().int(),
    service: z.string(),
    team: z.string().nullable(),
    last_deployment_at: time.nullable().openapi({ description: "its last production deployment before the window's end; null: none" }),
  })
  .openapi("DataQualityIdleService");

const StuckDeployment = z
  .object({
    id: z.number().int(),
    service: z.string(),
    external_id: z.string(),
    sha: z.string(),
    environment: z.string(),
    started_at: time,
    seconds: z.number().openapi({ description: "in progress for this long, as of now" }),
  })
  .openapi("DataQualityStuckDeployment");

const FailedDelivery = z
  .object({
    id: z.number().int(),
    integration_id: z.string(),
    source: z.string(),
    delivery_id: z.string(),
    event: z.string().nullable(),
    received_at: time,
    error: z.string().nullable(),
  })
  .openapi("DataQualityFailedDelivery");

const SetAside = z
  .object({
    id: z.number().int(),
    service: z.string(),
    kind: z.enum(["deployment", "change", "incident"]),
    deployment_id: z.number().int().nullable(),
    incident_id: z.number().int().nullable(),
    repository: z.string().nullable(),
    shas: z.array(z.string()).nullable().openapi({ description: `a change entry's commits (the first ${DATA_QUALITY_ROW_LIMIT})` }),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    set_aside_at: time,
  })
  .openapi("DataQualitySetAside");

const DataQuality = z
  .object({
    scope: z.object({ team: z.string().nullable(), service: z.string().nullable(), environment: z.string().nullable() }),
    window: z.object({ from: time, to: time, days: z.number() }),
    negative_spans: z.object({
      lead_time: leaf(ChangeSpan, "changes committed after the deployment that shipped them finished"),
      coding: leaf(PullRequestSpan, "pull requests opened before their first commit"),
      review: leaf(PullRequestSpan, "pull requests merged before they were opened"),
      deploy: leaf(PullRequestSpan, "pull requests merged after the deployment that shipped them finished"),
      recovery: leaf(RecoverySpan, "failed deployments recovered before they finished"),
      time_to_restore: leaf(RestoreSpan, "incidents resolved before they started"),
    }),
    unknown_changes: leaf(UnknownChanges, "production deployments whose changes are unknown (no commit list, no pushes reached them)"),
    undeployed_commits: leaf(UndeployedCommit, "commits not deployed 30 days after they were committed"),
    unattributed_incidents: leaf(UnattributedIncident, "incidents that started in the window, attributed to no deployment"),
    idle_services: leaf(IdleService, "services with no production deployment in the window"),
    stuck_deployments: leaf(StuckDeployment, "deployments still in_progress 24 hours after they started"),
    failed_deliveries: leaf(FailedDelivery, "webhook deliveries that failed in the window; none for a team-limited token"),
    set_aside: leaf(SetAside, "derivation entries set aside after failing too often"),
  })
  .openapi("DataQuality", { description: "SPEC 4.2; every definition is in docs/metrics.md \"Data quality\"" });

export const dataQualityRouter = createRouter();

dataQualityRouter.openapi(
  createRoute({
    method: "get",
    path: "/data-quality",
    tags: ["metrics"],
    summary: "What the metrics of a scope left out or cannot know, with the records behind it",
    operationId: "getDataQuality",
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: {
      query: z.object({
        team: metricsQuery.team,
        service: metricsQuery.service,
        environment: metricsQuery.environment.openapi({
          description: "narrows the leaves about deployments to this environment (commits, incidents, deliveries and set-aside entries have none)",
        }),
        from: metricsQuery.from,
        to: metricsQuery.to,
      }),
    },
    responses: { 200: json(DataQuality, "counts and the first rows of each leaf"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const now = c.var.deps.clock();
    const window = resolveWindow(query, now);
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    const report = await computeDataQuality(db, {
      ...window,
      now,
      serviceIds,
      environment: query.environment,
      deliveries: c.var.principal.teamId === null,
    });
    const scope = { team: query.team ?? null, service: query.service ?? null, environment: query.environment ?? null };
    return c.json({ scope, ...report }, 200);
  },
);
