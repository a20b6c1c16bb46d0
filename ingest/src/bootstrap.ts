import { type Database, apiTokens, inTransaction } from "@sluice/db";
import { and, isNull, sql } from "drizzle-orm";
import { generateToken, hashToken } from "./auth.ts";

const BOOTSTRAP_LOCK_KEY = 7_305_158_114_201_902n;

/**
 * With no SLUICE_ADMIN_TOKEN and no admin token stored, a first start must still let its
 * operator in: generate one admin token and hand it back to be printed once. Replicas
 * starting together take an advisory lock so only one token is made.
 */
export async function ensureAdminToken(database: Database, configured: string | undefined): Promise<string | null> {
  if (configured) return null;
  return inTransaction(database.db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY.toString()}::bigint)`);
    const [existing] = await tx
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(and(isNull(apiTokens.revokedAt), sql`'admin' = any(${apiTokens.scopes})`))
      .limit(1);
    if (existing) return null;
    const token = generateToken();
    await tx.insert(apiTokens).values({
      name: "bootstrap admin",
      scopes: ["admin"],
      tokenHash: hashToken(token),
      prefix: token.slice(0, 8),
    });
    return token;
  });
}
