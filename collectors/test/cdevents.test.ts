import { describe, expect, test } from "vitest";
import { collectors } from "../src/index.ts";
import { eventsOf, fixture, input, withChanges } from "./helpers.ts";

const { cdevents } = collectors;
const OCI = "pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427";

/** CloudEvents 1.0 structured mode: the envelope around the CDEvent (cloudevents/spec, JSON format). */
function structured(cdevent: string): string {
  const parsed = JSON.parse(cdevent);
  return JSON.stringify({
    specversion: "1.0",
    id: parsed.context.id,
    source: parsed.context.source,
    type: parsed.context.type,
    time: parsed.context.timestamp,
    datacontenttype: "application/json",
    data: parsed,
  });
}

/** CloudEvents 1.0 binary mode: the envelope's attributes as ce-* headers, the CDEvent as body. */
function binaryHeaders(cdevent: string): Record<string, string> {
  const { context } = JSON.parse(cdevent);
  return {
    "content-type": "application/json",
    "ce-specversion": "1.0",
    "ce-id": context.id,
    "ce-source": context.source,
    "ce-type": context.type,
  };
}

describe("CDEvents bearer token", () => {
  test("accepts the integration's secret and rejects anything else", () => {
    expect(cdevents.verify(input("{}", { authorization: "Bearer s3cret" }))).toBe(true);
    expect(cdevents.verify(input("{}", { authorization: "Bearer s3cret" }, { secrets: ["a", "s3cret"] }))).toBe(true);
    expect(cdevents.verify(input("{}", { authorization: "Bearer wrong" }))).toBe(false);
    expect(cdevents.verify(input("{}", {}))).toBe(false);
  });
});

describe("CDEvents delivery id", () => {
  const deployed = fixture("cdevents/service_deployed.v0.4.json");
  const expected = "271069a8-fc18-44f1-b38f-9d70a1695819@/event/source/123";

  test("binary mode: ce-id @ ce-source", () => {
    expect(cdevents.deliveryId(input(deployed, binaryHeaders(deployed)))).toBe(expected);
  });

  test("structured mode: the envelope's id @ source", () => {
    const headers = { "content-type": "application/cloudevents+json" };
    expect(cdevents.deliveryId(input(structured(deployed), headers))).toBe(expected);
  });

  test("a bare CDEvent: its context id @ source", () => {
    expect(cdevents.deliveryId(input(deployed))).toBe(expected);
  });

  test("a body that is no event: its hash", () => {
    expect(cdevents.deliveryId(input("{oops"))).toMatch(/^sha256:/);
  });
});

describe("service events (spec 0.4 and 0.5)", () => {
  const deployed = fixture("cdevents/service_deployed.v0.4.json");
  const expectedDeployment = {
    kind: "deployment",
    service: { name: "mySubject123" },
    environment: "test123",
    // an OCI image digest names no commit: the artifact itself stands for what was deployed
    sha: OCI,
    artifact: OCI,
    status: "success",
    finished_at: "2023-03-20T14:27:05.315Z",
    external_id: "cdevents-271069a8-fc18-44f1-b38f-9d70a1695819@/event/source/123",
    rollback: undefined,
  };

  test("service.deployed (0.4, a bare CDEvent) is a successful deployment", () => {
    expect(eventsOf(cdevents.map(input(deployed)))).toEqual([expectedDeployment]);
  });

  test("binary and structured mode give the same deployment", () => {
    expect(eventsOf(cdevents.map(input(deployed, binaryHeaders(deployed))))).toEqual([expectedDeployment]);
    const headers = { "content-type": "application/cloudevents+json; charset=utf-8" };
    expect(eventsOf(cdevents.map(input(structured(deployed), headers)))).toEqual([expectedDeployment]);
  });

  test("a structured envelope is recognised without its content type, also with data_base64", () => {
    expect(eventsOf(cdevents.map(input(structured(deployed))))).toEqual([expectedDeployment]);
    const base64 = withChanges(structured(deployed), (envelope) => {
      envelope.data_base64 = Buffer.from(JSON.stringify(envelope.data)).toString("base64");
      delete envelope.data;
    });
    expect(eventsOf(cdevents.map(input(base64)))).toEqual([expectedDeployment]);
  });

  test("service.upgraded (0.5) is a deployment too", () => {
    expect(eventsOf(cdevents.map(input(fixture("cdevents/service_upgraded.v0.5-draft.json"))))[0]).toMatchObject({
      status: "success",
      environment: "test123",
      rollback: undefined,
    });
  });

  test("service.rolledback (0.5) is a deployment flagged rollback", () => {
    expect(eventsOf(cdevents.map(input(fixture("cdevents/service_rolledback.v0.5-draft.json"))))[0]).toMatchObject({
      status: "success",
      rollback: true,
    });
  });

  test("an artifact naming a git commit gives the deployment its sha", () => {
    const body = withChanges(deployed, (p) => {
      p.subject.content.artifactId = "pkg:github/octo/checkout@47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";
    });
    expect(eventsOf(cdevents.map(input(body)))[0]).toMatchObject({ sha: "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54" });
  });

  test("a deployment without environment is an invalid payload", () => {
    const body = withChanges(deployed, (p) => delete p.subject.content.environment);
    expect(() => cdevents.map(input(body))).toThrow(expect.objectContaining({ code: "invalid_payload" }));
  });
});

