// Performance levels (SPEC 4.1). DORA's published clusters overlap and leave gaps, so Sluice
// classifies with the monotonic cut-offs below; docs/metrics.md "Performance levels" gives
// the report each row comes from and why each cut-off sits where it does.

export const BENCHMARKS = ["2021", "2023", "2024"] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

export const LEVELS = ["elite", "high", "medium", "low"] as const;
export type Level = (typeof LEVELS)[number];

const HOUR = 3600;
const DAY = 24 * HOUR;

/** A frequency cut-off: a median of deploy days per week, or at least one deployment per N days. */
type FrequencyCut = { weeklyDeployDays: number } | { oneDeploymentPerDays: number };

interface BenchmarkTable {
  report: string;
  /** elite, high, medium; below medium is low. */
  deploymentFrequency: [FrequencyCut, FrequencyCut, FrequencyCut];
  /** Median lead time strictly below, in seconds. */
  leadTimeSeconds: [number, number, number];
  /** Change failure rate at most, in whole percent (integers keep boundaries exact). */
  changeFailurePercent: [number, number, number];
  /** Median recovery strictly below, in seconds. */
  recoverySeconds: [number, number, number];
  /** Which number the recovery level reads. */
  recoveryFrom: "recovery_time" | "time_to_restore";
}

export const LEVEL_TABLE: Record<Benchmark, BenchmarkTable> = {
  "2021": {
    report: "Accelerate State of DevOps 2021",
    deploymentFrequency: [{ weeklyDeployDays: 5 }, { oneDeploymentPerDays: 30 }, { oneDeploymentPerDays: 182 }],
    leadTimeSeconds: [HOUR, 7 * DAY, 182 * DAY],
    changeFailurePercent: [15, 20, 30],
    recoverySeconds: [HOUR, DAY, 7 * DAY],
    recoveryFrom: "time_to_restore",
  },
  "2023": {
    report: "Accelerate State of DevOps 2023",
    deploymentFrequency: [{ weeklyDeployDays: 5 }, { weeklyDeployDays: 1 }, { oneDeploymentPerDays: 30 }],
    leadTimeSeconds: [DAY, 7 * DAY, 30 * DAY],
    changeFailurePercent: [5, 10, 15],
    recoverySeconds: [HOUR, DAY, 7 * DAY],
    recoveryFrom: "recovery_time",
  },
  "2024": {
    report: "Accelerate State of DevOps 2024",
    deploymentFrequency: [{ weeklyDeployDays: 5 }, { weeklyDeployDays: 1 }, { oneDeploymentPerDays: 30 }],
    leadTimeSeconds: [DAY, 7 * DAY, 30 * DAY],
    changeFailurePercent: [5, 20, 40],
    recoverySeconds: [HOUR, DAY, 7 * DAY],
    recoveryFrom: "recovery_time",
  },
};

const pick = (passes: [boolean, boolean, boolean]): Level => {
  const index = passes.indexOf(true);
  return index === -1 ? "low" : (LEVELS[index] as Level);
};

/** null without deployments: an idle scope has no frequency to classify (docs/metrics.md). */
export function deploymentFrequencyLevel(
  benchmark: Benchmark,
  input: { deployments: number; medianWeeklyDeployDays: number; windowMs: number },
): Level | null {
  if (input.deployments === 0) return null;
  const meets = (cut: FrequencyCut) =>
    "weeklyDeployDays" in cut
      ? input.medianWeeklyDeployDays >= cut.weeklyDeployDays
      : // deployments / window >= 1 / N days, in integers so a boundary is exact
        input.deployments * cut.oneDeploymentPerDays * DAY * 1000 >= input.windowMs;
  const [elite, high, medium] = LEVEL_TABLE[benchmark].deploymentFrequency;
  return pick([meets(elite), meets(high), meets(medium)]);
}

const below = (value: number | null, cuts: [number, number, number]): Level | null =>
  value === null ? null : pick([value < cuts[0], value < cuts[1], value < cuts[2]]);

export const leadTimeLevel = (benchmark: Benchmark, medianSeconds: number | null) =>
  below(medianSeconds, LEVEL_TABLE[benchmark].leadTimeSeconds);

export function changeFailureLevel(benchmark: Benchmark, input: { deployments: number; failed: number }): Level | null {
  if (input.deployments === 0) return null;
  const cuts = LEVEL_TABLE[benchmark].changeFailurePercent;
  const within = (percent: number) => input.failed * 100 <= percent * input.deployments;
  return pick([within(cuts[0]), within(cuts[1]), within(cuts[2])]);
}

export const recoveryLevel = (benchmark: Benchmark, medianSeconds: number | null) =>
  below(medianSeconds, LEVEL_TABLE[benchmark].recoverySeconds);

/** The lowest level among those that have data; null when none has (SPEC 4.1). */
export function overallLevel(levels: Array<Level | null>): Level | null {
  let worst = -1;
  for (const level of levels) if (level !== null) worst = Math.max(worst, LEVELS.indexOf(level));
  return worst === -1 ? null : (LEVELS[worst] as Level);
}
