import { z } from "@hono/zod-openapi";
import { BENCHMARKS, LEVELS, bucketCount, type Interval, yearsBefore } from "@sluice/db";
import { badRequest } from "../errors.ts";
import { isoDateTime, slug } from "../schemas.ts";

/** Longest window and most buckets a request may ask for (SPEC 5: a bad window is a 400). */
export const MAX_WINDOW_YEARS = 3;
export const MAX_BUCKETS = 1100;
const DEFAULT_WINDOW_DAYS = 30;

export const metricsQuery = {
  team: slug.optional(),
  service: slug.optional(),
  environment: z.string().trim().min(1).max(200).optional().openapi({
    description: "only production deployments in this environment (incidents have none: time to restore stays per service)",
  }),
  from: isoDateTime.optional().openapi({ description: "window start, inclusive; default: 30 days before `to`" }),
  to: isoDateTime.optional().openapi({ description: "window end, exclusive; default: now" }),
  benchmark: z.enum(BENCHMARKS).default("2024").openapi({ description: "the DORA report the levels are read against" }),
};

export const intervalQuery = z.enum(["day", "week", "month"]).default("week");
export const groupByQuery = z.enum(["team", "service"]);

/** The window of a request: [from, to), by default the 30 days ending now. */
export function resolveWindow(query: { from?: string | undefined; to?: string | undefined }, now: Date) {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000);
  if (from >= to) throw badRequest("the window is empty", [{ field: "from", message: "must be before to" }]);
  if (from < yearsBefore(to, MAX_WINDOW_YEARS)) {
    throw badRequest("the window is too long", [{ field: "from", message: `must be at most ${MAX_WINDOW_YEARS} years before to` }]);
  }
  return { from, to };
}

export function assertBucketCount(window: { from: Date; to: Date }, interval: Interval) {
  const count = bucketCount(window.from, window.to, interval);
  if (count > MAX_BUCKETS) {
    throw badRequest("too many buckets", [
      { field: "interval", message: `the window holds ${count} ${interval} buckets; at most ${MAX_BUCKETS}` },
    ]);
  }
}

const level = z.enum(LEVELS).nullable();
const seconds = z.number().nullable();

const metricsFields = {
  window: z.object({ from: isoDateTime, to: isoDateTime, days: z.number() }),
  benchmark: z.enum(BENCHMARKS),
  deployment_frequency: z.object({
    deployments: z.number().int(),
    per_day: z.number(),
    per_week: z.number(),
    deploy_days: z.number().int(),
    median_deploy_days_per_week: z.number(),
    level,
  }),
  lead_time: z.object({
    changes: z.number().int(),
    median_seconds: seconds,
    p75_seconds: seconds,
    p90_seconds: seconds,
    level,
    breakdown: z.object({
      pull_requests: z.number().int(),
      coding_median_seconds: seconds,
      review_median_seconds: seconds,
      deploy_median_seconds: seconds,
    }),
  }),
  change_failure_rate: z.object({ deployments: z.number().int(), failed: z.number().int(), rate: z.number().nullable(), level }),
  recovery_time: z.object({
    failures: z.number().int(),
    recovered: z.number().int(),
    median_seconds: seconds,
    p90_seconds: seconds,
    level,
  }),
  time_to_restore: z.object({ incidents: z.number().int(), median_seconds: seconds, p90_seconds: seconds, level }),
  rework_rate: z.object({ deployments: z.number().int(), rework: z.number().int(), rate: z.number().nullable() }),
  level,
};

const Scope = z.object({ team: z.string().nullable(), service: z.string().nullable(), environment: z.string().nullable() });

export const MetricsObject = z
  .object({ scope: Scope, ...metricsFields })
  .openapi("Metrics", { description: "SPEC 5.1; every definition is in docs/metrics.md" });

export const Timeseries = z
  .object({
    interval: intervalQuery,
    buckets: z.array(z.object({ start: isoDateTime, ...metricsFields })),
  })
  .openapi("MetricsTimeseries");

export const Breakdown = z
  .object({ group_by: groupByQuery, items: z.array(MetricsObject) })
  .openapi("MetricsBreakdown");
