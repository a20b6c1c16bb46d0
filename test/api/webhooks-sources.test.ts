import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration } from "../support/webhooks.ts";

const fixture = (path: string) => readFileSync(new URL(`../../collectors/test/fixtures/${path}`, import.meta.url), "utf8");

describe("webhook sources other than GitHub, through the real route", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const post = (url: string, headers: Record<string, string>, body: string) =>
    t.app.request(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  test("PagerDuty: a V3 incident signed with any active key opens an incident on the service it names", async () => {
    const pagerduty = await createIntegration(t, "pagerduty");
    const body = fixture("pagerduty/incident.triggered.json");
    const service = (JSON.parse(body) as { event: { data: { service: { summary: string } } } }).event.data.service.summary;
    const sign = (secret: string) => `v1=${createHmac("sha256", secret).update(body).digest("hex")}`;
    const response = await post(pagerduty.url, { "x-pagerduty-signature": `${sign("an-old-rotated-key")},${sign(pagerduty.secret)}`, "x-webhook-id": "pd-1" }, body);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: "processed", events: [{ kind: "incident", action: "created" }] });
    const incidents = (await (await t.request("/api/v1/incidents")).json()) as { items: Array<{ service: string; resolved_at: string | null }> };
    expect(incidents.items[0]?.resolved_at).toBeNull();
    expect(incidents.items[0]?.service).toBe(service.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/-+$/, ""));
    expect((await post(pagerduty.url, { "x-pagerduty-signature": sign("wrong-key-000000") }, body)).status).toBe(401);
    expect((await post(pagerduty.url, { "x-pagerduty-signature": sign(pagerduty.secret), "x-webhook-id": "pd-1" }, body)).status).toBe(200);
  });

  test("Alertmanager: each alert becomes an incident, resolved at endsAt; the bearer secret is required", async () => {
    const alertmanager = await createIntegration(t, "alertmanager");
    const body = fixture("alertmanager/grouped.json");
    const auth = { authorization: `Bearer ${alertmanager.secret}` };
    const first = await post(alertmanager.url, auth, body);
    expect(first.status).toBe(202);
    const answer = (await first.json()) as { status: string; events: Array<{ kind: string }> };
    expect(answer.status).toBe("processed");
    expect(answer.events.length).toBeGreaterThan(0);
    // The delivery id is the body's hash: the same body again is a duplicate.
    expect((await post(alertmanager.url, auth, body)).status).toBe(200);
    expect((await post(alertmanager.url, { authorization: "Bearer nope" }, body)).status).toBe(401);
    expect((await post(alertmanager.url, {}, body)).status).toBe(401);
  });

  test("CDEvents: binary and structured CloudEvents record a deployment", async () => {
    const cdevents = await createIntegration(t, "cdevents");
    const event = JSON.parse(fixture("cdevents/service_deployed.v0.4.json")) as { context: { id: string; source: string; type: string } };
    const auth = { authorization: `Bearer ${cdevents.secret}` };
    const binary = await post(
      cdevents.url,
      { ...auth, "ce-specversion": "1.0", "ce-id": event.context.id, "ce-source": event.context.source, "ce-type": event.context.type },
      JSON.stringify(event),
    );
    expect(binary.status).toBe(202);
    expect(await binary.json()).toMatchObject({ status: "processed", events: [{ kind: "deployment" }] });
    const structured = await post(
      cdevents.url,
      { ...auth, "content-type": "application/cloudevents+json" },
      JSON.stringify({ specversion: "1.0", id: "other-id", source: event.context.source, type: event.context.type, datacontenttype: "application/json", data: event }),
    );
    expect(structured.status).toBe(202);
    expect((await post(cdevents.url, {}, JSON.stringify(event))).status).toBe(401);
  });

  test("GitLab: the token header must equal the secret; unused events are 202 ignored, never 4xx", async () => {
    const gitlab = await createIntegration(t, "gitlab");
    const body = fixture("gitlab/merge_request.open.json");
    const ignored = await post(gitlab.url, { "x-gitlab-token": gitlab.secret, "x-gitlab-event": "Merge Request Hook" }, body);
    expect(ignored.status).toBe(202);
    expect(await ignored.json()).toMatchObject({ status: "ignored" });
    const unknown = await post(gitlab.url, { "x-gitlab-token": gitlab.secret, "x-gitlab-event": "Wiki Page Hook" }, '{"object_kind":"wiki_page"}');
    expect(unknown.status).toBe(202);
    expect((await post(gitlab.url, { "x-gitlab-token": "wrong", "x-gitlab-event": "Push Hook" }, fixture("gitlab/push.json"))).status).toBe(401);
  });
});
