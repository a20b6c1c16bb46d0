import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type Collector, CollectorError, type CollectorInput, collectors, type MapResult } from "../src/index.ts";
import { fixture, octokitExamples } from "./helpers.ts";

/** Header names each source reads, with event values that route into the mappings. */
const HEADERS: Record<string, { names: string[]; events: string[] }> = {
  github: {
    names: ["x-github-event", "x-hub-signature-256", "x-github-delivery"],
    events: ["push", "pull_request", "deployment", "deployment_status", "workflow_run", "issues", "deployment_protection_rule", "ping"],
  },
  gitlab: {
    names: ["x-gitlab-event", "x-gitlab-token", "idempotency-key", "x-gitlab-event-uuid"],
    events: ["Push Hook", "Merge Request Hook", "Deployment Hook", "Issue Hook", "System Hook"],
  },
  pagerduty: { names: ["x-pagerduty-signature", "x-webhook-id"], events: [] },
  alertmanager: { names: ["authorization"], events: [] },
  cdevents: {
    names: ["authorization", "content-type", "ce-id", "ce-source", "ce-type", "ce-specversion"],
    events: ["application/cloudevents+json", "application/json"],
  },
};

/** Real payloads of each source, to be mutated: random bytes alone rarely get past JSON.parse. */
const SEEDS: Record<string, string[]> = {
  github: [
    ...["push", "pull_request", "deployment", "deployment_status", "workflow_run", "issues"].flatMap((event) =>
      octokitExamples(event).slice(0, 3).map((example) => JSON.stringify(example)),
    ),
    fixture("github/pull_request.closed.merged.json"),
    fixture("github/deployment_protection_rule.requested.json"),
  ],
  gitlab: ["push.json", "merge_request.merge.json", "deployment.json", "work_item.incident.open.json"].map((f) =>
    fixture(`gitlab/${f}`),
  ),
  pagerduty: ["incident.triggered.json", "incident.resolved.json", "pagey.ping.json"].map((f) => fixture(`pagerduty/${f}`)),
  alertmanager: ["grouped.json", "firing.captured.json"].map((f) => fixture(`alertmanager/${f}`)),
  cdevents: [
    "service_deployed.v0.4.json",
    "incident_detected.v0.5.json",
    "change_merged.v0.5-draft.json",
    "pipelinerun_finished.v0.5-draft.json",
  ].map((f) => fixture(`cdevents/${f}`)),
};

const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("utf8")),
  fc.json({ maxDepth: 4 }),
);

function headersFor(source: string): fc.Arbitrary<Record<string, string>> {
  const { names, events } = HEADERS[source]!;
  const value = events.length > 0 ? fc.oneof(fc.constantFrom(...events), fc.string()) : fc.string();
  const known = fc.record(Object.fromEntries(names.map((name) => [name, value])), { requiredKeys: [] });
  return fc
    .tuple(fc.dictionary(fc.string({ maxLength: 20 }), fc.string()), known)
    .map(([random, chosen]) => ({ ...random, ...(chosen as Record<string, string>) }));
}

const settings = fc.option(
  fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
    fc.record({ service_label: fc.oneof(fc.string(), fc.constantFrom("service", "__proto__", "constructor", "job")) }),
  ),
  { nil: undefined },
);

/** A real payload with one value somewhere replaced by an arbitrary JSON value, or removed. */
function mutated(seeds: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.option(fc.jsonValue({ maxDepth: 3 })))
    .map(([seed, pick, replacement]) => {
      const payload = JSON.parse(seed);
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (node: unknown) => {
        if (node === null || typeof node !== "object") return;
        for (const key of Object.keys(node)) {
          slots.push([node as Record<string, unknown>, key]);
          walk((node as Record<string, unknown>)[key]);
        }
      };
      walk(payload);
      const slot = slots[pick % Math.max(slots.length, 1)];
      if (slot) {
        const [parent, key] = slot;
        if (replacement === null) delete parent[key];
        else parent[key] = replacement;
      }
      return JSON.stringify(payload);
    });
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TIME_FIELDS = ["committed_at", "authored_at", "started_at", "finished_at", "resolved_at", "opened_at", "merged_at"];

/** verify and deliveryId never throw; map throws CollectorError or nothing, and times are ISO UTC. */
function checkCollector(collector: Collector, request: CollectorInput): void {
  expect(typeof collector.verify(request)).toBe("boolean");
  expect(collector.deliveryId(request)).toEqual(expect.any(String));
  let result: MapResult;
  try {
    result = collector.map(request);
  } catch (error) {
    expect(error).toBeInstanceOf(CollectorError);
    return;
  }
  expect(["processed", "ignored"]).toContain(result.status);
  if (result.status !== "processed") return;
  const times: unknown[] = [];
  JSON.stringify(result.events, (key, value) => {
    if (TIME_FIELDS.includes(key) && value != null) times.push(value);
    return value;
  });
  for (const time of times) expect(time).toMatch(ISO_UTC);
}

describe.each(Object.entries(collectors))("the %s collector, given any request", (source, collector) => {
  const request = (body: fc.Arbitrary<string>) =>
    fc.record({
      headers: headersFor(source),
      body,
      secrets: fc.array(fc.string(), { maxLength: 3 }),
      settings,
    }) as fc.Arbitrary<CollectorInput>;

  test("arbitrary bytes and headers: verify never throws, map throws only CollectorError", () => {
    fc.assert(fc.property(request(anyText), (r) => checkCollector(collector, r)), { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) });
  });

  test("real payloads with a value replaced or removed: map throws only CollectorError", () => {
    fc.assert(fc.property(request(mutated(SEEDS[source]!)), (r) => checkCollector(collector, r)), { numRuns: Number(process.env.PROPERTY_RUNS ?? 500) });
  });
});
