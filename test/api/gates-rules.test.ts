import { describe, expect, test } from "vitest";
import { formatDuration, parseDuration } from "../../ingest/src/gates/durations.ts";
import { type RuleResult, applyOnFail, decide } from "../../ingest/src/gates/results.ts";
import { Rule, type RuleOf } from "../../ingest/src/gates/rule-schemas.ts";
import {
  type DoraObservation,
  changeFailureRate,
  deploymentFrequency,
  leadTime,
  recoveryTime,
} from "../../ingest/src/gates/rules/dora.ts";
import { freeze } from "../../ingest/src/gates/rules/freeze.ts";
import { openIncidents } from "../../ingest/src/gates/rules/incidents.ts";
import { prometheus } from "../../ingest/src/gates/rules/prometheus.ts";
import { soak } from "../../ingest/src/gates/rules/soak.ts";

/** A rule with its defaults filled in, exactly as the API stores it. */
function rule<T extends RuleOf<Rule["type"]>["type"]>(input: { type: T } & Record<string, unknown>): RuleOf<T> {
  return Rule.parse(input) as RuleOf<T>;
}

function metrics(overrides: Partial<{ [K in keyof DoraObservation]: Partial<DoraObservation[K]> }> = {}): DoraObservation {
  return {
    deployment_frequency: { deployments: 10, per_week: 2.3333, ...overrides.deployment_frequency },
    lead_time: { changes: 20, median_seconds: 3600, ...overrides.lead_time },
    change_failure_rate: { deployments: 10, failed: 1, rate: 0.1, ...overrides.change_failure_rate },
    recovery_time: { failures: 1, recovered: 1, median_seconds: 1800, ...overrides.recovery_time },
  };
}

const NOW = new Date("2026-06-15T12:00:00Z");
const at = (iso: string) => new Date(iso);

describe("change_failure_rate", () => {
  const cfr = rule({ type: "change_failure_rate", max: 0.15 });

  test("fills in the documented defaults", () => {
    expect(cfr).toEqual({ type: "change_failure_rate", on_fail: "block", max: 0.15, window_days: 30, min_deployments: 5 });
  });

  test("a rate exactly at max passes; just above fails", () => {
    const exact = changeFailureRate(cfr, metrics({ change_failure_rate: { deployments: 20, failed: 3, rate: 0.15 } }));
    expect(exact).toMatchObject({ status: "pass", observed: 0.15, threshold: 0.15 });
    expect(exact.message).toBe(
      "Change failure rate is 15% (3 of 20 production deployments in the last 30 days), within the 15% limit.",
    );
    const above = changeFailureRate(cfr, metrics({ change_failure_rate: { deployments: 20, failed: 4, rate: 0.2 } }));
    expect(above).toMatchObject({ status: "fail", observed: 0.2 });
    expect(above.message).toContain("above the 15% limit");
  });

  test("below min_deployments it passes, saying so, however bad the rate", () => {
    const few = changeFailureRate(cfr, metrics({ change_failure_rate: { deployments: 4, failed: 4, rate: 1 } }));
    expect(few.status).toBe("pass");
    expect(few.message).toBe(
      "Only 4 production deployments in the last 30 days, fewer than the 5 needed to judge the change failure rate, so the rule passes.",
    );
    const enough = changeFailureRate(cfr, metrics({ change_failure_rate: { deployments: 5, failed: 4, rate: 0.8 } }));
    expect(enough.status).toBe("fail");
  });

  test("no deployments at all (a null rate) passes", () => {
    const cfrZero = rule({ type: "change_failure_rate", max: 0.1, min_deployments: 0 });
    const none = changeFailureRate(cfrZero, metrics({ change_failure_rate: { deployments: 0, failed: 0, rate: null } }));
    expect(none).toMatchObject({ status: "pass", observed: null });
    expect(none.message).toBe(
      "No production deployment in the last 30 days, so there is no change failure rate to judge and the rule passes.",
    );
  });
});

