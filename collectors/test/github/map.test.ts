import { describe, expect, test } from "vitest";
import { CollectorError, collectors } from "../../src/index.ts";
import { eventsOf, fixture, input, octokitExamples, type Payload, withChanges } from "../helpers.ts";

const { github } = collectors;

function mapEvent(event: string, payload: unknown) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return github.map(input(body, { "x-github-event": event }));
}

const USED_EVENTS = [
  "push",
  "pull_request",
  "deployment",
  "deployment_status",
  "workflow_run",
  "issues",
  "deployment_protection_rule",
  "ping",
];

describe("every @octokit/webhooks-examples payload of the events Sluice reads", () => {
  const cases = USED_EVENTS.flatMap((event) =>
    octokitExamples(event).map((example, i) => [event, i, example] as const),
  );

  test("covers each event that has examples", () => {
    const covered = new Set(cases.map(([event]) => event));
    // deployment_protection_rule has no example in the package: real deliveries in fixtures/github cover it.
    expect([...covered].sort()).toEqual(USED_EVENTS.filter((e) => e !== "deployment_protection_rule").sort());
  });

  test.each(cases)("%s example %i maps without error", (event, _i, example) => {
    const result = mapEvent(event, example);
    expect(["processed", "ignored"]).toContain(result.status);
    expect(result.event).toBe(event);
  });
});

