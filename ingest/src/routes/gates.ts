import { createRoute, z } from "@hono/zod-openapi";
import { type Executor, gates } from "@sluice/db";
import { asc, eq, gt } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { conflict, notFound } from "../errors.ts";
import type { GateRow } from "../gates/evaluate.ts";
import { AppliesTo, GATE_MODES, GatePatch, GateSpec, Rule } from "../gates/rule-schemas.ts";
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

export const toGate = (row: GateRow): GateView => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  applies_to: row.appliesTo as GateView["applies_to"],
  mode: row.mode,
  rules: row.rules as GateView["rules"],
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export async function gateBySlug(db: Executor, slug: string): Promise<GateRow> {
  const [row] = await db.select().from(gates).where(eq(gates.slug, slug));
  if (!row) throw notFound(`gate "${slug}"`);
  return row;
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
    try {
      const [row] = await c.var.deps.database.db
        .insert(gates)
        .values({
          slug: input.slug,
          name: input.name ?? input.slug,
          appliesTo: input.applies_to,
          mode: input.mode,
          rules: input.rules,
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
      .where(after === undefined ? undefined : gt(gates.id, after))
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
    const row = await gateBySlug(c.var.deps.database.db, c.req.valid("param").slug);
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
    const [row] = await c.var.deps.database.db
      .update(gates)
      .set({
        name: input.name,
        appliesTo: input.applies_to,
        mode: input.mode,
        rules: input.rules,
        updatedAt: c.var.deps.clock(),
      })
      .where(eq(gates.slug, slug))
      .returning();
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