describe("lead_time and recovery_time", () => {
  const lead = rule({ type: "lead_time", max_seconds: 86_400, window_days: 14 });
  const recovery = rule({ type: "recovery_time", max_seconds: 3600 });

  test("a median exactly at max_seconds passes; one second more fails", () => {
    expect(leadTime(lead, metrics({ lead_time: { median_seconds: 86_400 } })).status).toBe("pass");
    const slow = leadTime(lead, metrics({ lead_time: { median_seconds: 86_401, changes: 3 } }));
    expect(slow).toMatchObject({ status: "fail", observed: 86_401, threshold: 86_400 });
    expect(slow.message).toBe("Median lead time for changes is 1d 1s over the last 14 days (3 changes), above the 1d limit.");
    expect(recoveryTime(recovery, metrics({ recovery_time: { median_seconds: 3600 } })).status).toBe("pass");
    expect(recoveryTime(recovery, metrics({ recovery_time: { median_seconds: 3600.5 } })).status).toBe("fail");
  });

  test("no data passes with a sentence that says there was nothing to judge", () => {
    const none = leadTime(lead, metrics({ lead_time: { median_seconds: null, changes: 0 } }));
    expect(none).toMatchObject({ status: "pass", observed: null });
    expect(none.message).toContain("no lead time to judge");
    const unrecovered = recoveryTime(recovery, metrics({ recovery_time: { failures: 2, recovered: 0, median_seconds: null } }));
    expect(unrecovered.status).toBe("pass");
    expect(unrecovered.message).toContain("2 failed deployments not recovered yet");
  });
});

describe("deployment_frequency", () => {
  const frequency = rule({ type: "deployment_frequency", min_per_week: 2, window_days: 28 });

  test("exactly the minimum passes; below fails; no deployments is zero per week", () => {
    expect(deploymentFrequency(frequency, metrics({ deployment_frequency: { per_week: 2 } })).status).toBe("pass");
    const slow = deploymentFrequency(frequency, metrics({ deployment_frequency: { per_week: 1.75, deployments: 7 } }));
    expect(slow).toMatchObject({ status: "fail", observed: 1.75, threshold: 2 });
    expect(slow.message).toBe(
      "1.75 production deployments per week over the last 28 days (7 in all), fewer than the 2 required.",
    );
    expect(deploymentFrequency(frequency, metrics({ deployment_frequency: { per_week: null, deployments: 0 } }))).toMatchObject({
      status: "fail",
      observed: 0,
    });
  });
});

describe("open_incidents", () => {
  const incident = (externalId: string, severity: string | null) => ({
    externalId,
    title: `outage ${externalId}`,
    severity,
    startedAt: at("2026-06-15T11:00:00Z"),
  });

  test("no open incident passes; one more than max fails naming it", () => {
    const none = openIncidents(rule({ type: "open_incidents" }), "checkout", []);
    expect(none).toMatchObject({ status: "pass", observed: 0, threshold: 0, message: "No incident is open on checkout." });
    const one = openIncidents(rule({ type: "open_incidents" }), "checkout", [incident("INC-1", "critical")]);
    expect(one).toMatchObject({ status: "fail", observed: 1 });
    expect(one.message).toBe('1 open incident on checkout (INC-1 "outage INC-1" (critical)), more than the 0 allowed.');
    expect(openIncidents(rule({ type: "open_incidents", max: 1 }), "checkout", [incident("INC-1", "critical")]).status).toBe("pass");
  });

  test("min_severity counts only incidents at least that severe, and unknown severities always count", () => {
    const high = rule({ type: "open_incidents", min_severity: "high" });
    expect(openIncidents(high, "checkout", [incident("a", "low"), incident("b", "P3")]).status).toBe("pass");
    expect(openIncidents(high, "checkout", [incident("c", "SEV-2")]).status).toBe("fail");
    expect(openIncidents(high, "checkout", [incident("d", "P1")]).status).toBe("fail");
    expect(openIncidents(high, "checkout", [incident("e", "purple")]).status).toBe("fail");
    expect(openIncidents(high, "checkout", [incident("f", null)]).status).toBe("fail");
  });

  test("an unknown min_severity is refused when the gate is saved", () => {
    expect(Rule.safeParse({ type: "open_incidents", min_severity: "apocalyptic" }).success).toBe(false);
  });
});

