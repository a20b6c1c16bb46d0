import { setImmediate as turn } from "node:timers/promises";
import { type Benchmark, type Executor, type Metrics, computeBreakdown, computeTimeseries } from "@sluice/db";

export interface ReportGroup {
  team: string | null;
  service: string | null;
  serviceIds: number[];
}

export interface Section {
  group: ReportGroup;
  metrics: Metrics;
  /** Trend buckets over the period (PDF only). */
  series?: Array<Metrics & { start: string }>;
}

const CHUNK = 25;
const HALF_YEAR_DAYS = 182;

/**
 * A report's groups, computed a chunk at a time so that a report of hundreds of services is
 * written out as it is computed instead of being held whole in memory (issue 7). After every
 * statement the event loop gets a turn: on PGlite a statement runs on this thread and its
 * promise settles at once, so without one a whole report would run as one unbroken task.
 */
export async function* reportSections(options: {
  db: Executor;
  groups: ReportGroup[];
  from: Date;
  to: Date;
  environment?: string | undefined;
  benchmark: Benchmark;
  withSeries: boolean;
}): AsyncGenerator<Section> {
  const { db, from, to, environment, benchmark } = options;
  const interval = (to.getTime() - from.getTime()) / 86_400_000 > HALF_YEAR_DAYS ? "month" : "week";
  for (let i = 0; i < options.groups.length; i += CHUNK) {
    const chunk = options.groups.slice(i, i + CHUNK);
    const metrics = await computeBreakdown(db, { from, to, environment, benchmark, groups: chunk.map((g) => g.serviceIds) });
    await turn();
    for (const [j, group] of chunk.entries()) {
      const series = options.withSeries
        ? (await computeTimeseries(db, { from, to, environment, benchmark, serviceIds: group.serviceIds, interval })).buckets
        : undefined;
      if (series) await turn();
      yield { group, metrics: metrics[j] as Metrics, ...(series ? { series } : {}) };
    }
  }
}
