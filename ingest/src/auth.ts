import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Database, type TokenScope, apiTokens } from "@sluice/db";
import { and, eq, isNull } from "drizzle-orm";
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
}

const TOKEN_PREFIX = "slc_";

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString("base64url");
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
export function createAuthenticator(options: { database: Database; adminToken: string | undefined }) {
  const lastUsedWrites = new Map<number, number>();

  return async function authenticate(header: string | undefined): Promise<Principal | null> {
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match?.[1]) return null;
    const token = match[1];
    if (options.adminToken && secretsEqual(token, options.adminToken)) {
      return { tokenId: null, name: "SLUICE_ADMIN_TOKEN", scopes: ["admin"], teamId: null };
    }
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
