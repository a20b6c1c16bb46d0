import { formatNumber } from "../format.ts";

/**
 * Durations are charted in one readable unit (minutes, hours or days) so the axis ticks are
 * round numbers of it; tooltips and tables still print the exact duration.
 */
export function durationUnit(values: Array<number | null | undefined>): { seconds: number; suffix: string } {
  const max = Math.max(0, ...values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  if (max < 2 * 3600) return { seconds: 60, suffix: "min" };
  if (max < 3 * 86_400) return { seconds: 3600, suffix: "h" };
  return { seconds: 86_400, suffix: "d" };
}

export const unitTick = (suffix: string) => (value: number | null) =>
  value === null ? "" : `${formatNumber(value, 1)} ${suffix}`;
