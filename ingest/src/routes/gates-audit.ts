import { createRoute, z } from "@hono/zod-openapi";
import { gateEvaluationDays, gateEvaluations, gateOverrides, services } from "@sluice/db";
import { and, desc, eq, gte, lt } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { badRequest, notFound } from "../errors.ts";
import type { RuleResult } from "../gates/results.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page, sha, slug } from "../schemas.ts";
import { inIds, timeRange, visibleServiceIds } from "./filters.ts";
import { RuleResultSchema } from "./gates-evaluate.ts";
import { redactInputs } from "../gates/rules/prometheus-headers.ts";
import { gateBySlug, gateSlugParam, visibleGate } from "./gates.ts";
import { visibleService } from "./services.ts";

const CreateOverride = z
  .strictObject({
    service: z.string().trim().min(1).max(100),
    sha: sha.optional().openapi({ description: "only this commit; omit for any" }),
    reason: z.string().trim().min(1).max(2000).openapi({ example: "hotfix for INC-231, approved by the on-call lead" }),
    expires_at: isoDateTime,
  })
  .openapi("CreateGateOverride");

const Override = z
  .object({
    id: z.number().int(),
    gate: z.string(),
    service: z.string(),
    sha: z.string().nullable(),
    reason: z.string(),
    expires_at: isoDateTime,
    created_by: z.string(),
    created_at: isoDateTime,
    active: z.boolean(),
  })
  .openapi("GateOverride");

type OverrideRow = typeof gateOverrides.$inferSelect;

const toOverride = (row: OverrideRow, gate: string, service: string, now: Date) => ({
  id: row.id,
  gate,
  service,
  sha: row.sha,
  reason: row.reason,
  expires_at: row.expiresAt.toISOString(),
  created_by: row.createdBy,
  created_at: row.createdAt.toISOString(),
  active: row.expiresAt > now,
});

export const gatesAuditRouter = createRouter();

