import { createRoute, z } from "@hono/zod-openapi";
import {
  DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  DEFAULT_DEPLOYMENT_PATTERN,
  DEFAULT_PRODUCTION_PATTERN,
  type Executor,
  ensureRepository,
  inTransaction,
  rederiveService,
  repositories,
  serviceRepositories,
  services,
  teams,
} from "@sluice/db";
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { Principal } from "../auth.ts";
import { requireScope } from "../auth.ts";
import { conflict, notFound } from "../errors.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { assertTeamAccess } from "../scope.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page, regexPattern, repositoryName, slug } from "../schemas.ts";
import { isUniqueViolation } from "../sql-errors.ts";
import { teamIdBySlug } from "./teams.ts";

const RepositoryMapping = z
  .strictObject({
    provider: z.enum(["github", "gitlab", "git"]).default("git"),
    name: repositoryName,
    path_prefix: z
      .string()
      .max(500)
      .regex(/^[^/].*\/$|^$/, 'must be a path inside the repository ending in "/", like "services/checkout/"')
      .default(""),
  })
  .openapi("RepositoryMapping");

const serviceFields = {
  name: z.string().trim().min(1).max(200),
  team: slug.nullable(),
  repositories: z.array(RepositoryMapping).max(50),
  production_pattern: regexPattern.openapi({ example: DEFAULT_PRODUCTION_PATTERN }),
  deployment_pattern: regexPattern.openapi({ example: DEFAULT_DEPLOYMENT_PATTERN }),
  aliases: z.array(z.string().trim().min(1).max(200)).max(50),
  attribution_window_seconds: z.number().int().min(0).max(31_536_000),
};

const CreateService = z.strictObject({ slug, ...z.object(serviceFields).partial().shape }).openapi("CreateService");
const UpdateService = z.object(serviceFields).partial().strict().openapi("UpdateService");

const Service = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    name: z.string(),
    team: z.string().nullable(),
    repositories: z.array(z.object({ provider: z.string(), name: z.string(), path_prefix: z.string() })),
    production_pattern: z.string(),
    deployment_pattern: z.string(),
    aliases: z.array(z.string()),
    attribution_window_seconds: z.number().int(),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Service");

