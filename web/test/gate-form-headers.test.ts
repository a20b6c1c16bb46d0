import { describe, expect, test } from "vitest";
import type { Gate } from "../src/lib/api-types.ts";
import { draftToGate, gateToDraft, placeErrors } from "../src/lib/gate-form.ts";

describe("a prometheus rule's headers in the gate form", () => {
  const gate: Gate = {
    slug: "prod",
    name: "Prod",
    mode: "enforce",
    applies_to: { environments: ["production"] },
    rules: [
      {
        type: "prometheus",
        on_fail: "block",
        url: "http://prom:9090",
        query: "up",
        min: 1,
        headers: { Authorization: "[redacted]", "X-Scope-OrgID": "[redacted]" },
      },
    ],
  };

  test("stored headers read back as [redacted] lines and are sent back that way, so the API keeps them", () => {
    const draft = gateToDraft(gate);
    expect(draft.rules[0]?.values.headers).toBe("Authorization: [redacted]\nX-Scope-OrgID: [redacted]");
    expect(draftToGate(draft).rules[0]?.headers).toEqual({ Authorization: "[redacted]", "X-Scope-OrgID": "[redacted]" });
  });

  test("a new value replaces one header; an empty field sends none", () => {
    const draft = gateToDraft(gate);
    const rule = draft.rules[0];
    if (!rule) throw new Error("no rule");
    rule.values.headers = "Authorization: Bearer abc:def\n\n  X-Scope-OrgID: [redacted]  ";
    expect(draftToGate(draft).rules[0]?.headers).toEqual({ Authorization: "Bearer abc:def", "X-Scope-OrgID": "[redacted]" });
    rule.values.headers = "  ";
    expect(draftToGate(draft).rules[0]).not.toHaveProperty("headers");
  });

  test("the API's message about a header lands under the headers field", () => {
    const placed = placeErrors({ "rules.0.headers.Host": "is set by Sluice's HTTP client, not by a rule" }, gateToDraft(gate));
    expect(placed.byField).toEqual({ "rules.0.headers": "Host: is set by Sluice's HTTP client, not by a rule" });
  });
});
