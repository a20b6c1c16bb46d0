import { createRoute, z } from "@hono/zod-openapi";
import { type Executor, gates, inTransaction, services, teams } from "@sluice/db";
import { type SQL, and, asc, eq, gt, sql } from "drizzle-orm";
import { type Principal, requireScope } from "../auth.ts";
import { badRequest, conflict, notFound } from "../errors.ts";
import type { GateRow } from "../gates/evaluate.ts";
import { AppliesTo, GATE_MODES, GatePatch, GateSpec, Rule } from "../gates/rule-schemas.ts";
import { redactRules, restoreRedacted } from "../gates/rules/prometheus-headers.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page } from "../schemas.ts";
import { isUniqueViolation } from "../sql-errors.ts";

export const Gate = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    name: z.string(),
    applies_to: AppliesTo,
    mode: z.enum(GATE_MODES),
    rules: z.array(Rule),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Gate");

export type GateView = z.infer<typeof Gate>;

/** A gate as the API shows it: header values of prometheus rules are secrets and never leave (SPEC 7 v2). */
export const toGate = (row: GateRow): GateView => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  applies_to: row.appliesTo as GateView["applies_to"],
  mode: row.mode,
  rules: redactRules(row.rules) as GateView["rules"],
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export async function gateBySlug(db: Executor, slug: string): Promise<GateRow> {
  const [row] = await db.select().from(gates).where(eq(gates.slug, slug));
  if (!row) throw notFound(`gate "${slug}"`);
  return row;
}

/**
 * The gates a token may see (SPEC 7 v2): a team-limited token sees those that apply to one of
 * its team's services, by team or by service, and those that apply to every service. The
 * same test as appliesTo() (gates/applies.ts), over all of the team's services at once.
 */
export function visibleGates(principal: Principal): SQL | undefined {
  if (principal.teamId === null) return undefined;
  const listedTeams = sql`coalesce(${gates.appliesTo} -> 'teams', '[]'::jsonb)`;
  const listedServices = sql`coalesce(${gates.appliesTo} -> 'services', '[]'::jsonb)`;
  return sql`(
    (jsonb_array_length(${listedTeams}) = 0 and jsonb_array_length(${listedServices}) = 0)
    or exists (select 1 from ${teams} where ${teams.id} = ${principal.teamId} and ${listedTeams} @> jsonb_build_array(${teams.slug}))
    or exists (select 1 from ${services} where ${services.teamId} = ${principal.teamId} and ${listedServices} @> jsonb_build_array(${services.slug}))
  )`;
}

/** A gate the caller may see; another team's gate is not found rather than forbidden, so its name leaks nothing. */
export async function visibleGate(db: Executor, principal: Principal, slug: string): Promise<GateRow> {
  const [row] = await db
    .select()
    .from(gates)
    .where(and(eq(gates.slug, slug), visibleGates(principal)));
  if (!row) throw notFound(`gate "${slug}"`);
  return row;
}

/** Rules to store: "[redacted]" header values become the stored ones, or a 400 naming the header. */
function withStoredSecrets(rules: Rule[], stored: readonly unknown[]): Rule[] {
  const restored = restoreRedacted(rules, stored);
  if (restored.problems.length > 0) throw badRequest("invalid body", restored.problems);
  return restored.rules;
}

export const gateSlugParam = z.object({ slug: z.string().max(100).openapi({ example: "production-safety" }) });

export const gatesRouter = createRouter();

gatesRouter.openapi(
  createRoute({
    method: "post",
    path: "/gates",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { body: jsonBody(GateSpec) },
    responses: { 201: json(Gate, "created"), ...errorResponses(400, 401, 403, 409) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const now = c.var.deps.clock();
    const rules = withStoredSecrets(input.rules, []);
    try {
      const [row] = await c.var.deps.database.db
        .insert(gates)
        .values({
          slug: input.slug,
          name: input.name ?? input.slug,
          appliesTo: input.applies_to,
          mode: input.mode,
          rules,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      return c.json(toGate(row), 201);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`a gate "${input.slug}" exists already`);
      throw error;
    }
  },
);

gatesRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object(listQuery) },
    responses: { 200: json(page(Gate), "gates in creation order"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const fetched = await c.var.deps.database.db
      .select()
      .from(gates)
      .where(and(after === undefined ? undefined : gt(gates.id, after), visibleGates(c.var.principal)))
      .orderBy(asc(gates.id))
      .limit(limit + 1);
    const result = toPage(fetched, limit, (row) => row.id);
    return c.json({ items: result.items.map(toGate), next_cursor: result.next_cursor }, 200);
  },
);

gatesRouter.openapi(
  createRoute({
    method: "get",
    path: "/gates/{slug}",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { params: gateSlugParam },
    responses: { 200: json(Gate, "the gate"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const row = await visibleGate(c.var.deps.database.db, c.var.principal, c.req.valid("param").slug);
    return c.json(toGate(row), 200);
  },
);

gatesRouter.openapi(
  createRoute({
    method: "patch",
    path: "/gates/{slug}",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: gateSlugParam, body: jsonBody(GatePatch) },
    responses: { 200: json(Gate, "updated; the fields given replace the stored ones"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { slug } = c.req.valid("param");
    const { db } = c.var.deps.database;
    // Rules replace the stored ones whole; secrets sent back as "[redacted]" are kept from them,
    // read under the row's lock so a concurrent edit cannot slip in between.
    const row = await inTransaction(db, async (tx) => {
      const [stored] = input.rules ? await tx.select({ rules: gates.rules }).from(gates).where(eq(gates.slug, slug)).for("update") : [];
      if (input.rules && !stored) throw notFound(`gate "${slug}"`);
      const rules = input.rules && withStoredSecrets(input.rules, stored?.rules ?? []);
      const [updated] = await tx
        .update(gates)
        .set({
          name: input.name,
          appliesTo: input.applies_to,
          mode: input.mode,
          rules,
          // Always forward, even for two edits within a millisecond: a gate version names its rules (gates/evaluate.ts).
          updatedAt: sql`greatest(${c.var.deps.clock().toISOString()}::timestamptz, ${gates.updatedAt} + interval '1 millisecond')`,
        })
        .where(eq(gates.slug, slug))
        .returning();
      return updated;
    });
    if (!row) throw notFound(`gate "${slug}"`);
    return c.json(toGate(row), 200);
  },
);

gatesRouter.openapi(
  createRoute({
    method: "delete",
    path: "/gates/{slug}",
    tags: ["gates"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: gateSlugParam },
    responses: { 204: { description: "deleted, with its overrides and evaluations" }, ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    const deleted = await c.var.deps.database.db.delete(gates).where(eq(gates.slug, slug)).returning({ id: gates.id });
    if (deleted.length === 0) throw notFound(`gate "${slug}"`);
    return c.body(null, 204);
  },
);
