import type { Benchmark, Level } from "./api-types.ts";

export const LEVELS: readonly Level[] = ["elite", "high", "medium", "low"];
export const BENCHMARKS: readonly Benchmark[] = ["2024", "2023", "2021"];
export const DEFAULT_BENCHMARK: Benchmark = "2024";

export const LEVEL_LABEL: Record<Level, string> = {
  elite: "Elite",
  high: "High",
  medium: "Medium",
  low: "Low",
};

/** Higher is better; null (no data) sorts last. */
export function levelRank(level: Level | null | undefined): number {
  return level ? LEVELS.length - LEVELS.indexOf(level) : 0;
}

export const isBenchmark = (value: string | null | undefined): value is Benchmark =>
  value === "2021" || value === "2023" || value === "2024";
