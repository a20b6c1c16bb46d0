import { createRoute, z } from "@hono/zod-openapi";
import { storedRules } from "../gates/rule-schemas.ts";
import { loadDeploymentUnderEvaluation, loadIncidentsSince } from "../gates/observe.ts";
import { atLeastAsSevere } from "../gates/severity.ts";
import type { EvaluationView } from "../gates/evaluate.ts";
import { createRouter } from "../router.ts";
import { ErrorSchema, errorResponses, isoDateTime, json, jsonBody } from "../schemas.ts";
import { gateSlugParam } from "./gates.ts";
import {
  CheckBody,
  EvaluateBody,
  EvaluateQuery,
  evaluateFor,
  questionFromCheck,
  requireGateCaller,
  resolveTarget,
} from "./gates-request.ts";

const STATUSES = ["pass", "warn", "fail", "pending"] as const;

export const RuleResultSchema = z
  .object({
    type: z.string(),
    status: z.enum(STATUSES),
    observed: z.union([z.number(), z.string(), z.null()]),
    threshold: z.union([z.number(), z.string(), z.null(), z.object({ min: z.number().nullable(), max: z.number().nullable() })]),
    message: z.string().openapi({ description: "one sentence a person understands" }),
    retry_after_seconds: z.number().int().optional(),
  })
  .openapi("GateRuleResult");

export const Evaluation = z
  .object({
    evaluation_id: z.number().int(),
    gate: z.string(),
    service: z.string(),
    environment: z.string(),
    sha: z.string().nullable(),
    decision: z.enum(STATUSES).openapi({ description: "the real decision, also in dry run" }),
    allow: z.boolean().openapi({ description: "true for pass and warn, and always in dry run" }),
    enforced: z.boolean(),
    rules: z.array(RuleResultSchema),
    retry_after_seconds: z.number().int().nullable(),
    evaluated_at: isoDateTime,
    override: z
      .object({ id: z.number().int(), reason: z.string(), sha: z.string().nullable(), expires_at: isoDateTime, created_by: z.string() })
      .nullable()
      .openapi({ description: "the break-glass override that made this evaluation pass" }),
  })
  .openapi("GateEvaluation");

const Verdict = Evaluation.extend({ error: ErrorSchema.shape.error }).openapi("GateVerdict");

const evaluateResponses = {
  200: json(Evaluation, "the decision; always 200 when an evaluation happened (Argo Rollouts' web provider treats non-2xx as an error)"),
  ...errorResponses(400, 401, 403, 404),
};

export const gatesEvaluateRouter = createRouter();

gatesEvaluateRouter.openapi(
  createRoute({
    method: "post",
    path: "/gates/{slug}/evaluate",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireGateCaller({ bodyToken: false })] as const,
    request: { params: gateSlugParam, body: jsonBody(EvaluateBody) },
    responses: evaluateResponses,
  }),
  async (c) => {
    const body = c.req.valid("json");
    const view = await evaluateFor(c, c.req.valid("param").slug, body, { source: "evaluate", method: "POST", request: body });
    return c.json(view, 200);
  },
);

gatesEvaluateRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates/{slug}/evaluate",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireGateCaller({ bodyToken: false })] as const,
    request: { params: gateSlugParam, query: EvaluateQuery },
    responses: evaluateResponses,
  }),
  async (c) => {
    const query = c.req.valid("query");
    const view = await evaluateFor(c, c.req.valid("param").slug, query, { source: "evaluate", method: "GET", request: query });
    return c.json(view, 200);
  },
);

const verdictSentence = (view: EvaluationView) =>
  view.rules
    .filter((rule) => rule.status === view.decision)
    .map((rule) => rule.message)
    .join(" ");