describe("soak", () => {
  const rule30m = rule({ type: "soak", min_seconds: 1800 });
  const sha = "9fceb02d0ae598e95dc970b74767f19372d61af8";
  const clean = { deploying: false, replaced: null, incident: null };

  test("one second short is pending with that second to wait; exactly min_seconds passes", () => {
    const short = soak(rule30m, sha, { ...clean, deployedAt: at("2026-06-15T11:30:01Z") }, NOW);
    expect(short).toMatchObject({ status: "pending", observed: 1799, threshold: 1800, retry_after_seconds: 1 });
    expect(short.message).toBe("9fceb02d0ae5 has run in staging for 29m 59s of the 30m required; 1s to go.");
    const exact = soak(rule30m, sha, { ...clean, deployedAt: at("2026-06-15T11:30:00Z") }, NOW);
    expect(exact).toMatchObject({ status: "pass", observed: 1800 });
  });

  test("an incident since the sha reached the environment fails it", () => {
    const result = soak(
      rule30m,
      sha,
      {
        ...clean,
        deployedAt: at("2026-06-15T10:00:00Z"),
        incident: { externalId: "INC-9", title: "errors", startedAt: at("2026-06-15T10:20:00Z") },
      },
      NOW,
    );
    expect(result.status).toBe("fail");
    expect(result.message).toBe('Incident INC-9 "errors" opened 20m after 9fceb02d0ae5 reached staging.');
  });

  test("another sha replacing it before the soak was done fails it; after, it passed", () => {
    const early = soak(
      rule30m,
      sha,
      { ...clean, deployedAt: at("2026-06-15T10:00:00Z"), replaced: { sha: "abcdef1234567", at: at("2026-06-15T10:10:00Z") } },
      NOW,
    );
    expect(early).toMatchObject({ status: "fail", observed: 600 });
    const late = soak(
      rule30m,
      sha,
      { ...clean, deployedAt: at("2026-06-15T10:00:00Z"), replaced: { sha: "abcdef1234567", at: at("2026-06-15T10:30:00Z") } },
      NOW,
    );
    expect(late.status).toBe("pass");
  });

  test("no sha, never deployed, and still deploying", () => {
    expect(soak(rule30m, null, { ...clean, deployedAt: null }, NOW).status).toBe("fail");
    expect(soak(rule30m, sha, { ...clean, deployedAt: null }, NOW)).toMatchObject({ status: "fail" });
    expect(soak(rule30m, sha, { ...clean, deployedAt: null, deploying: true }, NOW)).toMatchObject({
      status: "pending",
      retry_after_seconds: 1800,
    });
  });
});

