import { describe, expect, test } from "vitest";
import { collectors } from "../src/index.ts";
import { eventsOf, fixture, input, type Payload, withChanges } from "./helpers.ts";

const { gitlab } = collectors;

function mapHook(name: string, header: string, changes?: (payload: Payload) => void) {
  const raw = fixture(`gitlab/${name}`);
  const body = changes ? withChanges(raw, changes) : raw;
  return gitlab.map(input(body, { "x-gitlab-event": header }));
}

describe("GitLab token", () => {
  const token = (value: string | undefined, secrets = ["s3cret"]) =>
    gitlab.verify(input("{}", value === undefined ? {} : { "x-gitlab-token": value }, { secrets }));

  test("accepts the webhook's secret token", () => {
    expect(token("s3cret")).toBe(true);
  });

  test("accepts any active secret during a rotation", () => {
    expect(token("s3cret", ["next", "s3cret"])).toBe(true);
  });

  test.each([
    ["another token", "s3cret2"],
    ["a prefix of the secret", "s3c"],
    ["an empty token", ""],
    ["garbage", "\u0000\ud800"],
  ])("rejects %s", (_what, value) => {
    expect(token(value)).toBe(false);
  });

  test("rejects a missing header and an integration without secrets", () => {
    expect(token(undefined)).toBe(false);
    expect(token("", [""])).toBe(false);
    expect(token("s3cret", [])).toBe(false);
  });
});

describe("GitLab delivery id", () => {
  test("prefers Idempotency-Key, which survives GitLab's retries", () => {
    const headers = { "idempotency-key": "b3f5a6e0-key", "x-gitlab-event-uuid": "13792a34-uuid" };
    expect(gitlab.deliveryId(input("{}", headers))).toBe("b3f5a6e0-key");
  });

  test("falls back to X-Gitlab-Event-UUID, then to the body's hash", () => {
    expect(gitlab.deliveryId(input("{}", { "x-gitlab-event-uuid": "13792a34-uuid" }))).toBe("13792a34-uuid");
    expect(gitlab.deliveryId(input("{}"))).toMatch(/^sha256:/);
  });
});

describe("Push Hook", () => {
  test("each pushed commit is a change, chained to `before`", () => {
    const events = eventsOf(mapHook("push.json", "Push Hook"));
    const repository = { name: "mike/diaspora", provider: "gitlab", url: "http://example.com/mike/diaspora" };
    expect(events).toEqual([
      {
        kind: "change",
        repository,
        sha: "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        committed_at: "2011-12-12T12:27:31.000Z",
        author: "Jordi Mallach",
        message: "Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information",
        branch: "master",
        files: ["CHANGELOG", "app/controller/application.rb"],
        // total_commits_count (4) exceeds the listed commits: the first one's parent is not `before`
        parents: undefined,
      },
      {
        kind: "change",
        repository,
        sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        committed_at: "2012-01-03T21:36:29.000Z",
        author: "GitLab dev user",
        message: "fixed readme",
        branch: "master",
        files: ["CHANGELOG", "app/controller/application.rb"],
        parents: ["b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"],
      },
    ]);
  });

  test("when every commit is listed, the first one's parent is `before`", () => {
    const events = eventsOf(mapHook("push.json", "Push Hook", (p) => (p.total_commits_count = 2)));
    expect(events[0]).toMatchObject({ parents: ["95790bf891e76fee5e1747ab589903a6a1f80f22"] });
  });

  test("a push without commits is ignored", () => {
    expect(mapHook("push.json", "Push Hook", (p) => (p.commits = [])).status).toBe("ignored");
  });

  test("tag pushes are ignored", () => {
    expect(mapHook("tag_push.json", "Tag Push Hook")).toMatchObject({ status: "ignored", event: "Tag Push Hook" });
  });

  test("a system hook routes on object_kind", () => {
    expect(mapHook("push.json", "System Hook").status).toBe("processed");
  });
});

describe("Merge Request Hook", () => {
  test("a merged MR is its commit, with iid, open and merge times", () => {
    expect(eventsOf(mapHook("merge_request.merge.json", "Merge Request Hook"))).toEqual([
      {
        kind: "change",
        repository: { name: "gitlabhq/gitlab-test", provider: "gitlab", url: "http://example.com/gitlabhq/gitlab-test" },
        // no merge commit in this delivery (a fast-forward merge): the MR's last commit landed as is
        sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        committed_at: "2013-12-03T17:23:34.000Z",
        branch: "master",
        pull_request: {
          number: 1,
          opened_at: "2013-12-03T17:23:34.000Z",
          merged_at: "2013-12-03T17:23:34.000Z",
          url: "http://example.com/diaspora/merge_requests/1",
        },
      },
    ]);
  });

  test("merge_commit_sha wins when the merge made a merge commit", () => {
    const [event] = eventsOf(
      mapHook("merge_request.merge.json", "Merge Request Hook", (p) => {
        p.object_attributes.merge_commit_sha = "279484c09fbe69ededfced8c1bb6e6d24616b468";
        p.object_attributes.updated_at = "2013-12-04 09:00:00 UTC";
      }),
    );
    expect(event).toMatchObject({
      sha: "279484c09fbe69ededfced8c1bb6e6d24616b468",
      pull_request: { merged_at: "2013-12-04T09:00:00.000Z" },
    });
  });

  test("other MR actions are ignored", () => {
    expect(mapHook("merge_request.open.json", "Merge Request Hook")).toMatchObject({
      status: "ignored",
      reason: "merge request open",
    });
  });
});

