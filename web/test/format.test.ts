import { describe, expect, test } from "vitest";
import {
  formatAge,
  formatDate,
  formatDateTime,
  formatDuration,
  formatFrequency,
  formatNumber,
  formatRate,
  plural,
  shortSha,
} from "../src/lib/format.ts";

describe("formatDuration", () => {
  test("writes hours and minutes the way people say them", () => {
    expect(formatDuration(5400)).toBe("1 h 30 min");
  });

  test.each([
    [0, "0 s"],
    [45, "45 s"],
    [59.6, "1 min"],
    [60, "1 min"],
    [90, "1 min 30 s"],
    [3599, "59 min 59 s"],
    [3600, "1 h"],
    [3629, "1 h"],
    [3631, "1 h 1 min"],
    [86_399, "1 d"],
    [86_400, "1 d"],
    [273_600, "3 d 4 h"],
    [90 * 86_400, "90 d"],
  ])("%s s reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  test("no data is a dash, never 0 or NaN", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(undefined)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
  });

  test("a negative duration keeps its sign", () => {
    expect(formatDuration(-5400)).toBe("-1 h 30 min");
  });
});

describe("formatRate", () => {
  test("writes a 0..1 rate as a percentage with one decimal", () => {
    expect(formatRate(0.375)).toBe("37.5 %");
  });

  test.each([
    [0, "0 %"],
    [0.2, "20 %"],
    [0.0714, "7.1 %"],
    [1, "100 %"],
    [1 / 3, "33.3 %"],
  ])("%s reads %s", (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  test("no data (null) is a dash, which differs from 0 %", () => {
    expect(formatRate(null)).toBe("—");
  });
});

describe("formatFrequency", () => {
  test("picks the unit that reads best", () => {
    expect(formatFrequency(1.4)).toBe("1.4 / day");
    expect(formatFrequency(9.8 / 7)).toBe("1.4 / day");
    expect(formatFrequency(3 / 7)).toBe("3 / week");
    expect(formatFrequency(2 / 30)).toBe("2 / month");
    expect(formatFrequency(0)).toBe("0 / week");
    expect(formatFrequency(null)).toBe("—");
  });
});

describe("dates and small things", () => {
  test("times are shown in UTC", () => {
    expect(formatDateTime("2026-06-15T12:04:59Z")).toBe("2026-06-15 12:04 UTC");
    expect(formatDate("2026-06-15T23:59:59-02:00")).toBe("2026-06-16");
    expect(formatDateTime(null)).toBe("—");
    expect(formatDateTime("not a date")).toBe("—");
  });

  test("ages read as the largest units", () => {
    const now = new Date("2026-06-15T12:00:00Z");
    expect(formatAge("2026-06-15T11:59:30Z", now)).toBe("just now");
    expect(formatAge("2026-06-15T09:30:00Z", now)).toBe("2 h ago");
    expect(formatAge(null, now)).toBe("never");
  });

  test("numbers, plurals and shas", () => {
    expect(formatNumber(1234.56)).toBe("1,234.6");
    expect(formatNumber(2, 0)).toBe("2");
    expect(plural(1, "deployment")).toBe("1 deployment");
    expect(plural(3, "deployment")).toBe("3 deployments");
    expect(shortSha("9fceb02d0ae598e95dc970b74767f19372d61af8")).toBe("9fceb02");
  });
});
