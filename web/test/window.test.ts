import { describe, expect, test } from "vitest";
import { intervalFor, parseWindow, presetRange, windowQuery } from "../src/lib/window.ts";

const now = new Date("2026-06-15T12:34:56Z");

describe("the period in the URL", () => {
  test("defaults to the 30 days ending today, against the 2024 benchmark", () => {
    const w = parseWindow(new URLSearchParams(), now);
    expect(w).toMatchObject({ from: "2026-05-17", to: "2026-06-15", days: 30, preset: 30, benchmark: "2024" });
    expect(w.api).toEqual({ from: "2026-05-17T00:00:00.000Z", to: "2026-06-16T00:00:00.000Z", benchmark: "2024" });
  });

  test("a custom period includes its last day: the API gets [from, day after to)", () => {
    const w = parseWindow(new URLSearchParams("from=2026-05-01&to=2026-05-31&benchmark=2021"), now);
    expect(w).toMatchObject({ from: "2026-05-01", to: "2026-05-31", days: 31, preset: "custom", benchmark: "2021" });
    expect(w.api.to).toBe("2026-06-01T00:00:00.000Z");
  });

  test("the presets are recognised when they end today", () => {
    for (const days of [7, 30, 90]) {
      const range = presetRange(days, now);
      expect(parseWindow(new URLSearchParams(range), now).preset).toBe(days);
    }
  });

  test.each([
    "from=2026-06-10&to=2026-06-01",
    "from=2026-02-30&to=2026-03-01",
    "from=yesterday&to=today",
    "from=2020-01-01&to=2026-06-01",
  ])("a period that cannot be shown falls back to the default: %s", (query) => {
    expect(parseWindow(new URLSearchParams(query), now)).toMatchObject({ days: 30, preset: 30 });
  });

  test("an unknown benchmark falls back to 2024", () => {
    expect(parseWindow(new URLSearchParams("benchmark=2019"), now).benchmark).toBe("2024");
  });

  test("links keep the period and the benchmark", () => {
    const w = parseWindow(new URLSearchParams("from=2026-05-01&to=2026-05-31&benchmark=2023"), now);
    expect(windowQuery(w, { group_by: "service", unused: undefined })).toBe(
      "?from=2026-05-01&to=2026-05-31&benchmark=2023&group_by=service",
    );
  });

  test("charts get a readable number of points", () => {
    expect(intervalFor(7)).toBe("day");
    expect(intervalFor(30)).toBe("week");
    expect(intervalFor(90)).toBe("week");
    expect(intervalFor(365)).toBe("month");
  });
});
