import { Cron } from "croner";
import { formatDuration } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";

interface Window {
  start: number;
  end: number;
  label: string;
}

/** Enough hops to cross back-to-back windows (a weekend freeze running into a holiday). */
const MAX_CHAIN = 1_000;

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function recurringLabel(entry: RuleOf<"freeze">["recurring"][number]) {
  return `recurring "${entry.cron}" in ${entry.timezone} for ${formatDuration(entry.duration_seconds)}`;
}

/**
 * The windows of the rule that contain `at`. A recurring window starts at each cron run
 * (in its time zone, so 18:00 in Berlin is 17:00 UTC in winter and 16:00 in summer,
 * and croner moves a run that falls into a spring-forward gap to the first valid minute)
 * and lasts duration_seconds of real time. The latest run at or before `at` has the
 * latest end, so it is the only one that needs checking.
 */
function windowsAt(rule: RuleOf<"freeze">, crons: Cron[], at: number): Window[] {
  const found: Window[] = [];
  for (const window of rule.windows) {
    const start = Date.parse(window.start);
    const end = Date.parse(window.end);
    if (start <= at && at < end) found.push({ start, end, label: `${window.start} to ${window.end}` });
  }
  rule.recurring.forEach((entry, index) => {
    const cron = crons[index];
    // previousRuns excludes its reference instant; a run exactly at `at` counts.
    const [last] = cron ? cron.previousRuns(1, new Date(at + 1)) : [];
    if (!last) return;
    const start = last.getTime();
    const end = start + entry.duration_seconds * 1000;
    if (start <= at && at < end) found.push({ start, end, label: recurringLabel(entry) });
  });
  return found;
}

function nextStart(rule: RuleOf<"freeze">, crons: Cron[], after: number): number | null {
  const starts = rule.windows.map((w) => Date.parse(w.start)).filter((start) => start > after);
  for (const cron of crons) {
    const next = cron.nextRun(new Date(after));
    if (next) starts.push(next.getTime());
  }
  return starts.length > 0 ? Math.min(...starts) : null;
}

/** SPEC 7 freeze: inside a window = pending until it (and any window it runs into) ends. */
export function freeze(rule: RuleOf<"freeze">, now: Date): Verdict {
  const crons = rule.recurring.map((entry) => new Cron(entry.cron, { timezone: entry.timezone, paused: true }));
  const at = now.getTime();
  const current = windowsAt(rule, crons, at);
  if (current.length === 0) {
    const next = nextStart(rule, crons, at);
    return {
      status: "pass",
      observed: null,
      threshold: null,
      message: `No freeze is in effect${next === null ? "." : `; the next one starts at ${iso(next)}.`}`,
    };
  }
  let end = Math.max(...current.map((w) => w.end));
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const following = windowsAt(rule, crons, end);
    if (following.length === 0) break;
    end = Math.max(...following.map((w) => w.end));
  }
  const seconds = Math.ceil((end - at) / 1000);
  const first = current[0] as Window;
  return {
    status: "pending",
    observed: iso(end),
    threshold: null,
    retry_after_seconds: seconds,
    message: `A freeze (${first.label}) is in effect until ${iso(end)}; promotion waits ${formatDuration(seconds)}.`,
  };
}