describe("Deployment Hook", () => {
  test("a successful deployment, with the full sha from commit_url", () => {
    expect(eventsOf(mapHook("deployment.json", "Deployment Hook"))).toEqual([
      {
        kind: "deployment",
        service: { repository: "root/test-deployment-webhooks" },
        repository: {
          name: "root/test-deployment-webhooks",
          provider: "gitlab",
          url: "http://10.126.0.2:3000/root/test-deployment-webhooks",
        },
        environment: "staging",
        sha: "279484c09fbe69ededfced8c1bb6e6d24616b468",
        status: "success",
        started_at: undefined,
        finished_at: "2021-04-28T19:50:00.000Z",
        external_id: "gitlab-deployment-15",
        url: "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
        branch: undefined,
      },
    ]);
  });

  test.each([
    ["running", "in_progress"],
    ["failed", "failure"],
    ["canceled", "canceled"],
  ])("status %s maps to %s", (status, mapped) => {
    const [event] = eventsOf(mapHook("deployment.json", "Deployment Hook", (p) => (p.status = status)));
    expect(event).toMatchObject({ status: mapped, external_id: "gitlab-deployment-15" });
  });

  test("a running deployment starts at status_changed_at and is not finished", () => {
    const [event] = eventsOf(mapHook("deployment.json", "Deployment Hook", (p) => (p.status = "running")));
    expect(event).toMatchObject({ started_at: "2021-04-28T19:50:00.000Z", finished_at: undefined });
  });

  test("a commit_url without a full sha is an invalid payload", () => {
    expect(() => mapHook("deployment.json", "Deployment Hook", (p) => (p.commit_url = "http://x/-/commit/279484c0"))).toThrow(
      expect.objectContaining({ code: "invalid_payload" }),
    );
  });
});

describe("Issue Hook of type incident", () => {
  test("an opened incident is an open incident of the project's service", () => {
    expect(eventsOf(mapHook("work_item.incident.open.json", "Issue Hook"))).toEqual([
      {
        kind: "incident",
        service: { repository: "gitlabhq/gitlab-test" },
        external_id: "gitlab-incident-301",
        title: "New API: create/update/delete file",
        severity: "high",
        url: "http://example.com/diaspora/issues/23",
        started_at: "2013-12-03T17:15:43.000Z",
        resolved_at: undefined, // open; unstated so that a late `open` never undoes a `close`
      },
    ]);
  });

  test("reopening it opens it again", () => {
    const [event] = eventsOf(mapHook("work_item.incident.open.json", "Issue Hook", (p) => (p.object_attributes.action = "reopen")));
    expect(event).toMatchObject({ resolved_at: null });
  });

  test("closing it resolves it at closed_at", () => {
    const [event] = eventsOf(
      mapHook("work_item.incident.open.json", "Issue Hook", (p) => {
        p.object_attributes.action = "close";
        p.object_attributes.closed_at = "2013-12-03 18:15:43 UTC";
      }),
    );
    expect(event).toMatchObject({ resolved_at: "2013-12-03T18:15:43.000Z" });
  });

  test("older GitLab versions name the type in issue_type", () => {
    const result = mapHook("issue.open.json", "Issue Hook", (p) => {
      delete p.object_attributes.type;
      p.object_attributes.issue_type = "incident";
    });
    expect(result.status).toBe("processed");
  });

  test("plain issues are ignored", () => {
    expect(mapHook("issue.open.json", "Issue Hook")).toMatchObject({ status: "ignored", reason: "issue of type issue" });
  });
});

describe("hooks Sluice does not use", () => {
  test("are ignored, never rejected (GitLab disables hooks answered with 4xx)", () => {
    const body = JSON.stringify({ object_kind: "wiki_page", object_attributes: { action: "create" } });
    expect(gitlab.map(input(body, { "x-gitlab-event": "Wiki Page Hook" }))).toMatchObject({
      status: "ignored",
      event: "Wiki Page Hook",
    });
  });

  test("a body without object_kind is ignored", () => {
    expect(gitlab.map(input("[]", { "x-gitlab-event": "Push Hook" })).status).toBe("ignored");
  });
});
