import { createRoute, z } from "@hono/zod-openapi";
import { TOKEN_SCOPES, sessions } from "@sluice/db";
import { and, eq, lt, or, isNotNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { generateSessionSecret, hashToken, requireAnyToken } from "../auth.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json } from "../schemas.ts";

/**
 * Dashboard sessions. The dashboard signs in once with an API token and keeps only the
 * session's own secret in its cookie: the token never sits in the browser, and signing out
 * revokes the session here, so a copied cookie is dead afterwards.
 */

const SESSION_SECONDS = 7 * 86_400;
/** Ended or expired sessions are kept a day (for the audit of a sign-out), then dropped. */
const KEEP_ENDED_MS = 86_400_000;

const CreatedSession = z
  .object({
    session: z.string().openapi({ description: "the session's secret (sls_...); a bearer credential until it expires or is ended" }),
    expires_at: isoDateTime,
    name: z.string(),
    scopes: z.array(z.enum(TOKEN_SCOPES)),
  })
  .openapi("CreatedSession");

const withTokenItself = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.principal.sessionId !== undefined) {
    throw new ApiError({ status: 403, code: "forbidden", message: "a session cannot start another session; sign in with an API token" });
  }
  await next();
});

const withSession = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.principal.sessionId === undefined) {
    throw new ApiError({ status: 400, code: "invalid_request", message: "present the session (sls_...) to end it, not an API token" });
  }
  await next();
});

export const sessionsRouter = createRouter();

sessionsRouter.openapi(
  createRoute({
    method: "post",
    path: "/sessions",
    tags: ["sessions"],
    summary: "Start a dashboard session for the presented API token",
    security: [{ bearer: [] }],
    middleware: [requireAnyToken, withTokenItself] as const,
    responses: { 201: json(CreatedSession, "the session, with its secret shown this once"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const { principal, deps } = c.var;
    const now = deps.clock();
    const secret = generateSessionSecret();
    const expiresAt = new Date(now.getTime() + SESSION_SECONDS * 1000);
    const { db } = deps.database;
    await db
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, new Date(now.getTime() - KEEP_ENDED_MS)), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, new Date(now.getTime() - KEEP_ENDED_MS)))));
    await db.insert(sessions).values({
      tokenId: principal.tokenId,
      // SLUICE_ADMIN_TOKEN has no row; its session remembers which token it stood for.
      adminTokenHash: principal.tokenId === null && deps.config.adminToken ? hashToken(deps.config.adminToken) : null,
      sessionHash: hashToken(secret),
      expiresAt,
    });
    return c.json({ session: secret, expires_at: expiresAt.toISOString(), name: principal.name, scopes: principal.scopes }, 201);
  },
);

sessionsRouter.openapi(
  createRoute({
    method: "delete",
    path: "/sessions/current",
    tags: ["sessions"],
    summary: "End the presented dashboard session (sign out)",
    security: [{ bearer: [] }],
    middleware: [requireAnyToken, withSession] as const,
    responses: { 204: { description: "ended; the session's secret is refused from now on" }, ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { principal, deps } = c.var;
    await deps.database.db
      .update(sessions)
      .set({ revokedAt: deps.clock() })
      .where(eq(sessions.id, principal.sessionId as number));
    return c.body(null, 204);
  },
);
