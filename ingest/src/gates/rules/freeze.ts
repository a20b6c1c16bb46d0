import { DAY_MS, parseInstant } from "../cron-calendar.ts";
import { type Schedule, scheduleFor } from "../cron-schedule.ts";
import { formatDuration } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";

type Recurring = RuleOf<"freeze">["recurring"][number];

interface RecurringWindows {
  entry: Recurring;
  schedule: Schedule;
  duration: number;
  /** Following windows: this entry has no run after the last instant asked about until this one. */
  quietUntil: number;
}

/** How far ahead "the next one starts at" looks: a yearly window is always found. */
const LOOKAHEAD_MS = 400 * DAY_MS;

/**
 * Searches (a recurring entry's latest or next run, about a microsecond each) that following
 * windows which run into each other may make in one evaluation. Calendars people write chain a few
 * windows (a weekend into a holiday), and an entry with no run for a while is not asked again until
 * then; past the budget (a window every minute, each lasting longer than a minute, runs into the
 * next forever) the rule still answers pending, "until at least" the end it reached, and is asked
 * again then. With it a rule at the limits costs well under a millisecond (SPEC 7 v2: a gate of 50
 * under 50 ms of CPU; test/bench/gates.ts measures it).
 */
const CHAIN_SEARCHES = 128;

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function recurringLabel(entry: Recurring) {
  return `recurring "${entry.cron}" in ${entry.timezone} for ${formatDuration(entry.duration_seconds)}`;
}

/**
 * Each window's start and end as instants, parsed once per rules object: evaluate.ts keeps a gate
 * version's parsed rules, so a gate of 50 rules of 500 windows is not parsed 25,000 times a call.
 */
const parsedWindows = new WeakMap<object, Float64Array>();

function instants(windows: RuleOf<"freeze">["windows"]): Float64Array {
  let parsed = parsedWindows.get(windows);
  if (!parsed) {
    parsed = new Float64Array(windows.length * 2);
    windows.forEach((window, index) => {
      (parsed as Float64Array)[2 * index] = parseInstant(window.start);
      (parsed as Float64Array)[2 * index + 1] = parseInstant(window.end);
    });
    parsedWindows.set(windows, parsed);
  }
  return parsed;
}

/**
 * The fixed windows that have not ended at `at`, as blocks: sorted, with windows that overlap or
 * touch merged, so one binary search finds the block holding an instant. Starts and ends are sorted
 * apart (typed arrays sort natively) and swept: a block lasts while a window is open.
 */
class Blocks {
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** The first window in the rule's order that holds `at`. */
  label: string | null = null;
  nextStart = Number.POSITIVE_INFINITY;

  constructor(windows: RuleOf<"freeze">["windows"], at: number) {
    const starts = new Float64Array(windows.length);
    const ends = new Float64Array(windows.length);
    const parsed = instants(windows);
    let count = 0;
    for (const [index, window] of windows.entries()) {
      const end = parsed[2 * index + 1] as number;
      if (!(end > at)) continue;
      const start = parsed[2 * index] as number;
      if (!(start < end)) continue;
      if (start <= at) this.label ??= `${window.start} to ${window.end}`;
      else if (start < this.nextStart) this.nextStart = start;
      starts[count] = start;
      ends[count] = end;
      count++;
    }
    const opening = starts.subarray(0, count).sort();
    const closing = ends.subarray(0, count).sort();
    let [open, closed, active, blockStart] = [0, 0, 0, 0];
    while (open < count) {
      // A window starting where another ends continues the block: starts go first.
      if ((opening[open] as number) <= (closing[closed] as number)) {
        if (active++ === 0) blockStart = opening[open] as number;
        open++;
      } else {
        if (--active === 0) this.push(blockStart, closing[closed] as number);
        closed++;
      }
    }
    if (count > 0) this.push(blockStart, closing[count - 1] as number);
  }

  private push(start: number, end: number) {
    this.starts.push(start);
    this.ends.push(end);
  }

  /** The end of the block holding `at`, or -Infinity. */
  endAt(at: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.ends[middle] as number) <= at) low = middle + 1;
      else if ((this.starts[middle] as number) > at) high = middle - 1;
      else return this.ends[middle] as number;
    }
    return Number.NEGATIVE_INFINITY;
  }
}

/** The end of the latest recurring window holding `at` (it started at the latest run at or before `at`), or -Infinity. */
function recurringEnd(recurring: RecurringWindows, at: number): number {
  const start = recurring.schedule.latest(at, at - recurring.duration + 1);
  return start === null ? Number.NEGATIVE_INFINITY : start + recurring.duration;
}

/**
 * SPEC 7 freeze: inside a window = pending until it (and any window it runs into) ends.
 * A recurring window starts at each cron run in its time zone and lasts duration_seconds of real
 * time (cron-schedule.ts: croner's meaning, found in bounded time; a stored cron that never
 * fires, saved before such crons were refused, has no windows).
 */
export function freeze(rule: RuleOf<"freeze">, now: Date): Verdict {
  const at = now.getTime();
  const blocks = new Blocks(rule.windows, at);
  let { label, nextStart } = blocks;
  const recurring: RecurringWindows[] = [];
  for (const entry of rule.recurring) {
    const schedule = scheduleFor(entry.cron, entry.timezone);
    if (schedule) recurring.push({ entry, schedule, duration: entry.duration_seconds * 1000, quietUntil: at });
  }

  let end = blocks.endAt(at);
  for (const windows of recurring) {
    const windowEnd = recurringEnd(windows, at);
    if (windowEnd > at) label ??= recurringLabel(windows.entry);
    end = Math.max(end, windowEnd);
  }

  if (label === null) {
    for (const { schedule } of recurring) {
      const start = schedule.earliest(at, Math.min(nextStart, at + LOOKAHEAD_MS));
      if (start !== null) nextStart = start;
    }
    return {
      status: "pass",
      observed: null,
      threshold: null,
      message: `No freeze is in effect${Number.isFinite(nextStart) ? `; the next one starts at ${iso(nextStart)}.` : "."}`,
    };
  }

  let searches = 0;
  let exact = true;
  chain: for (;;) {
    let next = blocks.endAt(end);
    for (const windows of recurring) {
      if (windows.quietUntil > end) continue;
      if (searches >= CHAIN_SEARCHES) {
        exact = false;
        break chain;
      }
      searches++;
      const windowEnd = recurringEnd(windows, end);
      if (windowEnd > end) {
        next = Math.max(next, windowEnd);
      } else {
        // No window of this entry holds `end`, and none will before its next run.
        searches++;
        windows.quietUntil = windows.schedule.earliest(end, end + LOOKAHEAD_MS) ?? end + LOOKAHEAD_MS;
      }
    }
    if (next <= end) break;
    end = next;
  }
  const seconds = Math.ceil((end - at) / 1000);
  const until = exact ? `until ${iso(end)}` : `until at least ${iso(end)}, running into further windows`;
  return {
    status: "pending",
    observed: iso(end),
    threshold: null,
    retry_after_seconds: seconds,
    message: `A freeze (${label}) is in effect ${until}; promotion waits ${exact ? "" : "at least "}${formatDuration(seconds)}.`,
  };
}
