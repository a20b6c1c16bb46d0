/** How the dashboard writes numbers: the API gives seconds and 0..1 rates; people read these. */

export const NONE = "—";

const trim = (value: number, digits: number) => {
  const fixed = value.toFixed(digits);
  return fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
};

/** 1234.5 -> "1,234.5"; digits is the most shown after the point. */
export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const rounded = Number(trim(value, digits));
  return rounded.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/**
 * Seconds as the two most significant units: 45 -> "45 s", 5400 -> "1 h 30 min",
 * 273600 -> "3 d 4 h". The smaller unit is rounded, so a value never reads longer than it is
 * by more than half that unit.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  const sign = seconds < 0 ? "-" : "";
  const total = Math.abs(seconds);
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    `${sign}${big} ${bigUnit}${small ? ` ${small} ${smallUnit}` : ""}`;

  const s = Math.round(total);
  if (s < 60) return `${sign}${s} s`;
  if (s < 3600) return pair(Math.floor(s / 60), "min", s % 60, "s");
  const minutes = Math.round(total / 60);
  if (minutes < 24 * 60) return pair(Math.floor(minutes / 60), "h", minutes % 60, "min");
  const hours = Math.round(total / 3600);
  return pair(Math.floor(hours / 24), "d", hours % 24, "h");
}

/** 0.375 -> "37.5 %", 0.2 -> "20 %"; null (no data) -> "—". */
export function formatRate(rate: number | null | undefined, digits = 1): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return NONE;
  return `${trim(rate * 100, digits)} %`;
}

/**
 * Deployment frequency in the unit that reads best: "1.4 / day" when daily, else
 * "3 / week", else "2 / month" (30 days).
 */
export function formatFrequency(perDay: number | null | undefined): string {
  if (perDay === null || perDay === undefined || !Number.isFinite(perDay)) return NONE;
  if (perDay === 0) return "0 / week";
  if (perDay >= 1) return `${trim(perDay, 1)} / day`;
  if (perDay * 7 >= 1) return `${trim(perDay * 7, 1)} / week`;
  return `${trim(perDay * 30, 1)} / month`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-06-15" in UTC (all Sluice times are UTC). */
export function formatDate(iso: string | Date | null | undefined): string {
  if (!iso) return NONE;
  const d = typeof iso === "string" ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return NONE;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** "2026-06-15 12:04 UTC". */
export function formatDateTime(iso: string | Date | null | undefined): string {
  if (!iso) return NONE;
  const d = typeof iso === "string" ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return NONE;
  return `${formatDate(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** "3 h ago" style, from the duration since `iso`. */
export function formatAge(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const seconds = (now.getTime() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) return NONE;
  if (seconds < 60) return "just now";
  return `${formatDuration(seconds).split(" ").slice(0, 2).join(" ")} ago`;
}

export const shortSha = (sha: string | null | undefined) => (sha ? sha.slice(0, 7) : NONE);

/** "1 deployment", "3 deployments". */
export const plural = (count: number, one: string, many = `${one}s`) =>
  `${formatNumber(count, 0)} ${count === 1 ? one : many}`;
