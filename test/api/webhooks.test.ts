import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, githubSignature, octokitExamples, postGithub } from "../support/webhooks.ts";

type Answer = { delivery_id: string; status: string; events: Array<{ kind: string; action: string }> };

describe("POST /webhooks/:source/:integration_id", () => {
  let t: TestApp;
  let github: { id: string; url: string; secret: string };
  const pushExample = () => octokitExamples("push").find((p) => Array.isArray(p.commits) && (p.commits as unknown[]).length > 0) as Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestApp();
    github = await createIntegration(t, "github");
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("a signed push is stored, processed and creates a service named after the repository", async () => {
      const response = await postGithub(t, github, "push", pushExample(), { deliveryId: "push-1" });
      expect(response.status).toBe(202);
      const answer = (await response.json()) as Answer;
      expect(answer).toMatchObject({ delivery_id: "push-1", status: "processed" });
      expect(answer.events.length).toBeGreaterThan(0);
      expect(answer.events.every((e) => e.kind === "change")).toBe(true);
      const list = (await (await t.request("/api/v1/deliveries")).json()) as { items: Array<{ delivery_id: string; status: string; body_retained: boolean }> };
      expect(list.items[0]).toMatchObject({ delivery_id: "push-1", status: "processed", body_retained: true });
    });

    test("a redelivery answers duplicate and changes nothing", async () => {
      const before = await (await t.request("/api/v1/changes")).text();
      const response = await postGithub(t, github, "push", pushExample(), { deliveryId: "push-1" });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ delivery_id: "push-1", status: "duplicate" });
      expect(await (await t.request("/api/v1/changes")).text()).toBe(before);
    });

    test("a form-encoded delivery (GitHub's default content type) is accepted like JSON", async () => {
      const body = `payload=${encodeURIComponent(JSON.stringify(pushExample()))}`;
      const response = await t.app.request(github.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-github-event": "push",
          "x-github-delivery": "form-1",
          "x-hub-signature-256": githubSignature(github.secret, body),
        },
        body,
      });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ status: "processed" });
    });

    test("ping and events Sluice does not use are 202 ignored, never 4xx", async () => {
      for (const [event, payload] of [["ping", { zen: "Keep it logically awesome.", hook_id: 1 }], ["star", { action: "created" }]] as const) {
        const response = await postGithub(t, github, event, payload);
        expect(response.status).toBe(202);
        expect(await response.json()).toMatchObject({ status: "ignored" });
      }
    });

    test("concurrent copies of one delivery are stored exactly once", async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => postGithub(t, github, "push", pushExample(), { deliveryId: "push-concurrent" })),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(11);
      const stored = (await (await t.request("/api/v1/deliveries?limit=1000")).json()) as { items: Array<{ delivery_id: string }> };
      expect(stored.items.filter((d) => d.delivery_id === "push-concurrent")).toHaveLength(1);
    });

    test("a delivery that cannot be mapped is stored as failed, with its error, and answered 202", async () => {
      const response = await postGithub(t, github, "push", { ref: 42, commits: "nope" }, { deliveryId: "bad-push" });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ status: "failed" });
      const failed = (await (await t.request("/api/v1/deliveries?status=failed")).json()) as { items: Array<{ delivery_id: string; error: string }> };
      expect(failed.items.find((d) => d.delivery_id === "bad-push")?.error).toMatch(/invalid_payload/);
    });
  });

  describe("bad input", () => {
    test("a forged, truncated or missing signature is a 401 and nothing is stored", async () => {
      const body = JSON.stringify(pushExample());
      const count = async () => ((await (await t.request("/api/v1/deliveries?limit=1000")).json()) as { items: unknown[] }).items.length;
      const before = await count();
      const forged = githubSignature("not-the-secret", body);
      for (const signature of [forged, githubSignature(github.secret, body).slice(0, 30), null, "sha1=abc"]) {
        const response = await postGithub(t, github, "push", body, { signature });
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: "invalid_signature" } });
      }
      expect(await count()).toBe(before);
    });

    test("an unknown integration, or a source that does not match it, is a 404", async () => {
      expect((await postGithub(t, { ...github, url: "/webhooks/github/nope" }, "push", pushExample())).status).toBe(404);
      expect((await postGithub(t, { ...github, url: `/webhooks/gitlab/${github.id}` }, "push", pushExample())).status).toBe(404);
      expect((await postGithub(t, { ...github, url: `/webhooks/svn/${github.id}` }, "push", pushExample())).status).toBe(404);
    });

    test("a signed body that is not JSON is a 400", async () => {
      const response = await postGithub(t, github, "push", "{not json");
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_json" } });
    });

    test("a body over the limit is a 413", async () => {
      const small = await createTestApp({ env: { SLUICE_MAX_BODY_BYTES: "4096" } });
      try {
        const integration = await createIntegration(small, "github");
        const response = await postGithub(small, integration, "push", { padding: "x".repeat(10_000) });
        expect(response.status).toBe(413);
      } finally {
        await small.close();
      }
    });
  });
});

describe("every published GitHub example of the events Sluice reads", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  test("is accepted: processed or ignored, none failed", async () => {
    const github = await createIntegration(t, "github");
    const events = ["push", "pull_request", "deployment", "deployment_status", "workflow_run", "issues", "ping"];
    let total = 0;
    for (const event of events) {
      for (const example of octokitExamples(event)) {
        const response = await postGithub(t, github, event, example);
        expect(response.status).toBe(202);
        const answer = (await response.json()) as Answer & { error?: string };
        expect(answer.status, `${event}: ${answer.error ?? ""}`).not.toBe("failed");
        total++;
      }
    }
    expect(total).toBeGreaterThan(50);
  }, 180_000);
});