gatesEvaluateRouter.openapi(
  createRoute({
    method: "post",
    path: "/gates/{slug}/check",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireGateCaller({ bodyToken: true })] as const,
    request: { params: gateSlugParam, body: jsonBody(CheckBody) },
    responses: {
      200: json(Evaluation, "allowed: pass or warn, or any decision in dry run"),
      403: json(Verdict, "blocked: the gate failed (also the answer for a token without the gate scope, with only `error`)"),
      423: {
        ...json(Verdict, "pending: ask again after Retry-After seconds"),
        headers: z.object({ "Retry-After": z.string().openapi({ example: "120" }) }),
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const view = await evaluateFor(c, c.req.valid("param").slug, questionFromCheck(body), {
      source: "check",
      method: "POST",
      request: body,
    });
    if (view.allow) return c.json(view, 200);
    if (view.decision === "pending") {
      const wait = view.retry_after_seconds ?? 60;
      c.header("Retry-After", String(wait));
      return c.json(
        { ...view, error: { code: "gate_pending", message: `Gate "${view.gate}" is pending: ${verdictSentence(view)}` } },
        423,
      );
    }
    return c.json({ ...view, error: { code: "gate_failed", message: `Gate "${view.gate}" failed: ${verdictSentence(view)}` } }, 403);
  },
);

const Rollback = z
  .object({
    rollback: z.boolean(),
    service: z.string(),
    environment: z.string(),
    deployment: z.object({ id: z.number().int(), sha: z.string(), started_at: isoDateTime }).nullable(),
    incidents: z.array(z.object({ external_id: z.string(), title: z.string().nullable(), severity: z.string().nullable(), started_at: isoDateTime })),
    message: z.string(),
  })
  .openapi("GateRollback");

const NoRollback = Rollback.extend({ error: ErrorSchema.shape.error }).openapi("GateNoRollback");

gatesEvaluateRouter.openapi(
  createRoute({
    method: "post",
    path: "/gates/{slug}/rollback",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireGateCaller({ bodyToken: true })] as const,
    request: { params: gateSlugParam, body: jsonBody(CheckBody) },
    responses: {
      200: json(Rollback, "roll back now: an incident opened on the service since the deployment under evaluation started"),
      409: json(NoRollback, "no reason to roll back"),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const question = questionFromCheck(c.req.valid("json"));
    const target = await resolveTarget(c, c.req.valid("param").slug, question);
    const now = c.var.deps.clock();
    const { db } = c.var.deps.database;
    const deployment = await loadDeploymentUnderEvaluation(db, {
      serviceId: target.service.id,
      environment: target.environment,
      sha: target.sha,
      now,
    });
    const base = { service: target.service.slug, environment: target.environment };
    if (!deployment) {
      const message = `No deployment of ${target.service.slug}${target.sha ? ` at ${target.sha}` : ""} to ${target.environment} is known, so there is nothing to roll back.`;
      return c.json({ ...base, rollback: false, deployment: null, incidents: [], message, error: { code: "no_rollback", message } }, 409);
    }
    // The gate's open_incidents rule, when it has one, also sets which incidents are severe enough.
    const minimum = storedRules(target.gate.rules).find((rule) => rule.type === "open_incidents");
    const minSeverity = minimum?.type === "open_incidents" ? minimum.min_severity : undefined;
    const incidents = (await loadIncidentsSince(db, { serviceId: target.service.id, since: deployment.startedAt, now })).filter(
      (incident) => atLeastAsSevere(incident.severity, minSeverity),
    );
    const view = {
      ...base,
      rollback: incidents.length > 0,
      deployment: { id: deployment.id, sha: deployment.sha, started_at: deployment.startedAt.toISOString() },
      incidents: incidents.map((incident) => ({
        external_id: incident.externalId,
        title: incident.title,
        severity: incident.severity,
        started_at: incident.startedAt.toISOString(),
      })),
    };
    const since = `since deployment ${deployment.id} (${deployment.sha.slice(0, 12)}) started at ${view.deployment.started_at}`;
    if (incidents.length > 0) {
      const first = incidents[0] as (typeof incidents)[number];
      const message = `Roll back: incident ${first.externalId}${first.title ? ` "${first.title}"` : ""} opened on ${base.service} ${since}${incidents.length > 1 ? `, and ${incidents.length - 1} more` : ""}.`;
      return c.json({ ...view, message }, 200);
    }
    const message = `No incident${minSeverity ? ` at or above severity ${minSeverity}` : ""} opened on ${base.service} ${since}.`;
    return c.json({ ...view, message, error: { code: "no_rollback", message } }, 409);
  },
);
