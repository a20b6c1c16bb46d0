import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Database, type TokenScope, apiTokens, sessions } from "@sluice/db";
import { and, eq, gt, isNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./context.ts";
import { forbidden, rateLimited, unauthorized } from "./errors.ts";

export interface Principal {
  /** null for the SLUICE_ADMIN_TOKEN from the environment. */
  tokenId: number | null;
  name: string;
  scopes: TokenScope[];
  /** A team-limited token sees and writes only this team's services. */
  teamId: number | null;
  /** Set when the caller presented a dashboard session (sls_...) instead of the token itself. */
  sessionId?: number;
}

const TOKEN_PREFIX = "slc_";
export const SESSION_PREFIX = "sls_";

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString("base64url");
}

export function generateSessionSecret(): string {
  return SESSION_PREFIX + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Equal-length digests compared in constant time, whatever the inputs' lengths. */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

export function hasScope(principal: Principal, scope: TokenScope): boolean {
  return principal.scopes.includes("admin") || principal.scopes.includes(scope);
}

const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/**
 * Resolves bearer tokens. Tokens are looked up by their SHA-256 (an attacker cannot
 * steer a digest's prefix, so the index lookup leaks nothing useful) and revocation
 * takes effect on the next request: there is deliberately no cache.
 */
export function createAuthenticator(options: { database: Database; adminToken: string | undefined; clock: () => Date }) {
  const lastUsedWrites = new Map<number, number>();
  const adminPrincipal = (): Principal => ({ tokenId: null, name: "SLUICE_ADMIN_TOKEN", scopes: ["admin"], teamId: null });

  /** A dashboard session stands for its token while both live; see the sessions table. */
  async function fromSession(secret: string): Promise<Principal | null> {
    const [row] = await options.database.db
      .select({
        id: sessions.id,
        adminTokenHash: sessions.adminTokenHash,
        tokenId: apiTokens.id,
        name: apiTokens.name,
        scopes: apiTokens.scopes,
        teamId: apiTokens.teamId,
        tokenRevokedAt: apiTokens.revokedAt,
      })
      .from(sessions)
      .leftJoin(apiTokens, eq(apiTokens.id, sessions.tokenId))
      .where(and(eq(sessions.sessionHash, hashToken(secret)), isNull(sessions.revokedAt), gt(sessions.expiresAt, options.clock())))
      .limit(1);
    if (!row) return null;
    if (row.adminTokenHash !== null) {
      // Signed in with SLUICE_ADMIN_TOKEN: valid only while the environment still holds that token.
      return options.adminToken && secretsEqual(hashToken(options.adminToken), row.adminTokenHash)
        ? { ...adminPrincipal(), sessionId: row.id }
        : null;
    }
    if (row.tokenId === null || row.scopes === null || row.name === null || row.tokenRevokedAt !== null) return null;
    return { tokenId: row.tokenId, name: row.name, scopes: row.scopes, teamId: row.teamId, sessionId: row.id };
  }

  return async function authenticate(header: string | undefined): Promise<Principal | null> {
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match?.[1]) return null;
    const token = match[1];
    if (options.adminToken && secretsEqual(token, options.adminToken)) return adminPrincipal();
    if (token.startsWith(SESSION_PREFIX)) return fromSession(token);
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const [row] = await options.database.db
      .select({ id: apiTokens.id, name: apiTokens.name, scopes: apiTokens.scopes, teamId: apiTokens.teamId })
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)))
      .limit(1);
    if (!row) return null;
    const now = Date.now();
    if (now - (lastUsedWrites.get(row.id) ?? 0) > LAST_USED_WRITE_INTERVAL_MS) {
      lastUsedWrites.set(row.id, now);
      await options.database.db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, row.id));
    }
    return { tokenId: row.id, name: row.name, scopes: row.scopes, teamId: row.teamId };
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

/** Requires a valid token with `scope` (admin implies every scope). */
export function requireScope(scope: TokenScope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await c.var.deps.authenticate(c.req.header("authorization"));
    if (!principal) throw unauthorized();
    if (!hasScope(principal, scope)) throw forbidden(`this token lacks the "${scope}" scope`);
    if (principal.tokenId !== null && !principal.scopes.includes("admin")) {
      const wait = c.var.deps.tokenLimiter.take(`token:${principal.tokenId}`);
      if (wait !== null) throw rateLimited(wait);
    }
    c.set("principal", principal);
    await next();
  });
}

/** Any valid token, whatever its scopes (for a token asking about itself). */
export const requireAnyToken = createMiddleware<AppEnv>(async (c, next) => {
  const principal = await c.var.deps.authenticate(c.req.header("authorization"));
  if (!principal) throw unauthorized();
  c.set("principal", principal);
  await next();
});
