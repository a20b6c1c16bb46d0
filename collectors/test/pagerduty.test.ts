import { describe, expect, test } from "vitest";
import { collectors } from "../src/index.ts";
import { eventsOf, fixture, hmacHex, input, type Payload, withChanges } from "./helpers.ts";

const { pagerduty } = collectors;

describe("PagerDuty signature", () => {
  const body = fixture("pagerduty/incident.triggered.json");
  const sign = (secret: string) => `v1=${hmacHex(secret, body)}`;
  const verify = (signature: string | undefined, secrets = ["s3cret"]) =>
    pagerduty.verify(input(body, signature === undefined ? {} : { "x-pagerduty-signature": signature }, { secrets }));

  test("accepts a v1 HMAC-SHA256 of the raw body", () => {
    expect(verify(sign("s3cret"))).toBe(true);
  });

  test("accepts the header when any of several signatures matches (PagerDuty's rotation)", () => {
    expect(verify(`${sign("old secret")},${sign("s3cret")}`)).toBe(true);
    expect(verify(`${sign("s3cret")}, ${sign("old secret")}`)).toBe(true);
  });

  test("accepts a signature of any of our secrets (our rotation)", () => {
    expect(verify(sign("s3cret"), ["next", "s3cret"])).toBe(true);
  });

  test.each([
    ["a signature by another secret", () => sign("guessed")],
    ["a forged signature", () => `v1=${"f".repeat(64)}`],
    ["a truncated signature", () => sign("s3cret").slice(0, 30)],
    ["an unknown version prefix", () => sign("s3cret").replace("v1=", "v2=")],
    ["no prefix", () => sign("s3cret").slice(3)],
    ["an empty header", () => ""],
    ["only commas", () => ",,,"],
  ])("rejects %s", (_what, signature) => {
    expect(verify(signature())).toBe(false);
  });

  test("rejects a missing header and an integration without secrets", () => {
    expect(verify(undefined)).toBe(false);
    expect(verify(sign("s3cret"), [])).toBe(false);
  });

  test("rejects a body changed after signing", () => {
    const signature = sign("s3cret");
    const changed = body.replace("A little bump", "A large bump");
    expect(pagerduty.verify(input(changed, { "x-pagerduty-signature": signature }))).toBe(false);
  });
});

describe("PagerDuty delivery id", () => {
  test("is X-Webhook-Id when sent", () => {
    expect(pagerduty.deliveryId(input("{}", { "x-webhook-id": "7a0f2b1c-delivery" }))).toBe("7a0f2b1c-delivery");
  });

  test("else the event's id", () => {
    expect(pagerduty.deliveryId(input(fixture("pagerduty/incident.triggered.json")))).toBe(
      "5ac64822-4adc-4fda-ade0-410becf0de4f",
    );
  });

  test("else, for a body that is not an event, its hash", () => {
    expect(pagerduty.deliveryId(input("not json"))).toMatch(/^sha256:/);
  });
});

describe("PagerDuty incident events", () => {
  const map = (name: string, changes?: (p: Payload) => void) => {
    const raw = fixture(`pagerduty/${name}`);
    return pagerduty.map(input(changes ? withChanges(raw, changes) : raw));
  };

  test("incident.triggered opens an incident of the PagerDuty service", () => {
    expect(eventsOf(map("incident.triggered.json"))).toEqual([
      {
        kind: "incident",
        service: { name: "API Service" },
        external_id: "pagerduty-PGR0VU2",
        title: "A little bump in the road",
        severity: "P1",
        url: "https://acme.pagerduty.com/incidents/PGR0VU2",
        started_at: "2020-04-09T15:16:27.000Z",
        resolved_at: undefined, // open; unstated so that a late `triggered` never undoes a `resolved`
      },
    ]);
  });

  test("incident.resolved resolves it when the event occurred", () => {
    expect(eventsOf(map("incident.resolved.json"))[0]).toMatchObject({
      external_id: "pagerduty-PGR0VU2",
      started_at: "2020-04-09T15:16:27.000Z",
      resolved_at: "2020-10-02T18:45:22.169Z",
    });
  });

  test("incident.acknowledged keeps the incident as it is, without touching its resolution", () => {
    const [event] = eventsOf(map("incident.triggered.json", (p) => (p.event.event_type = "incident.acknowledged")));
    expect(event).toMatchObject({ external_id: "pagerduty-PGR0VU2", resolved_at: undefined });
  });

  test("incident.reopened opens the incident again", () => {
    const [event] = eventsOf(map("incident.triggered.json", (p) => (p.event.event_type = "incident.reopened")));
    expect(event).toMatchObject({ resolved_at: null });
  });

  test("without a priority, the urgency is the severity", () => {
    const [event] = eventsOf(map("incident.triggered.json", (p) => (p.event.data.priority = null)));
    expect(event).toMatchObject({ severity: "high" });
  });

  test.each([
    ["incident.priority_updated.json", "incident.priority_updated"],
    ["service.updated.json", "service.updated"],
    ["pagey.ping.json", "pagey.ping"],
  ])("%s is ignored", (name, type) => {
    expect(map(name)).toMatchObject({ status: "ignored", event: type });
  });

  test("an incident event without its service is an invalid payload", () => {
    expect(() => map("incident.triggered.json", (p) => delete p.event.data.service)).toThrow(
      expect.objectContaining({ code: "invalid_payload" }),
    );
  });

  test("a body that is not JSON is invalid_json", () => {
    expect(() => pagerduty.map(input("<xml/>"))).toThrow(expect.objectContaining({ code: "invalid_json" }));
  });
});
