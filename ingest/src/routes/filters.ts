import { z } from "@hono/zod-openapi";
import { type Db, services, settleDerivation } from "@sluice/db";
import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Principal } from "../auth.ts";
import { badRequest } from "../errors.ts";
import { assertTeamAccess } from "../scope.ts";
import { isoDateTime, slug } from "../schemas.ts";
import { teamIdBySlug } from "./teams.ts";
import { visibleService } from "./services.ts";

export const scopeQuery = {
  service: slug.optional(),
  team: slug.optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
};

export function timeRange(query: { from?: string | undefined; to?: string | undefined }) {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from >= to) {
    throw badRequest("the window is empty", [{ field: "from", message: "must be before to" }]);
  }
  return { from, to };
}

/**
 * The services a read may show: the one asked for, a team's, or all the caller may see
 * (undefined: no restriction). Called after authentication, it first derives what is still
 * queued for exactly those services (docs/operations.md "Derivation"), so the read sees every
 * write acknowledged before it and no other service's queue is touched.
 */
export async function visibleServiceIds(
  db: Db,
  principal: Principal,
  query: { service?: string | undefined; team?: string | undefined },
): Promise<number[] | undefined> {
  const ids = await idsInScope(db, principal, query);
  await settleDerivation(db, ids);
  return ids;
}

async function idsInScope(
  db: Db,
  principal: Principal,
  query: { service?: string | undefined; team?: string | undefined },
): Promise<number[] | undefined> {
  if (query.service) {
    const service = await visibleService(db, principal, query.service);
    return [service.id];
  }
  const conditions: SQL[] = [];
  if (query.team) {
    const teamId = await teamIdBySlug(db, query.team);
    assertTeamAccess(principal, teamId);
    conditions.push(eq(services.teamId, teamId));
  }
  if (principal.teamId !== null) conditions.push(eq(services.teamId, principal.teamId));
  if (conditions.length === 0) return undefined;
  const found = await db
    .select({ id: services.id })
    .from(services)
    .where(and(...conditions));
  return found.map((row) => row.id);
}

export const inIds = (column: Parameters<typeof inArray>[0], ids: number[] | undefined) =>
  ids === undefined ? undefined : ids.length === 0 ? eq(column, -1) : inArray(column, ids);

export const optionalBoolean = z
  .enum(["true", "false"])
  .transform((value) => value === "true")
  .optional();
