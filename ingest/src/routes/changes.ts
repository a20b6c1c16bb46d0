import { createRoute, z } from "@hono/zod-openapi";
import {
  type AutoCreator,
  type ChangeRow,
  changes,
  ensureRepository,
  inTransaction,
  recordChange,
  repositories,
  serviceRepositories,
  services,
  servicesForRepository,
} from "@sluice/db";
import { and, desc, eq, gte, inArray, lt } from "drizzle-orm";
import type { Principal } from "../auth.ts";
import { requireScope } from "../auth.ts";
import { forbidden } from "../errors.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, isoOrNull, json, jsonBody, listQuery, page, repositoryName, sha } from "../schemas.ts";
import { scopeQuery, timeRange, visibleServiceIds } from "./filters.ts";

const CreateChange = z
  .strictObject({
    repository: repositoryName,
    sha,
    committed_at: isoDateTime,
    authored_at: isoDateTime.optional(),
    author: z.string().max(500).optional(),
    branch: z.string().max(500).optional(),
    parents: z.array(sha).max(100).optional(),
    message: z.string().max(100_000).optional(),
    files: z.array(z.string().max(4096)).max(100_000).optional(),
    pull_request: z
      .strictObject({
        number: z.number().int().positive(),
        opened_at: isoDateTime,
        merged_at: isoDateTime,
        first_commit_at: isoDateTime.optional(),
        url: z.url().max(2000).optional(),
      })
      .optional(),
  })
  .openapi("CreateChange");

const Change = z
  .object({
    id: z.number().int(),
    repository: z.string(),
    sha: z.string(),
    committed_at: isoDateTime.nullable(),
    authored_at: isoDateTime.nullable(),
    author: z.string().nullable(),
    message: z.string().nullable(),
    branch: z.string().nullable(),
    parents: z.array(z.string()),
    files: z.array(z.string()).nullable(),
    pull_request: z
      .object({
        number: z.number().int(),
        opened_at: isoDateTime.nullable(),
        merged_at: isoDateTime.nullable(),
        first_commit_at: isoDateTime.nullable(),
        url: z.string().nullable(),
      })
      .nullable(),
    services: z.array(z.string()),
    created_at: isoDateTime,
    updated_at: isoDateTime,
  })
  .openapi("Change");

async function changeViews(db: Parameters<typeof ensureRepository>[0], found: Array<{ row: ChangeRow; repository: string }>) {
  const repositoryIds = [...new Set(found.map((f) => f.row.repositoryId))];
  const owners =
    repositoryIds.length === 0
      ? []
      : await db
          .selectDistinct({ repositoryId: serviceRepositories.repositoryId, slug: services.slug })
          .from(serviceRepositories)
          .innerJoin(services, eq(services.id, serviceRepositories.serviceId))
          .where(inArray(serviceRepositories.repositoryId, repositoryIds));
  return found.map(({ row, repository }) => ({
    id: row.id,
    repository,
    sha: row.sha,
    committed_at: isoOrNull(row.committedAt),
    authored_at: isoOrNull(row.authoredAt),
    author: row.author,
    message: row.message,
    branch: row.branch,
    parents: row.parents,
    files: row.files,
    pull_request:
      row.prNumber === null
        ? null
        : {
            number: row.prNumber,
            opened_at: isoOrNull(row.prOpenedAt),
            merged_at: isoOrNull(row.prMergedAt),
            first_commit_at: isoOrNull(row.prFirstCommitAt),
            url: row.prUrl,
          },
    services: owners.filter((o) => o.repositoryId === row.repositoryId).map((o) => o.slug),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }));
}

/** A team-limited token may write to a repository only if one of its services claims it. */
async function assertRepositoryAccess(db: Parameters<typeof ensureRepository>[0], principal: Principal, serviceIds: number[]) {
  if (principal.teamId === null) return;
  const owned = await db
    .select({ id: services.id })
    .from(services)
    .where(and(inArray(services.id, serviceIds), eq(services.teamId, principal.teamId)));
  if (owned.length === 0) throw forbidden("this repository belongs to another team's services");
}

