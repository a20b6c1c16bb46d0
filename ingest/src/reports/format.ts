import type { Level } from "@sluice/db";

/** "1 h 30 min", "2 d 4 h", "45 s": the two largest units, for people rather than parsers. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "no data";
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3_600],
    ["min", 60],
    ["s", 1],
  ];
  let rest = Math.round(seconds);
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (rest >= size || (name === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** "37.5 %"; null for no data. */
export function formatRate(rate: number | null): string {
  return rate === null ? "no data" : `${(Math.round(rate * 1000) / 10).toString()} %`;
}

export function formatNumber(value: number, digits = 1): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** Levels are printed as words (never colour alone), so a black-and-white print keeps them. */
export function formatLevel(level: Level | null): string {
  return level === null ? "no data" : level.toUpperCase();
}

/** "+12 %" / "-3 %" change against the previous period, or "n/a". */
export function formatChange(current: number | null, previous: number | null): string {
  if (current === null || previous === null || previous === 0) return "n/a";
  const change = ((current - previous) / previous) * 100;
  return `${change >= 0 ? "+" : ""}${Math.round(change)} %`;
}