describe("freeze", () => {
  test("inside a fixed window is pending until it ends; the end itself is outside", () => {
    const fixed = rule({ type: "freeze", windows: [{ start: "2026-12-23T00:00:00Z", end: "2027-01-02T00:00:00Z" }] });
    const inside = freeze(fixed, at("2026-12-31T23:00:00Z"));
    expect(inside).toMatchObject({ status: "pending", observed: "2027-01-02T00:00:00Z", retry_after_seconds: 90_000 });
    expect(inside.message).toBe(
      "A freeze (2026-12-23T00:00:00Z to 2027-01-02T00:00:00Z) is in effect until 2027-01-02T00:00:00Z; promotion waits 1d 1h.",
    );
    expect(freeze(fixed, at("2026-12-23T00:00:00Z")).status).toBe("pending");
    expect(freeze(fixed, at("2027-01-02T00:00:00Z")).status).toBe("pass");
    expect(freeze(fixed, at("2026-12-22T23:59:59Z")).message).toBe(
      "No freeze is in effect; the next one starts at 2026-12-23T00:00:00Z.",
    );
  });

  const weekend = rule({
    type: "freeze",
    recurring: [{ cron: "0 18 * * 5", duration_seconds: 62 * 3600, timezone: "Europe/Berlin" }],
  });

  test("a recurring Friday-evening window follows Berlin's clock across the spring-forward weekend", () => {
    // Winter: Friday 18:00 CET is 17:00 UTC.
    expect(freeze(weekend, at("2026-03-20T16:59:59Z")).status).toBe("pass");
    expect(freeze(weekend, at("2026-03-20T17:00:00Z"))).toMatchObject({ status: "pending", observed: "2026-03-23T07:00:00Z" });
    // DST starts on Sunday 29 March 2026 at 02:00 local; 62 real hours from Friday 17:00 UTC end at
    // Monday 07:00 UTC, which is 09:00 in Berlin by then.
    const duringSwitch = freeze(weekend, at("2026-03-29T01:30:00Z"));
    expect(duringSwitch).toMatchObject({ status: "pending", observed: "2026-03-30T07:00:00Z" });
    expect(duringSwitch.retry_after_seconds).toBe(29 * 3600 + 30 * 60);
    // Summer: Friday 18:00 CEST is 16:00 UTC.
    expect(freeze(weekend, at("2026-04-03T15:59:59Z")).status).toBe("pass");
    expect(freeze(weekend, at("2026-04-03T16:00:00Z"))).toMatchObject({ status: "pending", observed: "2026-04-06T06:00:00Z" });
  });

  test("a daily window at 02:30 Berlin time, which does not exist on the spring-forward day, starts at 03:00 CEST", () => {
    const nightly = rule({
      type: "freeze",
      recurring: [{ cron: "30 2 * * *", duration_seconds: 1800, timezone: "Europe/Berlin" }],
    });
    expect(freeze(nightly, at("2026-03-28T01:45:00Z")).status).toBe("pending"); // 02:45 CET
    expect(freeze(nightly, at("2026-03-29T00:45:00Z")).status).toBe("pass"); // 01:45 CET, before the gap
    expect(freeze(nightly, at("2026-03-29T01:10:00Z"))).toMatchObject({ status: "pending", observed: "2026-03-29T01:30:00Z" });
    expect(freeze(nightly, at("2026-03-30T00:45:00Z")).status).toBe("pending"); // 02:45 CEST
  });

  test("the same wall-clock window means different instants in different time zones", () => {
    const morning = (timezone: string) =>
      rule({ type: "freeze", recurring: [{ cron: "0 9 * * *", duration_seconds: 3600, timezone }] });
    const instant = at("2026-06-15T07:30:00Z");
    expect(freeze(morning("Europe/Berlin"), instant).status).toBe("pending"); // 09:30 CEST
    expect(freeze(morning("America/New_York"), instant).status).toBe("pass"); // 03:30 EDT
    expect(freeze(morning("Asia/Tokyo"), instant).status).toBe("pass"); // 16:30 JST
    expect(freeze(morning("America/New_York"), at("2026-06-15T13:30:00Z")).status).toBe("pending");
    // After New York's fall-back (1 November 2026), 09:00 EST is 14:00 UTC.
    expect(freeze(morning("America/New_York"), at("2026-11-02T13:30:00Z")).status).toBe("pass");
    expect(freeze(morning("America/New_York"), at("2026-11-02T14:30:00Z")).status).toBe("pending");
  });

  test("windows that run into each other are one wait", () => {
    const chained = rule({
      type: "freeze",
      windows: [
        { start: "2026-06-15T10:00:00Z", end: "2026-06-15T13:00:00Z" },
        { start: "2026-06-15T13:00:00Z", end: "2026-06-15T15:00:00Z" },
      ],
      recurring: [{ cron: "0 15 * * *", duration_seconds: 3600, timezone: "UTC" }],
    });
    expect(freeze(chained, NOW)).toMatchObject({ status: "pending", observed: "2026-06-15T16:00:00Z", retry_after_seconds: 4 * 3600 });
  });

  test("bad cron expressions, time zones and empty freezes are refused when saved", () => {
    const problems = (input: unknown) => {
      const parsed = Rule.safeParse(input);
      return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
    };
    expect(problems({ type: "freeze", recurring: [{ cron: "every friday", duration_seconds: 60 }] })).toEqual(["recurring.0.cron"]);
    expect(problems({ type: "freeze", recurring: [{ cron: "0 18 * * 5", duration_seconds: 60, timezone: "Mars/Olympus" }] })).toEqual([
      "recurring.0.timezone",
    ]);
    expect(problems({ type: "freeze" })).toEqual(["windows"]);
    expect(problems({ type: "freeze", windows: [{ start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z" }] })).toEqual([
      "windows.0.end",
    ]);
  });
});

describe("prometheus", () => {
  const maxRule = rule({ type: "prometheus", url: "http://prom:9090", query: "error_ratio", max: 0.05 });
  const minRule = rule({ type: "prometheus", url: "http://prom:9090", query: "availability", min: 0.99 });

  test("max and min are inclusive bounds; the worst series decides", () => {
    expect(prometheus(maxRule, { kind: "values", values: [0.05] }).status).toBe("pass");
    const high = prometheus(maxRule, { kind: "values", values: [0.01, 0.07] });
    expect(high).toMatchObject({ status: "fail", observed: 0.07, threshold: { min: null, max: 0.05 } });
    expect(high.message).toBe("The Prometheus query returned 0.07 across 2 series, above the maximum of 0.05.");
    expect(prometheus(minRule, { kind: "values", values: [0.99] }).status).toBe("pass");
    expect(prometheus(minRule, { kind: "values", values: [0.989] }).status).toBe("fail");
  });

  test("timeouts, errors, unreachable servers, no data and NaN fail with a sentence", () => {
    expect(prometheus(maxRule, { kind: "timeout" }).message).toBe(
      "Prometheus did not answer within 5000 ms, so the signal could not be checked.",
    );
    expect(prometheus(maxRule, { kind: "error", reason: "bad_data: parse error" }).status).toBe("fail");
    expect(prometheus(maxRule, { kind: "unreachable", reason: "ECONNREFUSED" }).message).toContain("ECONNREFUSED");
    expect(prometheus(maxRule, { kind: "no_data" })).toMatchObject({ status: "fail", observed: null });
    expect(prometheus(maxRule, { kind: "values", values: [Number.NaN] }).status).toBe("fail");
  });

  test("a rule needs max or min, and min may not exceed max", () => {
    expect(Rule.safeParse({ type: "prometheus", url: "http://prom", query: "up" }).success).toBe(false);
    expect(Rule.safeParse({ type: "prometheus", url: "http://prom", query: "up", min: 2, max: 1 }).success).toBe(false);
    expect(Rule.safeParse({ type: "prometheus", url: "file:///etc/passwd", query: "up", max: 1 }).success).toBe(false);
  });
});

describe("the decision", () => {
  const result = (status: RuleResult["status"], retry?: number): RuleResult => ({
    type: "freeze",
    status,
    observed: null,
    threshold: null,
    message: status,
    ...(retry === undefined ? {} : { retry_after_seconds: retry }),
  });

  test("fail beats pending beats warn beats pass; no rules pass", () => {
    expect(decide([result("pass"), result("warn"), result("pending", 5), result("fail")])).toEqual({
      decision: "fail",
      retry_after_seconds: null,
    });
    expect(decide([result("pass"), result("warn"), result("pending", 300), result("pending", 120)])).toEqual({
      decision: "pending",
      retry_after_seconds: 120,
    });
    expect(decide([result("pass"), result("warn")])).toEqual({ decision: "warn", retry_after_seconds: null });
    expect(decide([result("pass")])).toEqual({ decision: "pass", retry_after_seconds: null });
    expect(decide([])).toEqual({ decision: "pass", retry_after_seconds: null });
  });

  test("a warn rule's failure, or its wait, is a warning and never holds the promotion", () => {
    const failing = { status: "fail" as const, observed: 1, threshold: 0, message: "bad" };
    expect(applyOnFail("open_incidents", "warn", failing).status).toBe("warn");
    expect(applyOnFail("open_incidents", "block", failing).status).toBe("fail");
    const waiting = { status: "pending" as const, observed: null, threshold: null, message: "wait", retry_after_seconds: 60 };
    expect(applyOnFail("freeze", "warn", waiting)).toEqual({
      type: "freeze",
      status: "warn",
      observed: null,
      threshold: null,
      message: "wait",
    });
  });
});

describe("durations", () => {
  test("read and written the way people write them", () => {
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172_800);
    expect(parseDuration("45")).toBe(45);
    expect(parseDuration("soon")).toBeNull();
    expect(parseDuration("")).toBeNull();
    expect(formatDuration(59)).toBe("59s");
    expect(formatDuration(3 * 86_400 + 4 * 3600 + 12 * 60)).toBe("3d 4h");
  });
});