describe("incident events", () => {
  test("incident.detected (0.5) opens an incident of the named service", () => {
    expect(eventsOf(cdevents.map(input(fixture("cdevents/incident_detected.v0.5.json"))))).toEqual([
      {
        kind: "incident",
        service: { name: "myApp" },
        external_id: "cdevents-incident-incident-123@/monitoring/prod1",
        title: "Response time above threshold of 100ms",
        started_at: "2022-11-11T13:52:20.079Z",
        resolved_at: undefined, // open; unstated so that a late `detected` never undoes a `resolved`
        sha: OCI,
      },
    ]);
  });

  test("incident.resolved resolves the same incident", () => {
    const [event] = eventsOf(cdevents.map(input(fixture("cdevents/incident_resolved.v0.5-draft.json"))));
    expect(event).toMatchObject({
      external_id: "cdevents-incident-incident-123@/monitoring/prod1",
      resolved_at: "2022-11-11T13:52:20.079Z",
    });
  });

  test("an incident naming no service is ignored", () => {
    const body = withChanges(fixture("cdevents/incident_detected.v0.5.json"), (p) => delete p.subject.content.service);
    expect(cdevents.map(input(body))).toMatchObject({ status: "ignored", reason: "incident names no service" });
  });
});

describe("change.merged", () => {
  const merged = fixture("cdevents/change_merged.v0.5-draft.json");

  test("a change whose id is not a commit cannot join the commit graph and is ignored", () => {
    expect(cdevents.map(input(merged))).toMatchObject({ status: "ignored", event: "change.merged" });
  });

  test("a change identified by its merge commit's sha is a change", () => {
    const body = withChanges(merged, (p) => (p.subject.id = "18936fb4b760b985e35fae9aa953a349703a4c53"));
    expect(eventsOf(cdevents.map(input(body)))).toEqual([
      {
        kind: "change",
        repository: { name: "TestRepo/TestOrg", provider: "git", url: "https://example.org" },
        sha: "18936fb4b760b985e35fae9aa953a349703a4c53",
        committed_at: "2023-03-20T14:27:05.315Z",
      },
    ]);
  });
});

describe("pipelinerun.finished", () => {
  const finished = fixture("cdevents/pipelinerun_finished.v0.5-draft.json");

  test("is a candidate deployment named after the pipeline", () => {
    expect(eventsOf(cdevents.map(input(finished)))).toEqual([
      {
        kind: "deployment",
        service: { name: "myPipeline" },
        environment: "production",
        sha: "pipelinerun:mySubject123",
        status: "failure",
        finished_at: "2023-03-20T14:27:05.315Z",
        external_id: "cdevents-271069a8-fc18-44f1-b38f-9d70a1695819@/event/source/123",
        url: "https://www.example.com/mySubject123",
        workflow: "myPipeline",
      },
    ]);
  });

  test.each([
    ["success", "success"],
    ["error", "failure"],
    ["cancel", "canceled"],
  ])("outcome %s maps to %s", (outcome, status) => {
    const body = withChanges(finished, (p) => (p.subject.content.outcome = outcome));
    expect(eventsOf(cdevents.map(input(body)))[0]).toMatchObject({ status });
  });

  test("the environment comes from the pipeline's name", () => {
    const body = withChanges(finished, (p) => (p.subject.content.pipelineName = "deploy-staging"));
    expect(eventsOf(cdevents.map(input(body)))[0]).toMatchObject({ environment: "staging" });
  });

  test("a run without outcome is ignored", () => {
    const body = withChanges(finished, (p) => delete p.subject.content.outcome);
    expect(cdevents.map(input(body)).status).toBe("ignored");
  });
});

describe("other events", () => {
  test.each(["dev.cdevents.artifact.published.0.2.0", "dev.cdevents.incident.reported.0.3.0", "com.example.custom"])(
    "type %s is ignored",
    (type) => {
      const body = withChanges(fixture("cdevents/service_deployed.v0.4.json"), (p) => (p.context.type = type));
      expect(cdevents.map(input(body)).status).toBe("ignored");
    },
  );

  test("a body that is not JSON is invalid_json", () => {
    expect(() => cdevents.map(input("{"))).toThrow(expect.objectContaining({ code: "invalid_json" }));
  });

  test("a body without context is an invalid payload", () => {
    expect(() => cdevents.map(input('{"subject":{}}'))).toThrow(expect.objectContaining({ code: "invalid_payload" }));
  });
});
