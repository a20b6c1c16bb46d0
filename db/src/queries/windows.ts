// Windows and buckets of the metric queries. A window is [from, to) in UTC (SPEC 4).

export type Interval = "day" | "week" | "month";

const DAY_MS = 86_400_000;

/** Whole calendar months after `from`, UTC, with the day of month clamped (Jan 31 + 1 = Feb 28). */
function addMonths(from: Date, months: number): Date {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(from);
  result.setUTCFullYear(year, month, Math.min(from.getUTCDate(), lastDay));
  return result;
}

/** The n-th boundary after `from`, always counted from `from` so months do not drift. */
function boundary(from: Date, interval: Interval, n: number): Date {
  if (interval === "month") return addMonths(from, n);
  return new Date(from.getTime() + n * (interval === "week" ? 7 : 1) * DAY_MS);
}

/** How many buckets tile [from, to): the last one may be cut short at `to`. */
export function bucketCount(from: Date, to: Date, interval: Interval): number {
  if (interval !== "month") {
    const size = (interval === "week" ? 7 : 1) * DAY_MS;
    return Math.ceil((to.getTime() - from.getTime()) / size);
  }
  let n = 0;
  while (boundary(from, "month", n) < to) n++;
  return n;
}

/** Bucket start times: the buckets tile [from, to) exactly, starting at `from`. */
export function bucketStarts(from: Date, to: Date, interval: Interval): Date[] {
  const starts: Date[] = [];
  for (let n = 0; ; n++) {
    const start = boundary(from, interval, n);
    if (start >= to) return starts;
    starts.push(start);
  }
}

/** The date `years` calendar years before `to` (UTC), for the longest window allowed. */
export function yearsBefore(to: Date, years: number): Date {
  return addMonths(to, -12 * years);
}

export const windowDays = (from: Date, to: Date) => (to.getTime() - from.getTime()) / DAY_MS;
