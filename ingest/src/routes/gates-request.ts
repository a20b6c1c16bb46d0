import { z } from "@hono/zod-openapi";
import { teams } from "@sluice/db";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { hasScope } from "../auth.ts";
import type { AppEnv } from "../context.ts";
import { badRequest, forbidden, rateLimited, unauthorized } from "../errors.ts";
import { appliesTo, defaultEnvironment } from "../gates/applies.ts";
import { type EvaluationView, type GateRow, evaluateGate } from "../gates/evaluate.ts";
import { sha as shaSchema } from "../schemas.ts";
import { visibleGate } from "./gates.ts";
import { visibleService } from "./services.ts";

/** Who is asked about, as a pipeline names it. */
export interface GateQuestion {
  service: string;
  environment?: string | undefined;
  sha?: string | undefined;
}

const serviceField = z.string().trim().min(1).max(100).openapi({ example: "checkout" });
const environmentField = z.string().trim().min(1).max(200).openapi({ description: "default: the gate's first environment" });

export const EvaluateBody = z
  .strictObject({ service: serviceField, environment: environmentField.optional(), sha: shaSchema.optional() })
  .openapi("EvaluateGate");

export const EvaluateQuery = z.object({
  service: serviceField,
  environment: environmentField.optional(),
  sha: shaSchema.optional(),
});

/**
 * /check and /rollback take the evaluate body or Flagger's webhook body
 * ({name, namespace, phase, checksum, metadata}); unknown fields are ignored because
 * Flagger adds fields between versions.
 */
export const CheckBody = z
  .object({
    service: serviceField.optional(),
    environment: environmentField.optional(),
    sha: z.string().max(100).optional(),
    name: z.string().max(253).optional().openapi({ description: "Flagger: the canary's name, the service unless metadata.service is set" }),
    namespace: z.string().max(253).optional(),
    phase: z.string().max(100).optional(),
    checksum: z.string().max(200).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Flagger: service, sha, environment, and token (a gate-scope token, when no Authorization header can be sent)" }),
  })
  .openapi("CheckGate");

type CheckInput = z.infer<typeof CheckBody>;

const metadataString = (metadata: CheckInput["metadata"], key: string) => {
  const value = metadata?.[key];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
};

/** Service from the body, else metadata.service, else the Flagger canary name; sha from the body or metadata.sha. */
export function questionFromCheck(body: CheckInput): GateQuestion {
  const service = body.service ?? metadataString(body.metadata, "service") ?? body.name;
  if (!service) {
    throw badRequest("invalid body", [{ field: "service", message: "name the service (service, metadata.service or name)" }]);
  }
  const environment = body.environment ?? metadataString(body.metadata, "environment");
  const rawSha = body.sha ?? metadataString(body.metadata, "sha");
  let sha: string | undefined;
  if (rawSha !== undefined) {
    const parsed = shaSchema.safeParse(rawSha);
    if (!parsed.success) {
      const field = body.sha !== undefined ? "sha" : "metadata.sha";
      throw badRequest("invalid body", [{ field, message: "must be a git commit sha (7 to 64 hex characters)" }]);
    }
    sha = parsed.data;
  }
  return { service, environment, sha };
}

/** A copy of the request fit for the audit log: secrets in Flagger metadata are not kept. */
export function redactedRequest(body: Record<string, unknown>): Record<string, unknown> {
  const metadata = body.metadata;
  if (!metadata || typeof metadata !== "object") return body;
  const kept = Object.fromEntries(
    Object.entries(metadata as Record<string, unknown>).map(([key, value]) =>
      /token|secret|password|authorization/i.test(key) ? [key, "[redacted]"] : [key, value],
    ),
  );
  return { ...body, metadata: kept };
}

/**
 * Requires the gate scope. Flagger cannot send headers with its webhooks, so /check and
 * /rollback also accept the token as metadata.token in the JSON body.
 */
export function requireGateCaller(options: { bodyToken: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let header = c.req.header("authorization");
    if (!header && options.bodyToken) {
      const token = await bodyToken(c);
      if (token) header = `Bearer ${token}`;
    }
    const principal = await c.var.deps.authenticate(header);
    if (!principal) throw unauthorized();
    if (!hasScope(principal, "gate")) throw forbidden('this token lacks the "gate" scope');
    // The same per-token limit as requireScope (auth.ts), which this mirrors.
    if (principal.tokenId !== null && !principal.scopes.includes("admin")) {
      const wait = c.var.deps.tokenLimiter.take(`token:${principal.tokenId}`);
      if (wait !== null) throw rateLimited(wait);
    }
    c.set("principal", principal);
    await next();
  });
}

async function bodyToken(c: Context<AppEnv>): Promise<string | undefined> {
  if (!c.req.header("content-type")?.includes("json")) return undefined;
  try {
    // Hono caches the parsed body, so the validator reads the same one afterwards.
    const body = (await c.req.json()) as { metadata?: Record<string, unknown> } | null;
    const token = body?.metadata?.token;
    return typeof token === "string" ? token : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves gate, service (within the caller's team) and environment, checking the gate covers them. */
export async function resolveTarget(c: Context<AppEnv>, slug: string, question: GateQuestion) {
  const { db } = c.var.deps.database;
  // Looked up together; an unknown gate is reported before an unknown service.
  const [gateFound, serviceFound] = await Promise.allSettled([
    visibleGate(db, c.var.principal, slug),
    visibleService(db, c.var.principal, question.service),
  ]);
  if (gateFound.status === "rejected") throw gateFound.reason;
  if (serviceFound.status === "rejected") throw serviceFound.reason;
  const gate = gateFound.value;
  const service = serviceFound.value;
  const environment = question.environment ?? defaultEnvironment(gate.appliesTo);
  const team = (gate.appliesTo.teams ?? []).length > 0 ? await teamSlug(c, service.teamId) : null;
  const verdict = appliesTo(gate.appliesTo, { service: service.slug, team, environment });
  if (!verdict.applies) {
    throw badRequest(`gate "${gate.slug}" does not apply: ${verdict.reason}`, [
      { field: verdict.field, message: verdict.reason },
    ]);
  }
  return { gate, service, environment, sha: question.sha ?? null };
}

async function teamSlug(c: Context<AppEnv>, teamId: number | null): Promise<string | null> {
  if (teamId === null) return null;
  const [row] = await c.var.deps.database.db.select({ slug: teams.slug }).from(teams).where(eq(teams.id, teamId));
  return row?.slug ?? null;
}

export async function evaluateFor(
  c: Context<AppEnv>,
  slug: string,
  question: GateQuestion,
  audit: { source: "evaluate" | "check"; method: string; request: Record<string, unknown> },
): Promise<EvaluationView> {
  const target = await resolveTarget(c, slug, question);
  return evaluateGate(c.var.deps, {
    target: {
      gate: target.gate as GateRow,
      service: { id: target.service.id, slug: target.service.slug },
      environment: target.environment,
      sha: target.sha,
    },
    caller: { name: c.var.principal.name, tokenId: c.var.principal.tokenId },
    inputs: { source: audit.source, method: audit.method, request: redactedRequest(audit.request) },
  });
}