gatesAuditRouter.openapi(
  createRoute({
    method: "post",
    path: "/gates/{slug}/overrides",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: gateSlugParam, body: jsonBody(CreateOverride) },
    responses: { 201: json(Override, "created; matching evaluations pass until it expires"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const now = c.var.deps.clock();
    const expiresAt = new Date(input.expires_at);
    if (expiresAt <= now) {
      throw badRequest("invalid body", [{ field: "expires_at", message: "must be in the future" }]);
    }
    const gate = await gateBySlug(db, c.req.valid("param").slug);
    const service = await visibleService(db, c.var.principal, input.service);
    const [row] = await db
      .insert(gateOverrides)
      .values({
        gateId: gate.id,
        serviceId: service.id,
        sha: input.sha ?? null,
        reason: input.reason,
        expiresAt,
        createdBy: c.var.principal.name,
        createdAt: now,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    c.var.deps.logger.warn({
      msg: "gate override created",
      request_id: c.var.requestId,
      gate: gate.slug,
      service: service.slug,
      override_id: row.id,
      expires_at: row.expiresAt.toISOString(),
    });
    return c.json(toOverride(row, gate.slug, service.slug, now), 201);
  },
);

gatesAuditRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates/{slug}/overrides",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: gateSlugParam, query: z.object({ ...listQuery, active: z.enum(["true", "false"]).optional() }) },
    responses: { 200: json(page(Override), "overrides, newest first"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const now = c.var.deps.clock();
    const gate = await gateBySlug(db, c.req.valid("param").slug);
    const after = decodeCursor(query.cursor);
    const fetched = await db
      .select({ row: gateOverrides, service: services.slug })
      .from(gateOverrides)
      .innerJoin(services, eq(services.id, gateOverrides.serviceId))
      .where(
        and(
          eq(gateOverrides.gateId, gate.id),
          after === undefined ? undefined : lt(gateOverrides.id, after),
          query.active === "true" ? gte(gateOverrides.expiresAt, now) : undefined,
          query.active === "false" ? lt(gateOverrides.expiresAt, now) : undefined,
        ),
      )
      .orderBy(desc(gateOverrides.id))
      .limit(query.limit + 1);
    const result = toPage(fetched, query.limit, (f) => f.row.id);
    return c.json({ items: result.items.map((f) => toOverride(f.row, gate.slug, f.service, now)), next_cursor: result.next_cursor }, 200);
  },
);

gatesAuditRouter.openapi(
  createRoute({
    method: "delete",
    path: "/gates/{slug}/overrides/{id}",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: gateSlugParam.extend({ id: z.coerce.number().int().positive() }) },
    responses: {
      200: json(Override, "ended now; kept for the audit trail of the evaluations it decided"),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const { slug: gateSlug, id } = c.req.valid("param");
    const { db } = c.var.deps.database;
    const now = c.var.deps.clock();
    const gate = await gateBySlug(db, gateSlug);
    const [existing] = await db
      .select({ row: gateOverrides, service: services.slug })
      .from(gateOverrides)
      .innerJoin(services, eq(services.id, gateOverrides.serviceId))
      .where(and(eq(gateOverrides.id, id), eq(gateOverrides.gateId, gate.id)));
    if (!existing) throw notFound("override");
    const ended = new Date(Math.min(existing.row.expiresAt.getTime(), now.getTime()));
    const [row] = await db.update(gateOverrides).set({ expiresAt: ended }).where(eq(gateOverrides.id, id)).returning();
    return c.json(toOverride(row ?? existing.row, gate.slug, existing.service, now), 200);
  },
);

const EvaluationRecord = z
  .object({
    id: z.number().int(),
    gate: z.string(),
    service: z.string(),
    environment: z.string(),
    sha: z.string().nullable(),
    decision: z.enum(["pass", "warn", "fail", "pending"]),
    allow: z.boolean(),
    enforced: z.boolean(),
    rules: z.array(RuleResultSchema),
    retry_after_seconds: z.number().int().nullable(),
    override_id: z.number().int().nullable(),
    caller: z.string().openapi({ description: "the name of the token that asked, or the GitHub App" }),
    caller_token_id: z.number().int().nullable(),
    inputs: z.record(z.string(), z.unknown()).openapi({ description: "the request and the gate's rules as they were" }),
    evaluated_at: isoDateTime,
  })
  .openapi("GateEvaluationRecord");

gatesAuditRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates/{slug}/evaluations",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: {
      params: gateSlugParam,
      query: z.object({
        ...listQuery,
        service: slug.optional(),
        decision: z.enum(["pass", "warn", "fail", "pending"]).optional(),
        from: isoDateTime.optional(),
        to: isoDateTime.optional(),
      }),
    },
    responses: { 200: json(page(EvaluationRecord), "evaluations, newest first"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const gate = await visibleGate(db, c.var.principal, c.req.valid("param").slug);
    const { from, to } = timeRange(query);
    const after = decodeCursor(query.cursor);
    const serviceIds = await visibleServiceIds(db, c.var.principal, { service: query.service });
    const fetched = await db
      .select({ row: gateEvaluations, service: services.slug })
      .from(gateEvaluations)
      .innerJoin(services, eq(services.id, gateEvaluations.serviceId))
      .where(
        and(
          eq(gateEvaluations.gateId, gate.id),
          inIds(gateEvaluations.serviceId, serviceIds),
          after === undefined ? undefined : lt(gateEvaluations.id, after),
          query.decision ? eq(gateEvaluations.decision, query.decision) : undefined,
          from ? gte(gateEvaluations.evaluatedAt, from) : undefined,
          to ? lt(gateEvaluations.evaluatedAt, to) : undefined,
        ),
      )
      .orderBy(desc(gateEvaluations.id))
      .limit(query.limit + 1);
    const result = toPage(fetched, query.limit, (f) => f.row.id);
    return c.json(
      {
        items: result.items.map(({ row, service }) => ({
          id: row.id,
          gate: gate.slug,
          service,
          environment: row.environment,
          sha: row.sha,
          decision: row.decision,
          allow: row.allow,
          enforced: row.enforced,
          rules: row.rules as RuleResult[],
          retry_after_seconds: row.retryAfterSeconds,
          override_id: row.overrideId,
          caller: row.caller,
          caller_token_id: row.callerTokenId,
          // Evaluations stored before header values were redacted at write time hold them in their snapshot.
          inputs: redactInputs(row.inputs),
          evaluated_at: row.evaluatedAt.toISOString(),
        })),
        next_cursor: result.next_cursor,
      },
      200,
    );
  },
);

const EvaluationDay = z
  .object({
    day: z.string().openapi({ description: "a UTC date, YYYY-MM-DD", example: "2026-03-14" }),
    service: z.string(),
    environment: z.string(),
    decision: z.enum(["pass", "warn", "fail", "pending"]),
    evaluations: z.number().int(),
    allowed: z.number().int().openapi({ description: "how many of them allowed the promotion" }),
  })
  .openapi("GateEvaluationDay");

// Evaluations past SLUICE_EVALUATION_RETENTION_DAYS live on as daily counts (gates/retention.ts).
gatesAuditRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates/{slug}/evaluations/daily",
    tags: ["gates"],
    summary: "Daily counts of the evaluations past their retention",
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { params: gateSlugParam, query: z.object({ ...listQuery, service: slug.optional() }) },
    responses: { 200: json(page(EvaluationDay), "daily counts, the latest roll-ups first"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const gate = await visibleGate(db, c.var.principal, c.req.valid("param").slug);
    const after = decodeCursor(query.cursor);
    const serviceIds = await visibleServiceIds(db, c.var.principal, { service: query.service });
    const fetched = await db
      .select({ row: gateEvaluationDays, service: services.slug })
      .from(gateEvaluationDays)
      .innerJoin(services, eq(services.id, gateEvaluationDays.serviceId))
      .where(
        and(
          eq(gateEvaluationDays.gateId, gate.id),
          inIds(gateEvaluationDays.serviceId, serviceIds),
          after === undefined ? undefined : lt(gateEvaluationDays.id, after),
        ),
      )
      .orderBy(desc(gateEvaluationDays.id))
      .limit(query.limit + 1);
    const result = toPage(fetched, query.limit, (f) => f.row.id);
    return c.json(
      {
        items: result.items.map(({ row, service }) => ({
          day: row.day,
          service,
          environment: row.environment,
          decision: row.decision,
          evaluations: row.evaluations,
          allowed: row.allowed,
        })),
        next_cursor: result.next_cursor,
      },
      200,
    );
  },
);
