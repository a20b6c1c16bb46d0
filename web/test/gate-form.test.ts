import { describe, expect, test } from "vitest";
import type { Gate } from "../src/lib/api-types.ts";
import {
  describeRule,
  draftFromForm,
  draftToGate,
  emptyDraft,
  gateToDraft,
  newRule,
  parseDurationText,
  placeErrors,
} from "../src/lib/gate-form.ts";

describe("the gate form", () => {
  test("a new gate starts with a change failure rate rule at the documented defaults", () => {
    const gate = draftToGate({ ...emptyDraft(), slug: "prod-safety" });
    expect(gate).toEqual({
      slug: "prod-safety",
      name: "prod-safety",
      mode: "enforce",
      applies_to: { environments: ["production"] },
      rules: [{ type: "change_failure_rate", on_fail: "block", max: 0.15, window_days: 30, min_deployments: 5 }],
    });
  });

  test("fields are read in people's units: percent, durations with a unit, lists", () => {
    const form = new FormData();
    for (const [name, value] of Object.entries({
      slug: "release",
      name: "Release",
      dry_run: "on",
      environments: "production, prod-eu",
      teams: "payments",
      services: "",
      rule_count: "3",
      "rules.0.type": "change_failure_rate",
      "rules.0.on_fail": "warn",
      "rules.0.max": "12.5",
      "rules.0.window_days": "14",
      "rules.0.min_deployments": "",
      "rules.1.type": "lead_time",
      "rules.1.on_fail": "block",
      "rules.1.max_seconds": "36",
      "rules.1.max_seconds.unit": "hours",
      "rules.1.window_days": "30",
      "rules.2.type": "freeze",
      "rules.2.on_fail": "block",
      "rules.2.windows": "2026-12-24T00:00:00Z 2026-12-27T00:00:00Z\n",
      "rules.2.recurring": "0 18 * * 5; 62h; Europe/Berlin",
    })) {
      form.set(name, value);
    }
    const gate = draftToGate(draftFromForm(form));
    expect(gate.mode).toBe("dry_run");
    expect(gate.applies_to).toEqual({ environments: ["production", "prod-eu"], teams: ["payments"] });
    expect(gate.rules).toEqual([
      { type: "change_failure_rate", on_fail: "warn", max: 0.125, window_days: 14 },
      { type: "lead_time", on_fail: "block", max_seconds: 129_600, window_days: 30 },
      {
        type: "freeze",
        on_fail: "block",
        windows: [{ start: "2026-12-24T00:00:00Z", end: "2026-12-27T00:00:00Z" }],
        recurring: [{ cron: "0 18 * * 5", duration_seconds: 223_200, timezone: "Europe/Berlin" }],
      },
    ]);
  });

  test("text that is not a number goes to the API as is, so the API names the problem", () => {
    const draft = emptyDraft();
    const rule = newRule("deployment_frequency");
    rule.values.min_per_week = "often";
    draft.rules = [rule];
    expect(draftToGate(draft).rules[0]?.min_per_week).toBe("often");
  });

  test("a stored gate reads back into the same form values", () => {
    const gate: Gate = {
      slug: "prod",
      name: "Prod",
      mode: "enforce",
      applies_to: { environments: ["production"], services: ["checkout"] },
      rules: [
        { type: "change_failure_rate", on_fail: "block", max: 0.15, window_days: 30, min_deployments: 5 },
        { type: "soak", on_fail: "warn", environment: "staging", min_seconds: 7200 },
        { type: "recovery_time", on_fail: "block", max_seconds: 86_400, window_days: 30 },
        { type: "freeze", on_fail: "block", windows: [], recurring: [{ cron: "0 18 * * 5", duration_seconds: 223_200, timezone: "UTC" }] },
        { type: "prometheus", on_fail: "block", url: "http://prom:9090", query: "sum(rate(errors[5m]))", max: 0.01, timeout_ms: 5000 },
      ],
    };
    const draft = gateToDraft(gate);
    expect(draft.rules[0]?.values.max).toBe("15");
    expect(draft.rules[1]?.values.min_seconds).toBe("2:hours");
    expect(draft.rules[2]?.values.max_seconds).toBe("1:days");
    expect(draft.rules[3]?.values.recurring).toBe("0 18 * * 5; 62h; UTC");
    const again = draftToGate(draft);
    expect(again.rules.slice(0, 4)).toEqual(gate.rules.slice(0, 4));
    expect(again.applies_to).toEqual(gate.applies_to);
  });

  test("API messages land under the field they name; the rest are listed", () => {
    const draft = emptyDraft();
    draft.rules = [newRule("change_failure_rate"), newRule("freeze")];
    const placed = placeErrors(
      {
        "rules.0.max": "Too big: expected number to be <=1",
        "rules.1.windows.0.end": "must end after it starts",
        "applies_to.environments": "Too small: expected array to have >=1 items",
        slug: "must be 1-63 lowercase letters",
        "(body)": "name at least one of name, applies_to, mode, rules",
      },
      draft,
    );
    expect(placed.byField).toEqual({
      "rules.0.max": "Too big: expected number to be <=1",
      "rules.1.windows": "line 1, end: must end after it starts",
      environments: "Too small: expected array to have >=1 items",
      slug: "must be 1-63 lowercase letters",
    });
    expect(placed.general).toEqual(["name at least one of name, applies_to, mode, rules"]);
  });

  test("durations typed as text", () => {
    expect(parseDurationText("62h")).toBe(223_200);
    expect(parseDurationText("90m")).toBe(5400);
    expect(parseDurationText("2d")).toBe(172_800);
    expect(parseDurationText("3600")).toBe(3600);
    expect(parseDurationText("soon")).toBe("soon");
  });

  test("each rule reads as a sentence", () => {
    expect(describeRule({ type: "change_failure_rate", max: 0.15, window_days: 30, min_deployments: 5 })).toBe(
      "change failure rate at most 15 % over 30 days (judged from 5 deployments)",
    );
    expect(describeRule({ type: "soak", environment: "staging", min_seconds: 7200 })).toBe(
      "ran in staging for at least 2 h without an incident",
    );
    expect(describeRule({ type: "open_incidents", max: 0, min_severity: "SEV2" })).toBe("at most 0 open incidents of severity SEV2 or worse");
  });
});
