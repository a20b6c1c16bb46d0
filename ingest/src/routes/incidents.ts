import { createRoute, z } from "@hono/zod-openapi";
import { type Executor, type IncidentRow, deployments, incidents, inTransaction, recordIncident, services, stillQueued } from "@sluice/db";
import { and, desc, eq, gte, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { requireScope } from "../auth.ts";
import { badRequest } from "../errors.ts";
import { afterTimeKey, decodeTimeCursor, timeKeyMicros, toTimePage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page, sha } from "../schemas.ts";
import { inIds, optionalBoolean, scopeQuery, timeRange, visibleServiceIds } from "./filters.ts";
import { visibleService } from "./services.ts";

const CreateIncident = z
  .strictObject({
    service: z.string().max(100),
    external_id: z.string().trim().min(1).max(500),
    title: z.string().max(1000).optional(),
    severity: z.string().max(100).optional(),
    url: z.url().max(2000).optional(),
    started_at: isoDateTime,
    resolved_at: isoDateTime.nullable().optional().openapi({ description: "a time resolves it; null reopens it" }),
    deployment_id: z.number().int().positive().optional().openapi({ description: "the deployment that caused it" }),
    sha: sha.optional().openapi({ description: "the sha of the deployment that caused it" }),
  })
  .openapi("CreateIncident");

const Incident = z
  .object({
    id: z.number().int(),
    service: z.string(),
    external_id: z.string(),
    source: z.string(),
    title: z.string().nullable(),
    severity: z.string().nullable(),
    url: z.string().nullable(),
    started_at: isoDateTime,
    resolved_at: isoDateTime.nullable(),
    time_to_restore_seconds: z.number().nullable(),
    deployment: z
      .object({ id: z.number().int(), sha: z.string(), finished_at: isoDateTime.nullable() })
      .nullable()
      .openapi({ description: "the deployment the incident is attributed to (docs/metrics.md)" }),
    derived: z.boolean().openapi({
      description: "false while its attribution waits for derivation, as in the answer to POST (docs/operations.md)",
    }),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Incident");

const attributed = alias(deployments, "attributed");

const select = {
  row: incidents,
  service: services.slug,
  deploymentSha: attributed.sha,
  deploymentFinishedAt: attributed.finishedAt,
};

type Found = { row: IncidentRow; service: string; deploymentSha: string | null; deploymentFinishedAt: Date | null };

const toIncident = ({ row, service, deploymentSha, deploymentFinishedAt }: Found, derived: boolean) => ({
  id: row.id,
  service,
  external_id: row.externalId,
  source: row.source,
  title: row.title,
  severity: row.severity,
  url: row.url,
  started_at: row.startedAt.toISOString(),
  resolved_at: row.resolvedAt?.toISOString() ?? null,
  // A negative span (resolved before it started: a clock or data error) is no duration (docs/metrics.md "Negative spans").
  time_to_restore_seconds:
    row.resolvedAt && row.resolvedAt >= row.startedAt ? Math.round((row.resolvedAt.getTime() - row.startedAt.getTime()) / 1000) : null,
  deployment:
    row.deploymentId !== null && deploymentSha !== null
      ? { id: row.deploymentId, sha: deploymentSha, finished_at: deploymentFinishedAt?.toISOString() ?? null }
      : null,
  derived,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

const baseQuery = (db: Executor) =>
  db
    .select(select)
    .from(incidents)
    .innerJoin(services, eq(services.id, incidents.serviceId))
    .leftJoin(attributed, eq(attributed.id, incidents.deploymentId));

export const incidentsRouter = createRouter();

incidentsRouter.openapi(
  createRoute({
    method: "post",
    path: "/incidents",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("ingest")] as const,
    request: { body: jsonBody(CreateIncident) },
    responses: {
      201: json(Incident, "recorded"),
      200: json(Incident, "an existing incident (same service and external id) updated"),
      ...errorResponses(400, 401, 403, 404, 413, 415),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const startedAt = new Date(input.started_at);
    const resolvedAt = input.resolved_at === undefined ? undefined : input.resolved_at === null ? null : new Date(input.resolved_at);
    if (resolvedAt && resolvedAt < startedAt) {
      throw badRequest("invalid body", [{ field: "resolved_at", message: "must not be before started_at" }]);
    }
    const service = await visibleService(db, c.var.principal, input.service);
    const { incident, created } = await inTransaction(db, (tx) =>
      recordIncident(
        tx,
        {
          serviceId: service.id,
          externalId: input.external_id,
          source: "api",
          title: input.title,
          severity: input.severity,
          url: input.url,
          startedAt,
          resolvedAt,
          causeDeploymentId: input.deployment_id,
          causeSha: input.sha,
        },
        c.var.deps.clock(),
      ),
    );
    c.var.deps.telemetry.eventsIngested("incident");
    c.var.deps.derivation?.queued();
    const [found] = await baseQuery(db).where(eq(incidents.id, incident.id));
    return c.json(toIncident(found as Found, false), created ? 201 : 200);
  },
);

incidentsRouter.openapi(
  createRoute({
    method: "get",
    path: "/incidents",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: {
      query: z.object({
        ...listQuery,
        ...scopeQuery,
        status: z
          .enum(["open", "resolved"])
          .optional()
          .openapi({ description: "open: every incident open now, whenever it started (from/to do not apply); resolved: resolved ones" }),
        attributed: optionalBoolean.openapi({ description: "true: attributed to a deployment; false: unattributed" }),
        resolved_from: isoDateTime.optional().openapi({ description: "resolved at or after (time to restore's window)" }),
        resolved_to: isoDateTime.optional().openapi({ description: "resolved before" }),
      }),
    },
    responses: { 200: json(page(Incident), "incidents, newest started first (ties by id); from/to filter started_at"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const { from, to } = timeRange(query);
    const after = decodeTimeCursor(query.cursor);
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    // SPEC 5 v2: newest started first; status=open is every incident open now, whenever it started.
    const time = sql`${incidents.startedAt}`;
    const open = query.status === "open";
    const fetched = await db
      .select({ ...select, micros: timeKeyMicros(time) })
      .from(incidents)
      .innerJoin(services, eq(services.id, incidents.serviceId))
      .leftJoin(attributed, eq(attributed.id, incidents.deploymentId))
      .where(
        and(
          inIds(incidents.serviceId, serviceIds),
          afterTimeKey(time, incidents.id, after),
          open ? isNull(incidents.resolvedAt) : undefined,
          query.status === "resolved" ? isNotNull(incidents.resolvedAt) : undefined,
          from && !open ? gte(incidents.startedAt, from) : undefined,
          to && !open ? lt(incidents.startedAt, to) : undefined,
          query.attributed === undefined ? undefined : query.attributed ? isNotNull(incidents.deploymentId) : isNull(incidents.deploymentId),
          query.resolved_from ? gte(incidents.resolvedAt, new Date(query.resolved_from)) : undefined,
          query.resolved_to ? lt(incidents.resolvedAt, new Date(query.resolved_to)) : undefined,
        ),
      )
      .orderBy(desc(incidents.startedAt), desc(incidents.id))
      .limit(query.limit + 1);
    const result = toTimePage(fetched, query.limit, (f) => ({ micros: f.micros, id: String(f.row.id) }));
    const underived = await stillQueued(db, "incident", result.items.map((f) => f.row.id));
    return c.json({ items: result.items.map((f) => toIncident(f, !underived.has(f.row.id))), next_cursor: result.next_cursor }, 200);
  },
);
