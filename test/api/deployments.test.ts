import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

const sha = (c: string) => c.repeat(40);

interface DeploymentView {
  id: number;
  status: string;
  finished_at: string | null;
  production: boolean;
  failed: boolean;
  failure_reasons: string[];
  external_id: string;
  changes: number;
}

describe("POST/PATCH/GET /api/v1/deployments", () => {
  let t: TestApp;
  const post = (json: Record<string, unknown>, token?: string) =>
    t.request("/api/v1/deployments", { method: "POST", json, ...(token ? { token } : {}) });
  const count = async () => (await t.database.db.query.deployments.findMany()).length;

  beforeAll(async () => {
    t = await createTestApp({ now: "2026-06-15T12:00:00Z" });
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } });
    await t.request("/api/v1/teams", { method: "POST", json: { slug: "search", name: "Search" } });
    await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout", team: "payments", repositories: [{ name: "octo/checkout" }] } });
    await t.request("/api/v1/services", { method: "POST", json: { slug: "indexer", team: "search" } });
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("records a deployment (201), and the same call again updates it (200) without counting twice", async () => {
      const json = { service: "checkout", environment: "production", sha: sha("a"), external_id: "run-1", finished_at: "2026-06-01T10:00:00Z" };
      const first = await post(json);
      expect(first.status).toBe(201);
      expect(await first.json()).toMatchObject({ service: "checkout", status: "success", production: true, external_id: "run-1" });
      const before = await count();
      const again = await post(json);
      expect(again.status).toBe(200);
      expect(await count()).toBe(before);
    });

    test("without an external id, one is derived so a retried call never counts twice", async () => {
      const json = { service: "checkout", environment: "staging", sha: sha("b"), started_at: "2026-06-02T09:00:00+02:00" };
      const first = (await (await post(json)).json()) as DeploymentView;
      expect(first.external_id).toBe(`staging:${sha("b")}:2026-06-02T07:00:00.000Z`);
      const before = await count();
      expect((await post(json)).status).toBe(200);
      expect(await count()).toBe(before);
    });

    test("a success without finished_at finishes when Sluice receives it", async () => {
      t.setNow("2026-06-03T08:30:00Z");
      const body = (await (await post({ service: "checkout", environment: "production", sha: sha("c"), external_id: "run-3" })).json()) as DeploymentView;
      expect(body.finished_at).toBe("2026-06-03T08:30:00.000Z");
      t.setNow("2026-06-03T09:00:00Z");
      const retried = (await (await post({ service: "checkout", environment: "production", sha: sha("c"), external_id: "run-3" })).json()) as DeploymentView;
      expect(retried.finished_at).toBe("2026-06-03T08:30:00.000Z");
    });

    test("a late in_progress update never moves a finished deployment back", async () => {
      await post({ service: "checkout", environment: "production", sha: sha("d"), external_id: "run-4", status: "success", finished_at: "2026-06-04T10:00:00Z" });
      const late = (await (await post({ service: "checkout", environment: "production", sha: sha("d"), external_id: "run-4", status: "in_progress" })).json()) as DeploymentView;
      expect(late).toMatchObject({ status: "success", production: true });
    });

    test("PATCH marks a deployment failed, or finishes it", async () => {
      const created = (await (await post({ service: "checkout", environment: "production", sha: sha("e"), external_id: "run-5", status: "in_progress" })).json()) as DeploymentView;
      expect(created.production).toBe(false);
      const finished = await t.request(`/api/v1/deployments/${created.id}`, { method: "PATCH", json: { status: "success", finished_at: "2026-06-05T10:00:00Z" } });
      expect(await finished.json()).toMatchObject({ status: "success", production: true, finished_at: "2026-06-05T10:00:00.000Z" });
      const failed = await t.request(`/api/v1/deployments/${created.id}`, { method: "PATCH", json: { failed: true } });
      expect(await failed.json()).toMatchObject({ failed: true, failure_reasons: ["marked"] });
    });

    test("explicit commits become the deployment's changes, with lead times", async () => {
      const created = (await (
        await post({
          service: "checkout",
          environment: "production",
          sha: sha("f"),
          external_id: "run-6",
          finished_at: "2026-06-06T12:00:00Z",
          commits: [
            { sha: sha("f"), committed_at: "2026-06-06T10:00:00Z", message: "fix" },
            { sha: "9".repeat(40), committed_at: "2026-06-06T11:00:00Z", parents: [sha("e")] },
          ],
        })
      ).json()) as DeploymentView;
      // The answer is the stored event; derivation follows, and any read sees it done.
      expect(created).toMatchObject({ changes: 0, derived: false });
      const detail = (await (await t.request(`/api/v1/deployments/${created.id}`)).json()) as {
        changes: number;
        derived: boolean;
        commits: Array<{ sha: string; lead_time_seconds: number }>;
      };
      expect(detail).toMatchObject({ changes: 2, derived: true });
      expect(detail.commits.map((c) => [c.sha, c.lead_time_seconds]).sort()).toEqual([
        ["9".repeat(40), 3600],
        [sha("f"), 7200],
      ]);
    });

    test("lists filter by service, environment, window and production, newest first", async () => {
      const list = (await (await t.request("/api/v1/deployments?service=checkout&environment=production&from=2026-06-01T00:00:00Z&to=2026-06-04T00:00:00Z")).json()) as { items: DeploymentView[] };
      expect(list.items.map((d) => d.external_id)).toEqual(["run-3", "run-1"]);
      const staging = (await (await t.request("/api/v1/deployments?production=false&service=checkout")).json()) as { items: DeploymentView[] };
      expect(staging.items.every((d) => !d.production)).toBe(true);
    });
  });

  describe("bad input", () => {
    test.each([
      [{ environment: "production", sha: sha("a") }, "service"],
      [{ service: "checkout", environment: "production", sha: "not-a-sha" }, "sha"],
      [{ service: "checkout", environment: "production", sha: sha("a"), status: "done" }, "status"],
      [{ service: "checkout", environment: "production", sha: sha("a"), finished_at: "2026-13-01" }, "finished_at"],
      [{ service: "checkout", environment: "production", sha: sha("a"), fixes: true }, "fixes"],
      [{ service: "checkout", environment: "", sha: sha("a") }, "environment"],
      [{ service: "checkout", environment: "production", sha: sha("a"), commits: [{ sha: sha("1") }] }, "commits.0.committed_at"],
      [{ service: "checkout", environment: "production", sha: sha("a"), extra: 1 }, "extra"],
      [{ service: "checkout", environment: "production", sha: sha("a"), started_at: "2026-06-02T10:00:00Z", finished_at: "2026-06-02T09:00:00Z" }, "finished_at"],
    ])("%j is a 400 naming %s, and writes nothing", async (json, field) => {
      const before = await count();
      const response = await post(json);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; details: Array<{ field: string }> } };
      expect(body.error.details.map((d) => d.field)).toContain(field);
      expect(await count()).toBe(before);
    });

    test("an unknown service is a 404, not a silent create", async () => {
      const response = await post({ service: "nope", environment: "production", sha: sha("a") });
      expect(response.status).toBe(404);
      expect((await t.request("/api/v1/services/nope")).status).toBe(404);
    });

    test("PATCH with nothing to change, or an unknown id, is refused", async () => {
      expect((await t.request("/api/v1/deployments/1", { method: "PATCH", json: {} })).status).toBe(400);
      expect((await t.request("/api/v1/deployments/999999", { method: "PATCH", json: { failed: true } })).status).toBe(404);
      expect((await t.request("/api/v1/deployments/abc", { method: "PATCH", json: { failed: true } })).status).toBe(400);
    });

    test("a window with from after to is a 400", async () => {
      expect((await t.request("/api/v1/deployments?from=2026-06-05T00:00:00Z&to=2026-06-01T00:00:00Z")).status).toBe(400);
    });
  });

  describe("security", () => {
    test("an ingest token limited to another team cannot write or patch this team's deployments", async () => {
      const token = await t.token(["ingest", "read"], "search");
      expect((await post({ service: "checkout", environment: "production", sha: sha("a") }, token)).status).toBe(403);
      expect((await t.request("/api/v1/deployments/1", { method: "PATCH", token, json: { failed: true } })).status).toBe(403);
      expect((await post({ service: "indexer", environment: "production", sha: sha("a") }, token)).status).toBe(201);
      const visible = (await (await t.request("/api/v1/deployments", { token })).json()) as { items: Array<{ service: string }> };
      expect(new Set(visible.items.map((d) => d.service))).toEqual(new Set(["indexer"]));
    });

    test("a read token cannot ingest; an ingest token cannot read", async () => {
      const reader = await t.token(["read"]);
      const writer = await t.token(["ingest"]);
      expect((await post({ service: "checkout", environment: "production", sha: sha("a") }, reader)).status).toBe(403);
      expect((await t.request("/api/v1/deployments", { token: writer })).status).toBe(403);
    });
  });
});
