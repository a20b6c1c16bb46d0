import type { Benchmark } from "./api-types.ts";
import { DEFAULT_BENCHMARK, isBenchmark } from "./levels.ts";

/**
 * The period a page shows, as it lives in the URL so a view can be shared:
 * `?from=2026-05-01&to=2026-05-30&benchmark=2024`, with `to` the last day shown (inclusive).
 * The API's window is [from, to) in UTC, so it gets the day after `to`.
 */
export interface ViewWindow {
  /** First day shown, YYYY-MM-DD. */
  from: string;
  /** Last day shown, YYYY-MM-DD (inclusive). */
  to: string;
  days: number;
  /** 7, 30 or 90 when the window is that preset ending today; else "custom". */
  preset: Preset | "custom";
  benchmark: Benchmark;
  /** What the API takes: ISO instants, [from, to). */
  api: { from: string; to: string; benchmark: Benchmark };
}

export const PRESETS = [7, 30, 90] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_PRESET: Preset = 30;
const MAX_DAYS = 3 * 366;
const DAY_MS = 86_400_000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const toDay = (d: Date) => d.toISOString().slice(0, 10);
const parseDay = (value: string | null): Date | null => {
  if (!value || !DATE.test(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || toDay(d) !== value ? null : d;
};

/** The N whole days ending with today (UTC). */
export function presetRange(days: number, now: Date = new Date()): { from: string; to: string } {
  const today = new Date(`${toDay(now)}T00:00:00Z`);
  return { from: toDay(new Date(today.getTime() - (days - 1) * DAY_MS)), to: toDay(today) };
}

export function parseWindow(params: URLSearchParams, now: Date = new Date()): ViewWindow {
  const benchmark = isBenchmark(params.get("benchmark")) ? (params.get("benchmark") as Benchmark) : DEFAULT_BENCHMARK;
  let from = parseDay(params.get("from"));
  let to = parseDay(params.get("to"));
  if (!from || !to || from > to || (to.getTime() - from.getTime()) / DAY_MS >= MAX_DAYS) {
    const range = presetRange(DEFAULT_PRESET, now);
    from = parseDay(range.from) as Date;
    to = parseDay(range.to) as Date;
  }
  const days = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  const today = toDay(now);
  const preset = PRESETS.find((n) => n === days && toDay(to) === today) ?? "custom";
  return {
    from: toDay(from),
    to: toDay(to),
    days,
    preset,
    benchmark,
    api: {
      from: from.toISOString(),
      to: new Date(to.getTime() + DAY_MS).toISOString(),
      benchmark,
    },
  };
}

/** The query string of a window (and any extra parameters), for links that keep the view. */
export function windowQuery(
  window: Pick<ViewWindow, "from" | "to" | "benchmark">,
  extra: Record<string, string | undefined> = {},
): string {
  const params = new URLSearchParams({ from: window.from, to: window.to, benchmark: window.benchmark });
  for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
  return `?${params.toString()}`;
}

/** Timeseries interval that gives a readable number of points for the window. */
export function intervalFor(days: number): "day" | "week" | "month" {
  if (days <= 14) return "day";
  if (days <= 200) return "week";
  return "month";
}
