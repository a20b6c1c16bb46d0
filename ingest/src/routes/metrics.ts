import { createRoute, z } from "@hono/zod-openapi";
import { type Executor, computeBreakdown, computeMetrics, computeTimeseries, services, teams } from "@sluice/db";
import { and, asc, eq } from "drizzle-orm";
import type { Principal } from "../auth.ts";
import { requireScope } from "../auth.ts";
import { createRouter } from "../router.ts";
import { assertTeamAccess } from "../scope.ts";
import { errorResponses, json } from "../schemas.ts";
import { inIds, visibleServiceIds } from "./filters.ts";
import {
  Breakdown,
  MetricsObject,
  Timeseries,
  assertBucketCount,
  groupByQuery,
  intervalQuery,
  metricsQuery,
  resolveWindow,
} from "./metrics-schemas.ts";
import { teamIdBySlug } from "./teams.ts";

// The DORA numbers (SPEC 4 and 5.1). The definitions live in @sluice/db and docs/metrics.md;
// this router only resolves the scope a caller may see and the window.

export const metricsRouter = createRouter();

const scopeOf = (query: { team?: string | undefined; service?: string | undefined; environment?: string | undefined }) => ({
  team: query.team ?? null,
  service: query.service ?? null,
  environment: query.environment ?? null,
});

metricsRouter.openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    tags: ["metrics"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object(metricsQuery) },
    responses: { 200: json(MetricsObject, "the metrics of the scope over the window"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const window = resolveWindow(query, c.var.deps.clock());
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    const metrics = await computeMetrics(db, { ...window, serviceIds, environment: query.environment, benchmark: query.benchmark });
    return c.json({ scope: scopeOf(query), ...metrics }, 200);
  },
);

metricsRouter.openapi(
  createRoute({
    method: "get",
    path: "/metrics/timeseries",
    tags: ["metrics"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object({ ...metricsQuery, interval: intervalQuery }) },
    responses: {
      200: json(Timeseries, "buckets that tile the window from `from` on; the last one may be shorter"),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const window = resolveWindow(query, c.var.deps.clock());
    assertBucketCount(window, query.interval);
    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    const series = await computeTimeseries(db, {
      ...window,
      serviceIds,
      environment: query.environment,
      benchmark: query.benchmark,
      interval: query.interval,
    });
    return c.json(series, 200);
  },
);

metricsRouter.openapi(
  createRoute({
    method: "get",
    path: "/metrics/breakdown",
    tags: ["metrics"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: { query: z.object({ ...metricsQuery, group_by: groupByQuery }) },
    responses: { 200: json(Breakdown, "one metrics object per team or service"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { db } = c.var.deps.database;
    const window = resolveWindow(query, c.var.deps.clock());
    const groups = await breakdownGroups(db, c.var.principal, query);
    const metrics = await computeBreakdown(db, {
      ...window,
      groups: groups.map((g) => g.serviceIds),
      environment: query.environment,
      benchmark: query.benchmark,
    });
    const items = groups.map((group, i) => ({
      scope: { team: group.team, service: group.service, environment: query.environment ?? null },
      ...(metrics[i] as NonNullable<(typeof metrics)[number]>),
    }));
    return c.json({ group_by: query.group_by, items }, 200);
  },
);

export interface Group {
  team: string | null;
  service: string | null;
  serviceIds: number[];
}

/**
 * The groups a caller may see: every visible service, or every visible team (also one with no
 * services yet, so a report lists it) plus, when unteamed services exist, a group with team null.
 */
export async function breakdownGroups(
  db: Executor,
  principal: Principal,
  query: { team?: string | undefined; service?: string | undefined; group_by: "team" | "service" },
): Promise<Group[]> {
  const serviceIds = await visibleServiceIds(db, principal, query);
  const found = await db
    .select({ id: services.id, slug: services.slug, team: teams.slug })
    .from(services)
    .leftJoin(teams, eq(teams.id, services.teamId))
    .where(inIds(services.id, serviceIds))
    .orderBy(asc(services.slug));
  if (query.group_by === "service") {
    return found.map((s) => ({ team: s.team, service: s.slug, serviceIds: [s.id] }));
  }

  const byTeam = new Map<string | null, number[]>();
  if (!query.service) {
    const teamId = query.team ? await teamIdBySlug(db, query.team) : principal.teamId;
    if (teamId !== null) assertTeamAccess(principal, teamId);
    const listed = await db
      .select({ slug: teams.slug })
      .from(teams)
      .where(and(teamId === null ? undefined : eq(teams.id, teamId)))
      .orderBy(asc(teams.slug));
    for (const team of listed) byTeam.set(team.slug, []);
  }
  for (const s of found) byTeam.set(s.team, [...(byTeam.get(s.team) ?? []), s.id]);
  const keys = [...byTeam.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
  return keys.map((team) => ({ team, service: null, serviceIds: byTeam.get(team) ?? [] }));
}
