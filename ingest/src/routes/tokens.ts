import { createRoute, z } from "@hono/zod-openapi";
import { TOKEN_SCOPES, apiTokens, teams } from "@sluice/db";
import { desc, eq, lt, sql } from "drizzle-orm";
import { generateToken, hashToken, requireAnyToken, requireScope } from "../auth.ts";
import { badRequest, notFound } from "../errors.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page, slug } from "../schemas.ts";
import { teamIdBySlug } from "./teams.ts";

const CreateToken = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z
      .array(z.enum(TOKEN_SCOPES))
      .min(1)
      .refine((s) => new Set(s).size === s.length, "must not repeat a scope"),
    team: slug.nullish().openapi({ description: "limit the token to this team's services" }),
  })
  .openapi("CreateToken");

const Token = z
  .object({
    id: z.number().int(),
    name: z.string(),
    scopes: z.array(z.enum(TOKEN_SCOPES)),
    team: z.string().nullable(),
    prefix: z.string().openapi({ description: "the first characters of the secret, to tell tokens apart" }),
    created_at: isoDateTime,
    last_used_at: isoDateTime.nullable(),
    revoked_at: isoDateTime.nullable(),
  })
  .openapi("Token");

const CreatedToken = Token.extend({
  token: z.string().openapi({ description: "the secret; shown once, never again" }),
}).openapi("CreatedToken");

const columns = {
  id: apiTokens.id,
  name: apiTokens.name,
  scopes: apiTokens.scopes,
  team: teams.slug,
  prefix: apiTokens.prefix,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

interface TokenRow {
  id: number;
  name: string;
  scopes: (typeof TOKEN_SCOPES)[number][];
  team: string | null;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const toToken = (row: TokenRow) => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  team: row.team,
  prefix: row.prefix,
  created_at: row.createdAt.toISOString(),
  last_used_at: row.lastUsedAt?.toISOString() ?? null,
  revoked_at: row.revokedAt?.toISOString() ?? null,
});

const Self = z
  .object({
    name: z.string(),
    scopes: z.array(z.enum(TOKEN_SCOPES)),
    team: z.string().nullable(),
    id: z.number().int().nullable().openapi({ description: "null for SLUICE_ADMIN_TOKEN" }),
  })
  .openapi("TokenSelf");

export const tokensRouter = createRouter();

// Any valid token may ask what it is (the dashboard shows edit controls only to admins).
tokensRouter.openapi(
  createRoute({
    method: "get",
    path: "/tokens/self",
    tags: ["tokens"],
    security: [{ bearer: [] }],
    middleware: [requireAnyToken] as const,
    responses: { 200: json(Self, "the calling token: name, scopes, team"), ...errorResponses(401) },
  }),
  async (c) => {
    const principal = c.var.principal;
    const team = principal.teamId === null ? null : ((await c.var.deps.database.db.select({ slug: teams.slug }).from(teams).where(eq(teams.id, principal.teamId)))[0]?.slug ?? null);
    return c.json({ id: principal.tokenId, name: principal.name, scopes: principal.scopes, team }, 200);
  },
);

tokensRouter.openapi(
  createRoute({
    method: "post",
    path: "/tokens",
    tags: ["tokens"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { body: jsonBody(CreateToken) },
    responses: { 201: json(CreatedToken, "the token, with its secret shown this once"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const { db } = c.var.deps.database;
    if (input.team && input.scopes.includes("admin")) {
      throw badRequest("an admin token cannot be limited to a team", [
        { field: "team", message: "must be omitted for a token with the admin scope" },
      ]);
    }
    const teamId = input.team ? await teamIdBySlug(db, input.team) : null;
    const token = generateToken();
    const [row] = await db
      .insert(apiTokens)
      .values({
        name: input.name,
        scopes: input.scopes,
        teamId,
        tokenHash: hashToken(token),
        prefix: token.slice(0, 8),
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return c.json({ ...toToken({ ...row, team: input.team ?? null }), token }, 201);
  },
);

tokensRouter.openapi(
  createRoute({
    method: "get",
    path: "/tokens",
    tags: ["tokens"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { query: z.object(listQuery) },
    responses: { 200: json(page(Token), "tokens, newest first, without their secrets"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const fetched = await c.var.deps.database.db
      .select(columns)
      .from(apiTokens)
      .leftJoin(teams, eq(teams.id, apiTokens.teamId))
      .where(after === undefined ? undefined : lt(apiTokens.id, after))
      .orderBy(desc(apiTokens.id))
      .limit(limit + 1);
    const result = toPage(fetched, limit, (row) => row.id);
    return c.json({ items: result.items.map(toToken), next_cursor: result.next_cursor }, 200);
  },
);

tokensRouter.openapi(
  createRoute({
    method: "delete",
    path: "/tokens/{id}",
    tags: ["tokens"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { params: z.object({ id: z.coerce.number().int().positive() }) },
    responses: { 204: { description: "revoked; takes effect on the next request" }, ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { db } = c.var.deps.database;
    const revoked = await db
      .update(apiTokens)
      .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, ${c.var.deps.clock().toISOString()}::timestamptz)` })
      .where(eq(apiTokens.id, id))
      .returning({ id: apiTokens.id });
    if (revoked.length === 0) throw notFound("token");
    return c.body(null, 204);
  },
);
