import { describe, expect, test } from "vitest";
import {
  changeFailureLevel,
  deploymentFrequencyLevel,
  leadTimeLevel,
  overallLevel,
  recoveryLevel,
} from "../src/queries/levels.ts";
import { bucketCount, bucketStarts, yearsBefore } from "../src/queries/windows.ts";

const DAY_MS = 86_400_000;

describe("performance levels (SPEC 4.1)", () => {
  test("change failure rate compares exact fractions, so 3 of 20 is 15% and not a float above it", () => {
    expect(changeFailureLevel("2021", { deployments: 20, failed: 3 })).toBe("elite");
    expect(changeFailureLevel("2021", { deployments: 100, failed: 16 })).toBe("high");
    expect(changeFailureLevel("2023", { deployments: 10, failed: 1 })).toBe("high");
    expect(changeFailureLevel("2024", { deployments: 5, failed: 2 })).toBe("medium");
    expect(changeFailureLevel("2024", { deployments: 1000, failed: 401 })).toBe("low");
    expect(changeFailureLevel("2024", { deployments: 0, failed: 0 })).toBeNull();
    expect(changeFailureLevel("2024", { deployments: 3, failed: 0 })).toBe("elite");
  });

  test("frequency: deploy-day medians first, then deployments per 30 (or 182) days", () => {
    const month = 30 * DAY_MS;
    expect(deploymentFrequencyLevel("2024", { deployments: 9, medianWeeklyDeployDays: 5, windowMs: month })).toBe("elite");
    expect(deploymentFrequencyLevel("2024", { deployments: 9, medianWeeklyDeployDays: 4.5, windowMs: month })).toBe("high");
    expect(deploymentFrequencyLevel("2024", { deployments: 1, medianWeeklyDeployDays: 0.5, windowMs: month })).toBe("medium");
    expect(deploymentFrequencyLevel("2024", { deployments: 1, medianWeeklyDeployDays: 0, windowMs: month + 1 })).toBe("low");
    expect(deploymentFrequencyLevel("2021", { deployments: 1, medianWeeklyDeployDays: 0, windowMs: month })).toBe("high");
    expect(deploymentFrequencyLevel("2021", { deployments: 1, medianWeeklyDeployDays: 0, windowMs: 182 * DAY_MS })).toBe("medium");
    expect(deploymentFrequencyLevel("2021", { deployments: 1, medianWeeklyDeployDays: 0, windowMs: 182 * DAY_MS + 1 })).toBe("low");
    expect(deploymentFrequencyLevel("2023", { deployments: 0, medianWeeklyDeployDays: 0, windowMs: month })).toBeNull();
  });

  test("lead time and recovery cut-offs are strict upper bounds", () => {
    expect(leadTimeLevel("2021", 3599.999)).toBe("elite");
    expect(leadTimeLevel("2021", 3600)).toBe("high");
    expect(leadTimeLevel("2023", 86_399)).toBe("elite");
    expect(leadTimeLevel("2024", 30 * 86_400)).toBe("low");
    expect(leadTimeLevel("2024", null)).toBeNull();
    expect(recoveryLevel("2024", 86_400)).toBe("medium");
    expect(recoveryLevel("2021", 7 * 86_400)).toBe("low");
  });

  test("the overall level is the lowest among metrics with data", () => {
    expect(overallLevel(["elite", null, "medium", "high"])).toBe("medium");
    expect(overallLevel([null, null])).toBeNull();
  });
});

describe("windows and buckets", () => {
  test("buckets tile [from, to) exactly from `from` on, months without drift", () => {
    const from = new Date("2026-01-31T06:00:00Z");
    const to = new Date("2026-05-01T00:00:00Z");
    expect(bucketStarts(from, to, "month").map((d) => d.toISOString())).toEqual([
      "2026-01-31T06:00:00.000Z",
      "2026-02-28T06:00:00.000Z",
      "2026-03-31T06:00:00.000Z",
      "2026-04-30T06:00:00.000Z",
    ]);
    expect(bucketCount(from, to, "month")).toBe(4);
    expect(bucketCount(from, to, "week")).toBe(13);
    expect(bucketStarts(from, to, "week")).toHaveLength(13);
    expect(bucketCount(new Date("2026-01-01T00:00:00Z"), new Date("2026-01-02T00:00:00Z"), "day")).toBe(1);
  });

  test("three years back is calendar years (a leap day included)", () => {
    expect(yearsBefore(new Date("2026-03-15T00:00:00Z"), 3).toISOString()).toBe("2023-03-15T00:00:00.000Z");
    expect(yearsBefore(new Date("2028-02-29T00:00:00Z"), 3).toISOString()).toBe("2025-02-28T00:00:00.000Z");
  });
});
