import { createRoute, z } from "@hono/zod-openapi";
import { type Executor, services, teams } from "@sluice/db";
import { and, asc, eq, gt } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { conflict, notFound } from "../errors.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { assertTeamAccess } from "../scope.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page, slug } from "../schemas.ts";
import { isUniqueViolation } from "../sql-errors.ts";

const Team = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    name: z.string(),
    services: z.array(z.string()).optional(),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Team");

const CreateTeam = z.strictObject({ slug, name: z.string().trim().min(1).max(200) }).openapi("CreateTeam");
const UpdateTeam = z.strictObject({ slug: slug.optional(), name: z.string().trim().min(1).max(200).optional() });

type TeamRow = typeof teams.$inferSelect;
const toTeam = (row: TeamRow, serviceSlugs?: string[]) => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  ...(serviceSlugs ? { services: serviceSlugs } : {}),
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export async function teamIdBySlug(db: Executor, teamSlug: string): Promise<number> {
  const [row] = await db.select({ id: teams.id }).from(teams).where(eq(teams.slug, teamSlug));
  if (!row) throw notFound(`team "${teamSlug}"`);
  return row.id;
}

async function teamBySlug(db: Executor, teamSlug: string): Promise<TeamRow> {
  const [row] = await db.select().from(teams).where(eq(teams.slug, teamSlug));
  if (!row) throw notFound(`team "${teamSlug}"`);
  return row;
}

const slugParam = z.object({ slug: z.string().max(100) });

export const teamsRouter = createRouter();

teamsRouter.openapi(
  createRoute({
    method: "post",
    path: "/teams",
    tags: ["teams"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { body: jsonBody(CreateTeam) },
    responses: { 201: json(Team, "created"), ...errorResponses(400, 401, 403, 409) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    try {
      const [row] = await c.var.deps.database.db.insert(teams).values(input).returning();
      if (!row) throw new Error("insert returned no row");
      return c.json(toTeam(row, []), 201);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`a team "${input.slug}" exists already`);
      throw error;
    }
  },
);

teamsRouter.openapi(
  createRoute({
    method: "get",
    path: "/teams",
    tags: ["teams"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object(listQuery) },
    responses: { 200: json(page(Team), "teams by slug"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const principal = c.var.principal;
    const fetched = await c.var.deps.database.db
      .select()
      .from(teams)
      .where(
        and(
          after === undefined ? undefined : gt(teams.id, after),
          principal.teamId === null ? undefined : eq(teams.id, principal.teamId),
        ),
      )
      .orderBy(asc(teams.id))
      .limit(limit + 1);
    const result = toPage(fetched, limit, (row) => row.id);
    return c.json({ items: result.items.map((row) => toTeam(row)), next_cursor: result.next_cursor }, 200);
  },
);

teamsRouter.openapi(
  createRoute({
    method: "get",
    path: "/teams/{slug}",
    tags: ["teams"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { params: slugParam },
    responses: { 200: json(Team, "the team and its services"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    const team = await teamBySlug(db, c.req.valid("param").slug);
    assertTeamAccess(c.var.principal, team.id);
    const owned = await db
      .select({ slug: services.slug })
      .from(services)
      .where(eq(services.teamId, team.id))
      .orderBy(asc(services.slug));
    return c.json(
      toTeam(
        team,
        owned.map((s) => s.slug),
      ),
      200,
    );
  },
);

teamsRouter.openapi(
  createRoute({
    method: "patch",
    path: "/teams/{slug}",
    tags: ["teams"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: slugParam, body: jsonBody(UpdateTeam) },
    responses: { 200: json(Team, "updated"), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    const team = await teamBySlug(db, c.req.valid("param").slug);
    const input = c.req.valid("json");
    try {
      const [row] = await db
        .update(teams)
        .set({ ...input, updatedAt: c.var.deps.clock() })
        .where(eq(teams.id, team.id))
        .returning();
      if (!row) throw notFound("team");
      return c.json(toTeam(row), 200);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`a team "${input.slug}" exists already`);
      throw error;
    }
  },
);
