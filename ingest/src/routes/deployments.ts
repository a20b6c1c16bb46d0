import { createRoute, z } from "@hono/zod-openapi";
import {
  DEPLOYMENT_STATUSES,
  type DeploymentRow,
  FAILURE_REASONS,
  type Executor,
  deployments,
  deriveServiceNow,
  inTransaction,
  stillQueued,
  patchDeployment,
  recordDeployment,
  rows,
  services,
  settleDerivation,
} from "@sluice/db";
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { badRequest, notFound } from "../errors.ts";
import { afterTimeKey, decodeTimeCursor, timeKeyMicros, toTimePage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { assertTeamAccess } from "../scope.ts";
import { errorResponses, isoDateTime, isoOrNull, json, jsonBody, listQuery, page, sha } from "../schemas.ts";
import { inIds, optionalBoolean, scopeQuery, timeRange, visibleServiceIds } from "./filters.ts";
import { visibleService } from "./services.ts";

const Commit = z.strictObject({
  sha,
  committed_at: isoDateTime,
  authored_at: isoDateTime.optional(),
  author: z.string().max(500).optional(),
  message: z.string().max(100_000).optional(),
  parents: z.array(sha).max(100).optional(),
});

const CreateDeployment = z
  .strictObject({
    service: z.string().max(100).openapi({ example: "checkout" }),
    environment: z.string().trim().min(1).max(200).openapi({ example: "production" }),
    sha,
    status: z.enum(DEPLOYMENT_STATUSES).default("success"),
    started_at: isoDateTime.optional(),
    finished_at: isoDateTime.optional(),
    external_id: z.string().trim().min(1).max(500).optional(),
    url: z.url().max(2000).optional(),
    branch: z.string().max(500).optional(),
    commits: z.array(Commit).max(10_000).optional().openapi({
      description: "the commits this deployment brings; when given, they win over the commit graph",
    }),
    rollback: z.boolean().optional(),
    hotfix: z.boolean().optional(),
    fixes: z
      .union([z.number().int().positive(), sha])
      .optional()
      .openapi({ description: "id (number) or sha (string) of the earlier deployment this one fixes forward" }),
  })
  .openapi("CreateDeployment");

const PatchDeploymentBody = z
  .strictObject({
    status: z.enum(DEPLOYMENT_STATUSES).optional(),
    finished_at: isoDateTime.optional(),
    failed: z.boolean().optional().openapi({ description: "true marks the deployment failed (SPEC 4)" }),
  })
  .refine((value) => Object.keys(value).length > 0, "name at least one of status, finished_at, failed")
  .openapi("PatchDeployment");

const Deployment = z
  .object({
    id: z.number().int(),
    service: z.string(),
    environment: z.string(),
    sha: z.string(),
    status: z.enum(DEPLOYMENT_STATUSES),
    started_at: isoDateTime.nullable(),
    finished_at: isoDateTime.nullable(),
    source: z.string(),
    external_id: z.string(),
    url: z.string().nullable(),
    branch: z.string().nullable(),
    rollback: z.boolean(),
    hotfix: z.boolean(),
    fixes: z.number().int().nullable(),
    production: z.boolean(),
    baseline: z.boolean(),
    changes: z.number().int(),
    lead_time: z.object({
      median_seconds: z.number().nullable(),
      max_seconds: z.number().nullable(),
      counted: z.boolean().openapi({ description: "false for a baseline deployment (docs/metrics.md)" }),
    }),
    failed: z.boolean(),
    failure_reasons: z.array(z.string()),
    rolled_back_by: z.number().int().nullable(),
    fixed_by: z.number().int().nullable(),
    recovered_at: isoDateTime.nullable(),
    recovery_seconds: z.number().nullable(),
    rework: z.boolean(),
    rework_reasons: z.array(z.string()),
    derived: z.boolean().openapi({
      description:
        "false while the fields derived from other events (changes, lead_time, baseline, failed and its reasons, recovery, rework) still wait for derivation, as in the answer to POST; every read derives what was written before it (docs/operations.md)",
    }),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Deployment");

const DeploymentChange = z.object({
  sha: z.string(),
  repository: z.string().nullable(),
  committed_at: isoDateTime.nullable(),
  author: z.string().nullable(),
  message: z.string().nullable(),
  in_scope: z.boolean(),
  lead_time_seconds: z.number().nullable(),
  pull_request: z
    .object({ number: z.number().int(), opened_at: isoDateTime.nullable(), merged_at: isoDateTime.nullable(), url: z.string().nullable() })
    .nullable(),
});

const DeploymentDetail = Deployment.extend({ commits: z.array(DeploymentChange) }).openapi("DeploymentDetail");

/** A span in seconds; null when unknown or negative (docs/metrics.md "Negative spans"). */
const seconds = (from: Date | null, to: Date | null) =>
  from && to && to >= from ? Math.round((to.getTime() - from.getTime()) / 1000) : null;

// Lead time of a baseline deployment is not counted unless its event listed its commits (docs/metrics.md).
const countsForLeadTime = (row: DeploymentRow) => row.isProduction && (!row.baseline || row.explicitCommits !== null);

async function changeStats(db: Executor, ids: number[]) {
  if (ids.length === 0) return new Map<number, { changes: number; median: number | null; max: number | null }>();
  const found = await rows<{ id: number; changes: number; median: number | null; max: number | null }>(
    db,
    // lead_time_seconds is the same stored column the metric queries read; a negative one is
    // left out of the median and max (docs/metrics.md "Negative spans"), not of `changes`
    sql`select dc.deployment_id::int as id, count(*) filter (where dc.in_scope)::int as changes,
          percentile_cont(0.5) within group (order by dc.lead_time_seconds)
            filter (where dc.in_scope and dc.lead_time_seconds >= 0)::float8 as median,
          max(dc.lead_time_seconds) filter (where dc.in_scope and dc.lead_time_seconds >= 0)::float8 as max
        from deployment_changes dc
        where dc.deployment_id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})
        group by dc.deployment_id`,
  );
  return new Map(found.map((r) => [Number(r.id), { changes: r.changes, median: r.median, max: r.max }]));
}

/**
 * The API shape of deployments. `pending` names those just written whose derivation is
 * queued (the answer to POST); otherwise the queue says.
 */
export async function deploymentViews(
  db: Executor,
  found: Array<{ row: DeploymentRow; service: string }>,
  options: { pending?: { created: boolean } } = {},
) {
  const ids = found.map((f) => f.row.id);
  // A deployment just created has nothing derived yet: no need to ask.
  const stats = options.pending?.created ? new Map() : await changeStats(db, ids);
  const underived = options.pending ? new Set(ids) : await stillQueued(db, "deployment", ids);
  return found.map(({ row, service }) => {
    const s = stats.get(row.id);
    const counted = countsForLeadTime(row);
    return {
      id: row.id,
      service,
      environment: row.environment,
      sha: row.sha,
      status: row.status,
      started_at: isoOrNull(row.startedAt),
      finished_at: isoOrNull(row.finishedAt),
      source: row.source,
      external_id: row.externalId,
      url: row.url,
      branch: row.branch,
      rollback: row.rollback,
      hotfix: row.hotfix,
      fixes: row.fixesDeploymentId,
      production: row.isProduction,
      baseline: row.baseline,
      changes: s?.changes ?? 0,
      lead_time: {
        median_seconds: counted && s?.median != null ? Math.round(s.median) : null,
        max_seconds: counted && s?.max != null ? Math.round(s.max) : null,
        counted,
      },
      failed: row.failed,
      failure_reasons: row.failureReasons,
      rolled_back_by: row.rolledBackBy,
      fixed_by: row.fixedBy,
      recovered_at: isoOrNull(row.recoveredAt),
      recovery_seconds: row.failed ? seconds(row.finishedAt, row.recoveredAt) : null,
      rework: row.rework,
      rework_reasons: row.reworkReasons,
      derived: !underived.has(row.id),
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  });
}

async function loadDeployment(db: Executor, id: number) {
  const [found] = await db
    .select({ row: deployments, service: services.slug, teamId: services.teamId })
    .from(deployments)
    .innerJoin(services, eq(services.id, deployments.serviceId))
    .where(eq(deployments.id, id));
  if (!found) throw notFound(`deployment ${id}`);
  return found;
}

export const deploymentsRouter = createRouter();

deploymentsRouter.openapi(
  createRoute({
    method: "post",
    path: "/deployments",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("ingest")] as const,
    request: { body: jsonBody(CreateDeployment) },
    responses: {
      201: json(Deployment, "recorded"),
      200: json(Deployment, "an existing deployment (same service and external id) updated"),
      ...errorResponses(400, 401, 403, 404, 413, 415),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const startedAt = input.started_at ? new Date(input.started_at) : undefined;
    const finishedAt = input.finished_at ? new Date(input.finished_at) : undefined;
    if (startedAt && finishedAt && finishedAt < startedAt) {
      throw badRequest("invalid body", [{ field: "finished_at", message: "must not be before started_at" }]);
    }
    const service = await visibleService(db, c.var.principal, input.service);
    const now = c.var.deps.clock();
    const record = (tx: Executor) =>
      recordDeployment(
        tx,
        {
          serviceId: service.id,
          environment: input.environment,
          sha: input.sha,
          status: input.status,
          startedAt,
          finishedAt,
          source: "api",
          externalId: input.external_id,
          url: input.url,
          branch: input.branch,
          rollback: input.rollback,
          hotfix: input.hotfix,
          fixes: input.fixes === undefined ? undefined : typeof input.fixes === "number" ? { id: input.fixes } : { sha: input.fixes },
          commits: input.commits?.map((commit) => ({
            sha: commit.sha,
            committedAt: new Date(commit.committed_at),
            authoredAt: commit.authored_at ? new Date(commit.authored_at) : undefined,
            author: commit.author,
            message: commit.message,
            parents: commit.parents,
          })),
        },
        now,
        service,
      );
    // Alone, a new deployment is one statement and an update opens its own transaction; with
    // its commits it is one transaction, so that a refusal leaves nothing behind.
    const { deployment, created } = input.commits?.length ? await inTransaction(db, record) : await record(db);
    c.var.deps.telemetry.eventsIngested("deployment");
    c.var.deps.derivation?.queued();
    const [view] = await deploymentViews(db, [{ row: deployment, service: service.slug }], { pending: { created } });
    return c.json(view, created ? 201 : 200);
  },
);

deploymentsRouter.openapi(
  createRoute({
    method: "patch",
    path: "/deployments/{id}",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("ingest")] as const,
    request: { params: z.object({ id: z.coerce.number().int().positive() }), body: jsonBody(PatchDeploymentBody) },
    responses: { 200: json(Deployment, "updated"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const found = await loadDeployment(db, id);
    assertTeamAccess(c.var.principal, found.teamId);
    const finishedAt = input.finished_at ? new Date(input.finished_at) : undefined;
    if (finishedAt && found.row.startedAt && finishedAt < found.row.startedAt) {
      throw badRequest("invalid body", [{ field: "finished_at", message: "must not be before started_at" }]);
    }
    // A correction is rare and its caller wants to see its effect: derived before answering.
    const row = await inTransaction(db, async (tx) => {
      const patched = await patchDeployment(tx, id, { status: input.status, finishedAt, failed: input.failed }, c.var.deps.clock());
      if (!patched) return undefined;
      await deriveServiceNow(tx, patched.serviceId);
      const [fresh] = await tx.select().from(deployments).where(eq(deployments.id, id));
      return fresh;
    });
    if (!row) throw notFound(`deployment ${id}`);
    const [view] = await deploymentViews(db, [{ row, service: found.service }]);
    return c.json(view, 200);
  },
);

deploymentsRouter.openapi(
  createRoute({
    method: "get",
    path: "/deployments",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: {
      query: z.object({
        ...listQuery,
        ...scopeQuery,
        environment: z.string().max(200).optional(),
        status: z.enum(DEPLOYMENT_STATUSES).optional(),
        production: optionalBoolean,
        failed: optionalBoolean,
        failure_reason: z.enum(FAILURE_REASONS).optional().openapi({ description: "failed deployments with this reason" }),
        rework: optionalBoolean,
      }),
    },
    responses: { 200: json(page(Deployment), "deployments, newest finished (else started) first, ties by id, whatever order they were posted in; from/to filter finished_at"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const { from, to } = timeRange(query);
    const after = decodeTimeCursor(query.cursor);
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    // SPEC 5 v2: newest finished (else started) first, whatever order they were posted in.
    const time = sql`coalesce(${deployments.finishedAt}, ${deployments.startedAt})`;
    const fetched = await db
      .select({ row: deployments, service: services.slug, micros: timeKeyMicros(time) })
      .from(deployments)
      .innerJoin(services, eq(services.id, deployments.serviceId))
      .where(
        and(
          inIds(deployments.serviceId, serviceIds),
          afterTimeKey(time, deployments.id, after),
          query.environment ? eq(deployments.environment, query.environment) : undefined,
          query.status ? eq(deployments.status, query.status) : undefined,
          query.production === undefined ? undefined : eq(deployments.isProduction, query.production),
          query.failed === undefined ? undefined : eq(deployments.failed, query.failed),
          query.failure_reason ? sql`${query.failure_reason} = any(${deployments.failureReasons})` : undefined,
          query.rework === undefined ? undefined : eq(deployments.rework, query.rework),
          from ? gte(deployments.finishedAt, from) : undefined,
          to ? lt(deployments.finishedAt, to) : undefined,
        ),
      )
      .orderBy(sql`${time} desc nulls last`, desc(deployments.id))
      .limit(query.limit + 1);
    const result = toTimePage(fetched, query.limit, (f) => ({ micros: f.micros, id: String(f.row.id) }));
    return c.json({ items: await deploymentViews(db, result.items), next_cursor: result.next_cursor }, 200);
  },
);

deploymentsRouter.openapi(
  createRoute({
    method: "get",
    path: "/deployments/{id}",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { params: z.object({ id: z.coerce.number().int().positive() }) },
    responses: { 200: json(DeploymentDetail, "the deployment with the commits it brought"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { db } = c.var.deps.database;
    let found = await loadDeployment(db, id);
    assertTeamAccess(c.var.principal, found.teamId);
    if ((await settleDerivation(db, [found.row.serviceId])) > 0) found = await loadDeployment(db, id);
    const [view] = await deploymentViews(db, [found]);
    const counted = countsForLeadTime(found.row);
    const commits = await rows<{
      sha: string;
      repository: string | null;
      committed_at: string | null;
      author: string | null;
      message: string | null;
      in_scope: boolean;
      lead: number | null;
      pr_number: number | null;
      pr_opened_at: string | null;
      pr_merged_at: string | null;
      pr_url: string | null;
    }>(
      db,
      sql`select dc.sha, r.name as repository, to_char(c.committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as committed_at,
            c.author, c.message, dc.in_scope, dc.lead_time_seconds as lead,
            c.pr_number, to_char(c.pr_opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as pr_opened_at,
            to_char(c.pr_merged_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as pr_merged_at, c.pr_url
          from deployment_changes dc
          left join changes c on c.repository_id = dc.repository_id and c.sha = dc.sha
          left join repositories r on r.id = dc.repository_id
          where dc.deployment_id = ${id}
          order by c.committed_at desc nulls last, dc.sha
          limit 1000`,
    );
    return c.json(
      {
        ...(view as NonNullable<typeof view>),
        commits: commits.map((commit) => ({
          sha: commit.sha,
          repository: commit.repository,
          committed_at: commit.committed_at,
          author: commit.author,
          message: commit.message,
          in_scope: commit.in_scope,
          lead_time_seconds: counted && commit.in_scope && commit.lead !== null && commit.lead >= 0 ? Math.round(commit.lead) : null,
          pull_request:
            commit.pr_number === null
              ? null
              : { number: commit.pr_number, opened_at: commit.pr_opened_at, merged_at: commit.pr_merged_at, url: commit.pr_url },
        })),
      },
      200,
    );
  },
);
