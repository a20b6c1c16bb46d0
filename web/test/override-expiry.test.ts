import { describe, expect, test } from "vitest";
import { overrideExpiry } from "../src/lib/override-expiry.ts";

const now = new Date("2026-06-15T12:00:00Z");

describe("an override's expiry from the form's hours", () => {
  test("hours within the form's bounds end that many hours from now", () => {
    expect(overrideExpiry("4", now)).toBe("2026-06-15T16:00:00.000Z");
    expect(overrideExpiry("1.5", now)).toBe("2026-06-15T13:30:00.000Z");
    expect(overrideExpiry("720", now)).toBe("2026-07-15T12:00:00.000Z");
  });

  // 1e20 hours made `new Date(...).toISOString()` throw a RangeError: a 500 for the page.
  test.each(["1e20", "Infinity", "-4", "0", "721", "", "four", null, undefined])("anything else is refused, never thrown: %s", (hours) => {
    expect(overrideExpiry(hours, now)).toBeNull();
  });
});