/**
 * Who creates a service for a repository nobody claims: the token, in its team, up to the
 * quota; admin tokens are not limited (docs/operations.md "Auto-created services").
 */
function tokenCreator(principal: Principal, quota: number): AutoCreator | null {
  if (principal.tokenId === null || principal.scopes.includes("admin")) return null;
  return { key: `token:${principal.tokenId}`, quota, teamId: principal.teamId };
}

const iso2date = (value: string | undefined) => (value ? new Date(value) : undefined);

export const changesRouter = createRouter();

changesRouter.openapi(
  createRoute({
    method: "post",
    path: "/changes",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("ingest")] as const,
    request: { body: jsonBody(CreateChange) },
    responses: {
      201: json(Change, "recorded"),
      200: json(Change, "an existing commit updated"),
      ...errorResponses(400, 401, 403, 413, 415),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    const principal = c.var.principal;
    const creator = tokenCreator(principal, c.var.deps.config.autoServiceQuota);
    const write = inTransaction(db, async (tx) => {
      const serviceIds = await servicesForRepository(tx, { name: input.repository, creator });
      await assertRepositoryAccess(tx, principal, serviceIds);
      const repositoryId = await ensureRepository(tx, { name: input.repository });
      const pr = input.pull_request;
      return recordChange(tx, {
        repositoryId,
        sha: input.sha,
        committedAt: new Date(input.committed_at),
        authoredAt: iso2date(input.authored_at),
        author: input.author,
        message: input.message,
        branch: input.branch,
        files: input.files,
        parents: input.parents,
        pullRequest: pr && {
          number: pr.number,
          openedAt: new Date(pr.opened_at),
          mergedAt: new Date(pr.merged_at),
          firstCommitAt: iso2date(pr.first_commit_at),
          url: pr.url,
        },
      });
    });
    // Over the quota, the write throws ServiceQuotaExceededError: a 403 (app.ts).
    const { change, created } = await write;
    c.var.deps.telemetry.eventsIngested("change");
    c.var.deps.derivation?.queued();
    const [view] = await changeViews(db, [{ row: change, repository: input.repository }]);
    return c.json(view, created ? 201 : 200);
  },
);

changesRouter.openapi(
  createRoute({
    method: "get",
    path: "/changes",
    tags: ["ingest"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object({ ...listQuery, ...scopeQuery, repository: repositoryName.optional() }) },
    responses: { 200: json(page(Change), "commits, newest first; from/to filter committed_at"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const { from, to } = timeRange(query);
    const after = decodeCursor(query.cursor);
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    const repositoryIds =
      serviceIds === undefined
        ? undefined
        : serviceIds.length === 0
          ? []
          : (
              await db
                .selectDistinct({ id: serviceRepositories.repositoryId })
                .from(serviceRepositories)
                .where(inArray(serviceRepositories.serviceId, serviceIds))
            ).map((r) => r.id);
    const fetched = await db
      .select({ row: changes, repository: repositories.name })
      .from(changes)
      .innerJoin(repositories, eq(repositories.id, changes.repositoryId))
      .where(
        and(
          repositoryIds === undefined
            ? undefined
            : repositoryIds.length === 0
              ? eq(changes.id, -1)
              : inArray(changes.repositoryId, repositoryIds),
          query.repository ? eq(repositories.name, query.repository) : undefined,
          after === undefined ? undefined : lt(changes.id, after),
          from ? gte(changes.committedAt, from) : undefined,
          to ? lt(changes.committedAt, to) : undefined,
        ),
      )
      .orderBy(desc(changes.id))
      .limit(query.limit + 1);
    const result = toPage(fetched, query.limit, (f) => f.row.id);
    return c.json({ items: await changeViews(db, result.items), next_cursor: result.next_cursor }, 200);
  },
);