describe("push", () => {
  const [, , , , branchPush] = octokitExamples("push") as Record<string, unknown>[];

  test("a pushed commit becomes a change with its files, branch and repository", () => {
    expect(eventsOf(mapEvent("push", branchPush))).toEqual([
      {
        kind: "change",
        repository: { name: "Codertocat/Hello-World", provider: "github", url: "https://github.com/Codertocat/Hello-World" },
        sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        committed_at: "2019-05-15T15:19:25.000Z",
        author: "Codertocat",
        message: "Initial commit",
        branch: "master",
        files: ["README.md"],
        parents: undefined, // the push created the branch: `before` is all zeros
      },
    ]);
  });

  test("commits of one push are chained, the first to `before`", () => {
    const body = withChanges(JSON.stringify(branchPush), (push) => {
      push.before = "a10867b14bb761a232cd80139fbd4c0d33264240";
      push.commits.push({ ...push.commits[0], id: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", modified: ["README.md"], added: [] });
    });
    const events = eventsOf(mapEvent("push", body));
    expect(events.map((e) => e.kind === "change" && e.parents)).toEqual([
      ["a10867b14bb761a232cd80139fbd4c0d33264240"],
      ["6113728f27ae82c7b1a177c8d03f9e96e0adf246"],
    ]);
  });

  test("a deleted tag or branch is ignored", () => {
    const deletion = octokitExamples("push").find((p) => (p as { deleted: boolean }).deleted);
    expect(mapEvent("push", deletion)).toMatchObject({ status: "ignored", reason: "no commits in this push" });
  });

  test("a tag created without commits is ignored even though it has a head_commit", () => {
    const [tagCreated] = octokitExamples("push");
    expect(mapEvent("push", tagCreated).status).toBe("ignored");
  });

  test("a push without repository is an invalid payload", () => {
    const body = withChanges(JSON.stringify(branchPush), (push) => delete push.repository);
    expect(() => mapEvent("push", body)).toThrow(expect.objectContaining({ code: "invalid_payload" }));
  });
});

describe("pull_request", () => {
  test("a merged pull request becomes its merge commit with the PR's times", () => {
    expect(eventsOf(mapEvent("pull_request", fixture("github/pull_request.closed.merged.json")))).toEqual([
      {
        kind: "change",
        repository: {
          name: "sish8075/statistics-source",
          provider: "github",
          url: "https://github.com/sish8075/statistics-source",
        },
        sha: "18936fb4b760b985e35fae9aa953a349703a4c53",
        committed_at: "2022-10-12T08:33:55.000Z",
        branch: "main",
        pull_request: {
          number: 17,
          opened_at: "2022-10-12T08:29:33.000Z",
          merged_at: "2022-10-12T08:33:55.000Z",
          url: "https://github.com/sish8075/statistics-source/pull/17",
        },
      },
    ]);
  });

  test("a pull request closed without merging is ignored", () => {
    const closed = octokitExamples("pull_request").find((p) => (p as { action: string }).action === "closed");
    expect(mapEvent("pull_request", closed)).toMatchObject({ status: "ignored" });
  });
});

describe("deployment and deployment_status", () => {
  const [deployment] = octokitExamples("deployment");
  const statuses = octokitExamples("deployment_status") as Record<string, Payload>[];

  test("a new deployment is queued", () => {
    expect(eventsOf(mapEvent("deployment", deployment))).toEqual([
      {
        kind: "deployment",
        service: { repository: "Codertocat/Hello-World" },
        repository: { name: "Codertocat/Hello-World", provider: "github", url: "https://github.com/Codertocat/Hello-World" },
        environment: "production",
        sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        status: "queued",
        started_at: "2019-05-15T15:20:53.000Z",
        external_id: "github-deployment-145988746",
        url: "https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746",
        branch: "master",
      },
    ]);
  });

  test("a success status finishes the same deployment", () => {
    const [event] = eventsOf(mapEvent("deployment_status", statuses[0]));
    expect(event).toMatchObject({
      kind: "deployment",
      external_id: "github-deployment-145988746",
      status: "success",
      environment: "production",
      started_at: "2019-05-15T15:20:53.000Z",
      finished_at: "2019-05-15T15:20:55.000Z",
    });
  });

  test("an in-progress status has no finish time and links the run's log", () => {
    const [event] = eventsOf(mapEvent("deployment_status", statuses[1]));
    expect(event).toMatchObject({ status: "in_progress", environment: "github-pages", finished_at: undefined });
    expect(event).toMatchObject({ url: "https://github.com/CorsixTH/CorsixTH/runs/4687056418?check_suite_focus=true" });
  });

  test.each([
    ["failure", "failure"],
    ["error", "failure"],
    ["pending", "queued"],
    ["queued", "queued"],
  ])("state %s maps to %s", (state, status) => {
    const body = withChanges(JSON.stringify(statuses[0]), (p) => {
      p.deployment_status.state = state;
    });
    expect(eventsOf(mapEvent("deployment_status", body))[0]).toMatchObject({ status });
  });

  test("inactive (superseded by a later deployment) is ignored: it succeeded earlier", () => {
    const body = withChanges(JSON.stringify(statuses[0]), (p) => {
      p.deployment_status.state = "inactive";
    });
    expect(mapEvent("deployment_status", body)).toMatchObject({ status: "ignored" });
  });

  test("a ref that is the sha itself names no branch", () => {
    const body = withChanges(JSON.stringify(deployment), (p) => {
      p.deployment.ref = p.deployment.sha;
    });
    expect(eventsOf(mapEvent("deployment", body))[0]).toMatchObject({ branch: undefined });
  });
});

describe("workflow_run", () => {
  const runs = octokitExamples("workflow_run") as Record<string, Payload>[];

  test("a successful completed run is a candidate deployment named after its workflow", () => {
    expect(eventsOf(mapEvent("workflow_run", runs[1]))).toEqual([
      {
        kind: "deployment",
        service: { repository: "octo-org/octo-repo" },
        repository: { name: "octo-org/octo-repo", provider: "github", url: "https://github.com/octo-org/octo-repo" },
        // workflow_run.name is empty in this delivery; the workflow object names it "test"
        environment: "test",
        sha: "3484a3fb816e0859fd6e1cea078d76385ff50625",
        status: "success",
        started_at: "2020-10-05T16:33:49.000Z",
        finished_at: "2020-10-05T16:33:49.000Z",
        external_id: "github-workflow-run-289782451-1",
        url: "https://github.com/octo-org/octo-repo/actions/runs/289782451",
        branch: "master",
        workflow: "test",
      },
    ]);
  });

  function run(changes: (p: Payload) => void) {
    return mapEvent("workflow_run", withChanges(JSON.stringify(runs[1]), changes));
  }

  test.each([
    ["failure", "failure"],
    ["timed_out", "failure"],
    ["cancelled", "canceled"],
  ])("conclusion %s maps to %s", (conclusion, status) => {
    expect(eventsOf(run((p) => (p.workflow_run.conclusion = conclusion)))[0]).toMatchObject({ status });
  });

  test.each(["skipped", "neutral", "action_required", "stale"])("conclusion %s is ignored", (conclusion) => {
    expect(run((p) => (p.workflow_run.conclusion = conclusion)).status).toBe("ignored");
  });

  test("the environment comes from the workflow name", () => {
    const [event] = eventsOf(run((p) => (p.workflow_run.name = "Deploy to Staging")));
    expect(event).toMatchObject({ environment: "staging", workflow: "Deploy to Staging" });
  });

  test("a re-run attempt is its own deployment", () => {
    expect(eventsOf(run((p) => (p.workflow_run.run_attempt = 2)))[0]).toMatchObject({
      external_id: "github-workflow-run-289782451-2",
    });
  });

  test("requested and in-progress runs, and a completed run without conclusion, are ignored", () => {
    expect(mapEvent("workflow_run", runs[0]).status).toBe("ignored");
    expect(mapEvent("workflow_run", runs[3]).status).toBe("ignored");
  });
});

describe("issues labelled incident", () => {
  const issues = octokitExamples("issues") as Record<string, Payload>[];
  const opened = issues.find((p) => p.action === "opened" && p.issue.labels?.length)!;

  function asIncident(changes: (p: Payload) => void = () => {}) {
    return withChanges(JSON.stringify(opened), (p) => {
      p.issue.labels[0].name = "Incident"; // the example's `bug` label, renamed
      changes(p);
    });
  }

  test("issues without the incident label are ignored", () => {
    for (const payload of issues) expect(mapEvent("issues", payload).status).toBe("ignored");
  });

  test("an opened incident issue is an open incident of the repository's service", () => {
    expect(eventsOf(mapEvent("issues", asIncident()))).toEqual([
      {
        kind: "incident",
        service: { repository: opened.repository.full_name },
        external_id: `github-issue-${opened.issue.id}`,
        title: opened.issue.title,
        severity: undefined,
        url: opened.issue.html_url,
        started_at: new Date(opened.issue.created_at).toISOString(),
        resolved_at: undefined, // open; unstated so that a late `opened` never undoes a `closed`
      },
    ]);
  });

  test("reopening it opens the incident again", () => {
    const body = asIncident((p) => (p.action = "reopened"));
    expect(eventsOf(mapEvent("issues", body))[0]).toMatchObject({ resolved_at: null });
  });

  test("closing it resolves the incident at closed_at", () => {
    const body = asIncident((p) => {
      p.action = "closed";
      p.issue.state = "closed";
      p.issue.closed_at = "2019-05-15T16:00:00Z";
    });
    expect(eventsOf(mapEvent("issues", body))[0]).toMatchObject({ resolved_at: "2019-05-15T16:00:00.000Z" });
  });

  test("labelling an already closed issue keeps it resolved", () => {
    const body = asIncident((p) => {
      p.action = "labeled";
      p.issue.state = "closed";
      p.issue.closed_at = "2019-05-15T16:00:00Z";
    });
    expect(eventsOf(mapEvent("issues", body))[0]).toMatchObject({ resolved_at: "2019-05-15T16:00:00.000Z" });
  });

  test("a severity label sets the severity", () => {
    const body = asIncident((p) => p.issue.labels.push({ name: "severity:high" }));
    expect(eventsOf(mapEvent("issues", body))[0]).toMatchObject({ severity: "high" });
  });

  test("other actions on an incident issue are ignored", () => {
    expect(mapEvent("issues", asIncident((p) => (p.action = "edited"))).status).toBe("ignored");
  });
});

describe("deployment_protection_rule", () => {
  test("a requested rule asks for a gate verdict on the deployment's sha", () => {
    expect(eventsOf(mapEvent("deployment_protection_rule", fixture("github/deployment_protection_rule.requested.json")))).toEqual([
      {
        kind: "gate_request",
        service: { repository: "oodles-noodles/juice-shop" },
        environment: "production",
        sha: "6266b1bb2a58aff37f3ef9c66ad2802d6bef8a8a",
        deployment_callback_url:
          "https://api.github.com/repos/oodles-noodles/juice-shop/actions/runs/5417285903/deployment_protection_rule",
        installation_id: 39129914,
      },
    ]);
  });

  test("the top-level sha of newer deliveries is used", () => {
    const body = fixture("github/deployment_protection_rule.requested.top-level-sha.json");
    expect(eventsOf(mapEvent("deployment_protection_rule", body))[0]).toMatchObject({
      environment: "release",
      sha: "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54",
      installation_id: 119022551,
    });
  });
});

describe("events Sluice does not use", () => {
  test("ping is ignored", () => {
    for (const payload of octokitExamples("ping")) expect(mapEvent("ping", payload).status).toBe("ignored");
  });

  test("an unknown event is ignored", () => {
    const [star] = octokitExamples("star");
    expect(mapEvent("star", star)).toMatchObject({ status: "ignored", event: "star" });
  });

  test("a delivery without X-GitHub-Event is ignored", () => {
    expect(github.map(input("{}")).status).toBe("ignored");
  });
});

describe("bad bodies", () => {
  test("a body that is not JSON is invalid_json", () => {
    expect(() => mapEvent("push", "{not json")).toThrow(CollectorError);
    expect(() => mapEvent("push", "{not json")).toThrow(expect.objectContaining({ code: "invalid_json" }));
  });

  test("a used event with a mistyped field is invalid_payload", () => {
    expect(() => mapEvent("deployment", { deployment: { id: "x" }, repository: {} })).toThrow(
      expect.objectContaining({ code: "invalid_payload" }),
    );
  });
});
