import { describe, expect, test } from "vitest";
import { CollectorError } from "../src/index.ts";
import { requireIsoUtc, toIsoUtc } from "../src/time.ts";

describe("toIsoUtc", () => {
  test.each([
    ["ISO 8601 in UTC (GitHub)", "2019-05-15T15:19:25Z", "2019-05-15T15:19:25.000Z"],
    ["ISO 8601 with a +hh:mm offset (GitLab commits)", "2021-04-15T21:06:04+02:00", "2021-04-15T19:06:04.000Z"],
    ["ISO 8601 with a -hh:mm offset", "2021-08-19T12:16:32.000-04:00", "2021-08-19T16:16:32.000Z"],
    ["ISO 8601 with a +hhmm offset", "2021-04-15T21:06:04+0200", "2021-04-15T19:06:04.000Z"],
    ["GitLab's `UTC` suffix", "2016-08-12 15:23:28 UTC", "2016-08-12T15:23:28.000Z"],
    ["GitLab's space-separated offset", "2021-04-28 21:50:00 +0200", "2021-04-28T19:50:00.000Z"],
    ["milliseconds (PagerDuty)", "2020-10-02T18:45:22.169Z", "2020-10-02T18:45:22.169Z"],
    ["nanoseconds, cut to milliseconds (Alertmanager)", "2021-02-01T03:37:13.293116502Z", "2021-02-01T03:37:13.293Z"],
    ["microseconds (CDEvents)", "2023-03-20T14:27:05.315384Z", "2023-03-20T14:27:05.315Z"],
    ["a time without zone, read as UTC", "2023-02-01T12:00:00", "2023-02-01T12:00:00.000Z"],
    ["a date alone, midnight UTC", "2025-06-30", "2025-06-30T00:00:00.000Z"],
    ["Alertmanager's year-1 zero time", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"],
  ])("reads %s", (_shape, value, expected) => {
    expect(toIsoUtc(value)).toBe(expected);
  });

  test("reads Unix seconds as a number (GitHub push pushed_at)", () => {
    expect(toIsoUtc(1557933657)).toBe("2019-05-15T15:20:57.000Z");
  });

  test("reads Unix seconds as a digit string", () => {
    expect(toIsoUtc("1557933565")).toBe("2019-05-15T15:19:25.000Z");
  });

  test("reads milliseconds since the epoch", () => {
    expect(toIsoUtc(1557933657123)).toBe("2019-05-15T15:20:57.123Z");
  });

  test("crosses the date line when an offset moves the time past midnight", () => {
    expect(toIsoUtc("2020-10-31T14:58:32+11:00")).toBe("2020-10-31T03:58:32.000Z");
    expect(toIsoUtc("2020-12-31T22:30:00-02:00")).toBe("2021-01-01T00:30:00.000Z");
  });

  test("keeps a Date as it is", () => {
    expect(toIsoUtc(new Date("2024-01-02T03:04:05Z"))).toBe("2024-01-02T03:04:05.000Z");
  });

  test.each([undefined, null, ""])("gives undefined for an absent time (%s)", (value) => {
    expect(toIsoUtc(value)).toBeUndefined();
  });

  test.each([
    "yesterday",
    "2021-02-30T00:00:00Z",
    "2021-13-01T00:00:00Z",
    "2021-01-01T24:00:00Z",
    "2021-01-01T10:00:00+25:00",
    "12:00:00",
    -5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    1e20,
    true,
    { seconds: 1 },
    [2021],
  ])("rejects %s with invalid_payload", (value) => {
    expect(() => toIsoUtc(value)).toThrow(CollectorError);
    try {
      toIsoUtc(value);
    } catch (error) {
      expect((error as CollectorError).code).toBe("invalid_payload");
    }
  });
});

describe("requireIsoUtc", () => {
  test("names the missing field", () => {
    expect(() => requireIsoUtc(undefined, "issue.created_at")).toThrow("issue.created_at is required");
  });

  test("returns the normalised time when present", () => {
    expect(requireIsoUtc("2016-08-12 15:23:28 UTC", "x")).toBe("2016-08-12T15:23:28.000Z");
  });
});
