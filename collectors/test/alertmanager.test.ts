import { describe, expect, test } from "vitest";
import { collectors } from "../src/index.ts";
import { eventsOf, fixture, input, withChanges } from "./helpers.ts";

const { alertmanager } = collectors;

describe("Alertmanager bearer token", () => {
  const verify = (authorization: string | undefined, secrets = ["s3cret"]) =>
    alertmanager.verify(input("{}", authorization === undefined ? {} : { authorization }, { secrets }));

  test("accepts `Bearer <secret>`, the scheme in any case", () => {
    expect(verify("Bearer s3cret")).toBe(true);
    expect(verify("bearer s3cret")).toBe(true);
  });

  test("accepts any active secret during a rotation", () => {
    expect(verify("Bearer s3cret", ["next", "s3cret"])).toBe(true);
  });

  test.each([
    ["another token", "Bearer nope"],
    ["the secret without scheme", "s3cret"],
    ["another scheme", "Basic s3cret"],
    ["an empty bearer", "Bearer "],
    ["an empty header", ""],
  ])("rejects %s", (_what, authorization) => {
    expect(verify(authorization)).toBe(false);
  });

  test("rejects a missing header and an integration without secrets", () => {
    expect(verify(undefined)).toBe(false);
    expect(verify("Bearer s3cret", [])).toBe(false);
  });
});

describe("Alertmanager delivery id", () => {
  test("is the body's hash: a repeated notification is a duplicate", () => {
    const body = fixture("alertmanager/grouped.json");
    expect(alertmanager.deliveryId(input(body))).toBe(alertmanager.deliveryId(input(body)));
    expect(alertmanager.deliveryId(input(body))).not.toBe(alertmanager.deliveryId(input(`${body} `)));
  });
});

describe("Alertmanager alerts", () => {
  test("each alert with a service label is an incident; one without is skipped", () => {
    expect(eventsOf(alertmanager.map(input(fixture("alertmanager/grouped.json"))))).toEqual([
      {
        kind: "incident",
        service: { name: "checkout" },
        external_id: "alertmanager-1f4d6a2b9c0e7d35-1715677950",
        title: "checkout 5xx ratio above 5%",
        severity: "critical",
        url: "http://prometheus.example.com:9090/graph?g0.expr=job%3Arequest_errors%3Aratio5m+%3E+0.05&g0.tab=1",
        started_at: "2024-05-14T09:12:30.318Z",
        resolved_at: undefined, // firing (endsAt is the year-1 zero time): open, resolution unstated
      },
      {
        kind: "incident",
        service: { name: "checkout" },
        external_id: "alertmanager-8a3e51c07b92f6d4-1715676000",
        title: "HighErrorRate", // no summary annotation: the alert's name
        severity: "warning",
        url: "http://prometheus.example.com:9090/graph?g0.expr=job%3Arequest_errors%3Aratio5m+%3E+0.05&g0.tab=1",
        started_at: "2024-05-14T08:40:00.000Z",
        resolved_at: "2024-05-14T09:05:00.500Z",
      },
    ]);
  });

  test("an alert that fires again later is a new incident", () => {
    const again = withChanges(fixture("alertmanager/grouped.json"), (p) => {
      p.alerts[0].startsAt = "2024-05-15T10:00:00Z";
    });
    const [first] = eventsOf(alertmanager.map(input(fixture("alertmanager/grouped.json"))));
    const [second] = eventsOf(alertmanager.map(input(again)));
    expect(second?.kind === "incident" && second.external_id).not.toBe(first?.kind === "incident" && first.external_id);
  });

  test("a firing alert with a future endsAt is still open", () => {
    const body = withChanges(fixture("alertmanager/grouped.json"), (p) => {
      p.alerts[0].endsAt = "2024-05-14T09:20:30.318Z";
    });
    expect(eventsOf(alertmanager.map(input(body)))[0]).toMatchObject({ resolved_at: undefined });
  });

  test("a firing notification delivered after the resolved one does not reopen the incident", () => {
    const body = withChanges(fixture("alertmanager/grouped.json"), (p) => {
      p.alerts[1].status = "firing";
      p.alerts[1].endsAt = "0001-01-01T00:00:00Z";
    });
    const [, late] = eventsOf(alertmanager.map(input(body)));
    expect(late).toMatchObject({ external_id: "alertmanager-8a3e51c07b92f6d4-1715676000" });
    expect(late?.kind === "incident" && late.resolved_at).toBeUndefined();
  });

  test("the service label can be configured per integration", () => {
    const body = fixture("alertmanager/firing.captured.json");
    const settings = { service_label: "prometheus" };
    expect(eventsOf(alertmanager.map(input(body, {}, { settings })))).toEqual([
      {
        kind: "incident",
        service: { name: "kubesphere-monitoring-system/k8s" },
        external_id: "alertmanager-eacdcf4af175c687-1612150633",
        title: "test",
        severity: undefined,
        url: "http://prometheus-k8s-0:9090/graph?g0.expr=vector%281%29&g0.tab=1",
        started_at: "2021-02-01T03:37:13.293Z",
        resolved_at: undefined,
      },
    ]);
  });

  test("a notification in which no alert names a service is ignored, not failed", () => {
    expect(alertmanager.map(input(fixture("alertmanager/firing.captured.json")))).toMatchObject({
      status: "ignored",
      reason: 'no alert has a "service" label',
    });
  });

  test("a label named like an Object.prototype member is just absent", () => {
    const settings = { service_label: "constructor" };
    expect(alertmanager.map(input(fixture("alertmanager/grouped.json"), {}, { settings })).status).toBe("ignored");
  });

  test("an alert without fingerprint is an invalid payload", () => {
    const body = withChanges(fixture("alertmanager/grouped.json"), (p) => delete p.alerts[0].fingerprint);
    expect(() => alertmanager.map(input(body))).toThrow(expect.objectContaining({ code: "invalid_payload" }));
  });
});