export async function serviceViews(db: Executor, ids: number[]) {
  if (ids.length === 0) return [];
  const found = await db
    .select({ service: services, team: teams.slug })
    .from(services)
    .leftJoin(teams, eq(teams.id, services.teamId))
    .where(inArray(services.id, ids));
  const mappings = await db
    .select({
      serviceId: serviceRepositories.serviceId,
      provider: repositories.provider,
      name: repositories.name,
      pathPrefix: serviceRepositories.pathPrefix,
    })
    .from(serviceRepositories)
    .innerJoin(repositories, eq(repositories.id, serviceRepositories.repositoryId))
    .where(inArray(serviceRepositories.serviceId, ids))
    .orderBy(repositories.name, serviceRepositories.pathPrefix);
  const byId = new Map(found.map((row) => [row.service.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    const s = row.service;
    return [
      {
        id: s.id,
        slug: s.slug,
        name: s.name,
        team: row.team,
        repositories: mappings
          .filter((m) => m.serviceId === id)
          .map((m) => ({ provider: m.provider, name: m.name, path_prefix: m.pathPrefix })),
        production_pattern: s.productionPattern,
        deployment_pattern: s.deploymentPattern,
        aliases: s.aliases,
        attribution_window_seconds: s.attributionWindowSeconds,
        created_at: s.createdAt.toISOString(),
        updated_at: s.updatedAt.toISOString(),
      },
    ];
  });
}

/** A service by slug that the caller may see; 404 when unknown, 403 when another team's. */
export async function visibleService(db: Executor, principal: Principal, serviceSlug: string) {
  const [row] = await db.select().from(services).where(eq(services.slug, serviceSlug));
  if (!row) throw notFound(`service "${serviceSlug}"`);
  assertTeamAccess(principal, row.teamId);
  return row;
}

async function replaceRepositories(tx: Executor, serviceId: number, mappings: z.infer<typeof RepositoryMapping>[]) {
  await tx.delete(serviceRepositories).where(eq(serviceRepositories.serviceId, serviceId));
  for (const mapping of mappings) {
    const repositoryId = await ensureRepository(tx, { name: mapping.name, provider: mapping.provider });
    await tx
      .insert(serviceRepositories)
      .values({ serviceId, repositoryId, pathPrefix: mapping.path_prefix })
      .onConflictDoNothing();
  }
}

const slugParam = z.object({ slug: z.string().max(100) });

export const servicesRouter = createRouter();

servicesRouter.openapi(
  createRoute({
    method: "post",
    path: "/services",
    tags: ["services"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { body: jsonBody(CreateService) },
    responses: { 201: json(Service, "created"), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    try {
      const id = await inTransaction(db, async (tx) => {
        const teamId = input.team ? await teamIdBySlug(tx, input.team) : null;
        const [row] = await tx
          .insert(services)
          .values({
            slug: input.slug,
            name: input.name ?? input.slug,
            teamId,
            productionPattern: input.production_pattern ?? DEFAULT_PRODUCTION_PATTERN,
            deploymentPattern: input.deployment_pattern ?? DEFAULT_DEPLOYMENT_PATTERN,
            aliases: input.aliases ?? [],
            attributionWindowSeconds: input.attribution_window_seconds ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
          })
          .returning({ id: services.id });
        if (!row) throw new Error("insert returned no row");
        await replaceRepositories(tx, row.id, input.repositories ?? []);
        return row.id;
      }, 1);
      const [view] = await serviceViews(db, [id]);
      return c.json(view, 201);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`a service "${input.slug}" exists already`);
      throw error;
    }
  },
);

servicesRouter.openapi(
  createRoute({
    method: "get",
    path: "/services",
    tags: ["services"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object({ ...listQuery, team: slug.optional() }) },
    responses: { 200: json(page(Service), "services in creation order"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { limit, cursor, team } = c.req.valid("query");
    const { db } = c.var.deps.database;
    const after = decodeCursor(cursor);
    const teamId = team ? await teamIdBySlug(db, team) : undefined;
    if (teamId !== undefined) assertTeamAccess(c.var.principal, teamId);
    const limitedTo = c.var.principal.teamId;
    const fetched = await db
      .select({ id: services.id })
      .from(services)
      .where(
        and(
          after === undefined ? undefined : gt(services.id, after),
          teamId === undefined ? undefined : eq(services.teamId, teamId),
          limitedTo === null ? undefined : eq(services.teamId, limitedTo),
        ),
      )
      .orderBy(asc(services.id))
      .limit(limit + 1);
    const result = toPage(fetched, limit, (row) => row.id);
    return c.json(
      {
        items: await serviceViews(
          db,
          result.items.map((row) => row.id),
        ),
        next_cursor: result.next_cursor,
      },
      200,
    );
  },
);

servicesRouter.openapi(
  createRoute({
    method: "get",
    path: "/services/{slug}",
    tags: ["services"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { params: slugParam },
    responses: { 200: json(Service, "the service"), ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    const service = await visibleService(db, c.var.principal, c.req.valid("param").slug);
    const [view] = await serviceViews(db, [service.id]);
    return c.json(view, 200);
  },
);

servicesRouter.openapi(
  createRoute({
    method: "patch",
    path: "/services/{slug}",
    tags: ["services"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: slugParam, body: jsonBody(UpdateService) },
    responses: { 200: json(Service, "updated; derived metrics are rebuilt when a rule input changed"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const service = await visibleService(db, c.var.principal, c.req.valid("param").slug);
    await inTransaction(db, async (tx) => {
      const teamId = input.team === undefined ? undefined : input.team === null ? null : await teamIdBySlug(tx, input.team);
      await tx
        .update(services)
        .set({
          name: input.name,
          teamId,
          productionPattern: input.production_pattern,
          deploymentPattern: input.deployment_pattern,
          aliases: input.aliases,
          attributionWindowSeconds: input.attribution_window_seconds,
          updatedAt: c.var.deps.clock(),
        })
        .where(eq(services.id, service.id));
      if (input.repositories) await replaceRepositories(tx, service.id, input.repositories);
      const ruleInputChanged =
        input.repositories !== undefined ||
        (input.production_pattern !== undefined && input.production_pattern !== service.productionPattern) ||
        (input.attribution_window_seconds !== undefined &&
          input.attribution_window_seconds !== service.attributionWindowSeconds);
      if (ruleInputChanged) await rederiveService(tx, service.id);
    });
    const [view] = await serviceViews(db, [service.id]);
    return c.json(view, 200);
  },
);
