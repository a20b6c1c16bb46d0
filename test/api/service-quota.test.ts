import { changes, repositories, services } from "@sluice/db";
import { eq, inArray, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";

const QUOTA = 3;
let shaCounter = 0;
const nextSha = () => (++shaCounter).toString(16).padStart(40, "0");

type ApiErrorBody = { error: { code: string; message: string; details?: unknown } };

describe("auto-created services count against a quota per token and per integration", () => {
  let t: TestApp;
  const postChange = (repository: string, token: string, sha = nextSha()) =>
    t.request("/api/v1/changes", { method: "POST", token, json: { repository, sha, committed_at: "2026-06-01T10:00:00Z" } });
  const serviceRows = (prefix: string) =>
    t.database.db
      .select({ slug: services.slug, teamId: services.teamId, autoCreatedBy: services.autoCreatedBy })
      .from(services)
      .where(like(services.slug, `${prefix}%`))
      .orderBy(services.slug);
  /** Nothing of the refused request: no repository, no service, no commit. */
  const expectNothingOf = async (repository: string, sha: string) => {
    expect(await t.database.db.select().from(repositories).where(eq(repositories.name, repository))).toEqual([]);
    expect(await t.database.db.select().from(services).where(eq(services.slug, repository.split("/")[1] as string))).toEqual([]);
    expect(await t.database.db.select().from(changes).where(eq(changes.sha, sha))).toEqual([]);
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { SLUICE_AUTO_SERVICE_QUOTA: String(QUOTA) } });
    for (const slug of ["payments", "search"]) {
      expect((await t.request("/api/v1/teams", { method: "POST", json: { slug, name: slug } })).status).toBe(201);
    }
    const indexer = { slug: "indexer", team: "search", repositories: [{ name: "octo/indexer" }] };
    expect((await t.request("/api/v1/services", { method: "POST", json: indexer })).status).toBe(201);
  });
  afterAll(() => t.close());

  describe("ingest tokens", () => {
    test("a token creates up to the quota; the next unknown repository is a 403 naming the quota, and nothing of it is written", async () => {
      const token = await t.token(["ingest"]);
      const tokenId = ((await (await t.request("/api/v1/tokens/self", { token })).json()) as { id: number }).id;
      for (const n of [1, 2, 3]) expect((await postChange(`octo/a-${n}`, token)).status).toBe(201);
      expect(await serviceRows("a-")).toEqual([1, 2, 3].map((n) => ({ slug: `a-${n}`, teamId: null, autoCreatedBy: `token:${tokenId}` })));

      const sha = nextSha();
      const refused = await postChange("octo/a-4", token, sha);
      expect(refused.status).toBe(403);
      const body = (await refused.json()) as ApiErrorBody;
      expect(body.error.code).toBe("service_quota_exceeded");
      expect(body.error.message).toContain("3 services");
      expect(body.error.message).toContain("SLUICE_AUTO_SERVICE_QUOTA");
      expect(body.error.details).toEqual({ quota: QUOTA, setting: "SLUICE_AUTO_SERVICE_QUOTA" });
      await expectNothingOf("octo/a-4", sha);

      // Repositories it already has, and services an admin made, still take its commits.
      expect((await postChange("octo/a-1", token)).status).toBe(201);
      const adminMade = { slug: "a-9", repositories: [{ name: "octo/a-9" }] };
      expect((await t.request("/api/v1/services", { method: "POST", json: adminMade })).status).toBe(201);
      expect((await postChange("octo/a-9", token)).status).toBe(201);
    });

    test("another token has a quota of its own", async () => {
      const token = await t.token(["ingest"]);
      for (const n of [1, 2, 3]) expect((await postChange(`octo/b-${n}`, token)).status).toBe(201);
      expect((await postChange("octo/b-4", token)).status).toBe(403);
      expect((await serviceRows("b-")).map((s) => s.slug)).toEqual(["b-1", "b-2", "b-3"]);
    });

    test("concurrent first commits of one token do not pass the quota", async () => {
      const token = await t.token(["ingest"]);
      const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => postChange(`octo/c-${n}`, token)));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(QUOTA);
      expect(statuses.filter((s) => s === 403)).toHaveLength(8 - QUOTA);
      expect(await serviceRows("c-")).toHaveLength(QUOTA);
      const named = await t.database.db.select().from(repositories).where(like(repositories.name, "octo/c-%"));
      expect(named).toHaveLength(QUOTA);
    });

    test("deployments and incidents naming an unknown service create nothing (a 404): no way around the quota", async () => {
      const token = await t.token(["ingest"]);
      const deployment = { service: "z-1", environment: "production", sha: nextSha(), finished_at: "2026-06-01T10:00:00Z" };
      expect((await t.request("/api/v1/deployments", { method: "POST", token, json: deployment })).status).toBe(404);
      const incident = { service: "z-2", external_id: "inc-1", started_at: "2026-06-01T10:00:00Z" };
      expect((await t.request("/api/v1/incidents", { method: "POST", token, json: incident })).status).toBe(404);
      expect(await serviceRows("z-")).toEqual([]);
    });

    test("the admin token is not limited, and what it creates is nobody's quota", async () => {
      for (const n of [1, 2, 3, 4, 5]) {
        const response = await t.request("/api/v1/changes", { method: "POST", json: { repository: `octo/d-${n}`, sha: nextSha(), committed_at: "2026-06-01T10:00:00Z" } });
        expect(response.status).toBe(201);
      }
      expect((await serviceRows("d-")).map((s) => s.autoCreatedBy)).toEqual([null, null, null, null, null]);
    });
  });

  describe("team-limited tokens", () => {
    test("what a team-limited token creates lands in its team", async () => {
      const token = await t.token(["ingest"], "payments");
      expect((await postChange("octo/e-1", token)).status).toBe(201);
      const service = (await (await t.request("/api/v1/services/e-1")).json()) as { team: string | null };
      expect(service.team).toBe("payments");
      // ... and it sees and writes it like any of its team's services.
      expect((await t.request("/api/v1/services/e-1", { token: await t.token(["read"], "payments") })).status).toBe(200);
    });

    test("a team-limited token cannot write into a repository another team's (or no team's) service claims", async () => {
      const token = await t.token(["ingest"], "payments");
      for (const repository of ["octo/indexer", "octo/d-1"]) {
        const sha = nextSha();
        const response = await postChange(repository, token, sha);
        expect(response.status).toBe(403);
        expect(((await response.json()) as ApiErrorBody).error.code).toBe("forbidden");
        expect(await t.database.db.select().from(changes).where(eq(changes.sha, sha))).toEqual([]);
      }
    });

    test("its quota is its own too", async () => {
      const token = await t.token(["ingest"], "search");
      for (const n of [1, 2, 3]) expect((await postChange(`octo/f-${n}`, token)).status).toBe(201);
      expect((await postChange("octo/f-4", token)).status).toBe(403);
      const created = await serviceRows("f-");
      expect(created).toHaveLength(3);
      expect(new Set(created.map((s) => s.teamId)).size).toBe(1);
    });
  });

  describe("webhook integrations", () => {
    const pushTo = (repository: string) => {
      const payload = octokitExamples("push").find((p) => Array.isArray(p.commits) && (p.commits as unknown[]).length > 0) as Record<string, unknown>;
      const owner = { ...(payload.repository as Record<string, unknown>), full_name: repository, name: repository.split("/")[1] };
      const commits = (payload.commits as Array<Record<string, unknown>>).map((commit) => ({ ...commit, id: nextSha() }));
      return { ...payload, repository: owner, commits, head_commit: commits.at(-1) };
    };

    test("services an integration's deliveries create are stamped with it", async () => {
      const github = await createIntegration(t, "github");
      const response = await postGithub(t, github, "push", pushTo("octo/g-1"));
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ status: "processed" });
      expect(await serviceRows("g-")).toEqual([{ slug: "g-1", teamId: null, autoCreatedBy: `integration:${github.id}` }]);
    });

    test("a delivery past the integration's quota is stored as failed with the reason, and creates nothing", async () => {
      const github = await createIntegration(t, "github");
      // Through the webhook route, with the app's SLUICE_AUTO_SERVICE_QUOTA.
      const deliver = async (repository: string) =>
        (await postGithub(t, github, "push", pushTo(repository))).json() as Promise<{ delivery_id: string; status: string; error?: string }>;
      for (const n of [1, 2, 3]) expect(await deliver(`octo/h-${n}`)).toMatchObject({ status: "processed" });
      const over = await deliver("octo/h-4");
      expect(over).toMatchObject({ status: "failed" });
      expect(over?.error).toMatch(/^service_quota_exceeded: .*3 services.*SLUICE_AUTO_SERVICE_QUOTA/);

      const failed = (await (await t.request("/api/v1/deliveries?status=failed")).json()) as { items: Array<{ delivery_id: string; error: string }> };
      expect(failed.items.find((d) => d.delivery_id === over.delivery_id)?.error).toMatch(/service_quota_exceeded/);
      expect(await t.database.db.select().from(repositories).where(eq(repositories.name, "octo/h-4"))).toEqual([]);
      expect((await serviceRows("h-")).map((s) => s.autoCreatedBy)).toEqual([1, 2, 3].map(() => `integration:${github.id}`));

      // A push to a repository it already created still goes through (the one-statement path too).
      expect(await deliver("octo/h-1")).toMatchObject({ status: "processed" });
      // Another integration is not affected by this one's quota.
      const other = await createIntegration(t, "github");
      expect((await (await postGithub(t, other, "push", pushTo("octo/h-6"))).json())).toMatchObject({ status: "processed" });
      const stored = await t.database.db.select({ slug: services.slug }).from(services).where(inArray(services.slug, ["h-4", "h-6"]));
      expect(stored.map((s) => s.slug)).toEqual(["h-6"]);
    });
  });
});
