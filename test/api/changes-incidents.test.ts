import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

const sha = (c: string) => c.repeat(40);

describe("POST/GET /api/v1/changes", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout" } });
  });
  afterAll(() => t.close());

  test("a commit of an unknown repository creates a service named after it", async () => {
    const response = await t.request("/api/v1/changes", {
      method: "POST",
      json: { repository: "octo/payments-api", sha: sha("a"), committed_at: "2026-06-01T10:00:00+02:00", files: ["src/a.ts"] },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ committed_at: "2026-06-01T08:00:00.000Z", services: ["payments-api"], files: ["src/a.ts"] });
    expect((await t.request("/api/v1/services/payments-api")).status).toBe(200);
  });

  test("a name clash takes the owner-qualified name", async () => {
    const response = await t.request("/api/v1/changes", { method: "POST", json: { repository: "octo/checkout", sha: sha("b"), committed_at: "2026-06-01T10:00:00Z" } });
    expect(await response.json()).toMatchObject({ services: ["octo-checkout"] });
  });

  test("posting the same commit again merges what is new (parents, PR) and answers 200", async () => {
    const again = await t.request("/api/v1/changes", {
      method: "POST",
      json: {
        repository: "octo/payments-api",
        sha: sha("a"),
        committed_at: "2026-06-01T08:00:00Z",
        parents: [sha("9")],
        pull_request: { number: 7, opened_at: "2026-05-31T09:00:00Z", merged_at: "2026-06-01T09:00:00Z" },
      },
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ parents: [sha("9")], pull_request: { number: 7 }, files: ["src/a.ts"] });
    const list = (await (await t.request("/api/v1/changes?repository=octo/payments-api")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
  });

  test("bad input names the field and writes nothing", async () => {
    for (const [json, field] of [
      [{ repository: "no-slash", sha: sha("c"), committed_at: "2026-06-01T10:00:00Z" }, "repository"],
      [{ repository: "a/b", sha: sha("c") }, "committed_at"],
      [{ repository: "a/b", sha: sha("c"), committed_at: "2026-06-01T10:00:00Z", parents: ["zz"] }, "parents.0"],
      [{ repository: "a/b", sha: sha("c"), committed_at: "2026-06-01T10:00:00Z", pull_request: { number: 1 } }, "pull_request.opened_at"],
    ] as const) {
      const response = await t.request("/api/v1/changes", { method: "POST", json });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { details: Array<{ field: string }> } };
      expect(body.error.details.map((d) => d.field)).toContain(field);
    }
    expect((await t.request("/api/v1/services/b")).status).toBe(404);
  });

  test("a team-limited token creates new repositories' services in its team, and cannot write other teams' repositories", async () => {
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "search", name: "Search" } });
    const token = await t.token(["ingest"], "search");
    const created = await t.request("/api/v1/changes", { method: "POST", token, json: { repository: "octo/indexer", sha: sha("d"), committed_at: "2026-06-01T10:00:00Z" } });
    expect(created.status).toBe(201);
    expect(await (await t.request("/api/v1/services/indexer")).json()).toMatchObject({ team: "search" });
    const other = await t.request("/api/v1/changes", { method: "POST", token, json: { repository: "octo/payments-api", sha: sha("e"), committed_at: "2026-06-01T10:00:00Z" } });
    expect(other.status).toBe(403);
  });
});

describe("POST/GET /api/v1/incidents", () => {
  let t: TestApp;
  const post = (json: Record<string, unknown>) => t.request("/api/v1/incidents", { method: "POST", json });
  beforeAll(async () => {
    t = await createTestApp();
    await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout" } });
    await t.request("/api/v1/deployments", {
      method: "POST",
      json: { service: "checkout", environment: "production", sha: sha("a"), finished_at: "2026-06-01T10:00:00Z" },
    });
  });
  afterAll(() => t.close());

  test("an incident is recorded, attributed, resolved by posting again, and reopened with null", async () => {
    const opened = await post({ service: "checkout", external_id: "INC-1", title: "checkout down", severity: "sev1", started_at: "2026-06-01T11:00:00Z" });
    expect(opened.status).toBe(201);
    expect(await opened.json()).toMatchObject({ resolved_at: null, derived: false });
    const listed = (await (await t.request("/api/v1/incidents?service=checkout")).json()) as { items: unknown[] };
    expect(listed.items[0]).toMatchObject({ external_id: "INC-1", deployment: { sha: sha("a") }, derived: true });
    const resolved = await post({ service: "checkout", external_id: "INC-1", started_at: "2026-06-01T11:00:00Z", resolved_at: "2026-06-01T11:30:00Z" });
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toMatchObject({ title: "checkout down", resolved_at: "2026-06-01T11:30:00.000Z", time_to_restore_seconds: 1800 });
    const again = await post({ service: "checkout", external_id: "INC-1", started_at: "2026-06-01T11:00:00Z" });
    expect(await again.json()).toMatchObject({ resolved_at: "2026-06-01T11:30:00.000Z" });
    const reopened = await post({ service: "checkout", external_id: "INC-1", started_at: "2026-06-01T11:00:00Z", resolved_at: null });
    expect(await reopened.json()).toMatchObject({ resolved_at: null });
    const open = (await (await t.request("/api/v1/incidents?status=open")).json()) as { items: unknown[] };
    expect(open.items).toHaveLength(1);
  });

  test("bad input and unknown services are refused without writing", async () => {
    const before = (await t.database.db.query.incidents.findMany()).length;
    expect((await post({ service: "checkout", external_id: "X", started_at: "2026-06-01T11:00:00Z", resolved_at: "2026-06-01T10:00:00Z" })).status).toBe(400);
    expect((await post({ service: "checkout", started_at: "2026-06-01T11:00:00Z" })).status).toBe(400);
    expect((await post({ service: "checkout", external_id: "X", started_at: "soon" })).status).toBe(400);
    expect((await post({ service: "nope", external_id: "X", started_at: "2026-06-01T11:00:00Z" })).status).toBe(404);
    expect((await t.database.db.query.incidents.findMany()).length).toBe(before);
  });
});
