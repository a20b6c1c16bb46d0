import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

describe("teams and services", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("a team is created, listed, read with its services, and renamed", async () => {
      expect((await t.request("/api/v1/teams", { method: "POST", json: { slug: "payments", name: "Payments" } })).status).toBe(201);
      const service = await t.request("/api/v1/services", {
        method: "POST",
        json: {
          slug: "checkout",
          name: "Checkout",
          team: "payments",
          repositories: [{ provider: "github", name: "Octo/Checkout" }],
          aliases: ["checkout-api"],
          production_pattern: "^prod(-[a-z]+)?$",
          attribution_window_seconds: 3600,
        },
      });
      expect(service.status).toBe(201);
      expect(await service.json()).toMatchObject({
        slug: "checkout",
        team: "payments",
        repositories: [{ provider: "github", name: "octo/checkout", path_prefix: "" }],
        aliases: ["checkout-api"],
        production_pattern: "^prod(-[a-z]+)?$",
        deployment_pattern: "deploy",
        attribution_window_seconds: 3600,
      });
      const team = await (await t.request("/api/v1/teams/payments")).json();
      expect(team).toMatchObject({ slug: "payments", services: ["checkout"] });
      const renamed = await t.request("/api/v1/teams/payments", { method: "PATCH", json: { name: "Payments & Billing" } });
      expect(await renamed.json()).toMatchObject({ name: "Payments & Billing" });
      const list = (await (await t.request("/api/v1/teams")).json()) as { items: unknown[] };
      expect(list.items).toHaveLength(1);
    });

    test("a monorepo maps several services to one repository by path prefix", async () => {
      for (const slug of ["api", "worker"]) {
        const response = await t.request("/api/v1/services", {
          method: "POST",
          json: { slug, repositories: [{ provider: "gitlab", name: "acme/mono", path_prefix: `services/${slug}/` }] },
        });
        expect(response.status).toBe(201);
      }
      const api = await (await t.request("/api/v1/services/api")).json();
      expect(api).toMatchObject({ repositories: [{ name: "acme/mono", path_prefix: "services/api/" }] });
    });

    test("changing the production pattern re-derives which deployments were production", async () => {
      await t.request("/api/v1/services", { method: "POST", json: { slug: "billing" } });
      const posted = await t.request("/api/v1/deployments", {
        method: "POST",
        json: { service: "billing", environment: "live", sha: "a".repeat(40), finished_at: "2026-06-01T10:00:00Z" },
      });
      expect(await posted.json()).toMatchObject({ production: false });
      await t.request("/api/v1/services/billing", { method: "PATCH", json: { production_pattern: "^live$" } });
      const list = (await (await t.request("/api/v1/deployments?service=billing")).json()) as { items: Array<{ production: boolean; baseline: boolean }> };
      expect(list.items[0]).toMatchObject({ production: true, baseline: true });
    });

    test("lists page with a cursor", async () => {
      for (let i = 0; i < 5; i++) await t.request("/api/v1/services", { method: "POST", json: { slug: `svc-${i}` } });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
        const page = (await (await t.request(`/api/v1/services${query}`)).json()) as { items: Array<{ slug: string }>; next_cursor: string | null };
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((s) => s.slug));
        cursor = page.next_cursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(["svc-0", "svc-4", "checkout"]));
    });
  });

  describe("bad input", () => {
    test.each([
      [{ slug: "Not A Slug" }, "slug"],
      [{ slug: "ok", production_pattern: "(" }, "production_pattern"],
      [{ slug: "ok", attribution_window_seconds: -1 }, "attribution_window_seconds"],
      [{ slug: "ok", repositories: [{ name: "no-owner" }] }, "repositories.0.name"],
      [{ slug: "ok", repositories: [{ name: "a/b", path_prefix: "/abs/" }] }, "repositories.0.path_prefix"],
      [{ slug: "ok", team: 7 }, "team"],
    ])("%j is a 400 naming %s, and writes nothing", async (json, field) => {
      const response = await t.request("/api/v1/services", { method: "POST", json });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { details: Array<{ field: string }> } };
      expect(body.error.details.map((d) => d.field)).toContain(field);
      expect((await t.request("/api/v1/services/ok")).status).toBe(404);
    });

    test("a duplicate slug is a 409", async () => {
      await t.request("/api/v1/teams", { method: "POST", json: { slug: "dup", name: "Dup" } });
      const again = await t.request("/api/v1/teams", { method: "POST", json: { slug: "dup", name: "Dup" } });
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ error: { code: "conflict" } });
    });

    test("a service for an unknown team is a 404 and leaves no half-created service", async () => {
      const response = await t.request("/api/v1/services", { method: "POST", json: { slug: "orphan", team: "ghosts", repositories: [{ name: "a/orphan" }] } });
      expect(response.status).toBe(404);
      expect((await t.request("/api/v1/services/orphan")).status).toBe(404);
    });

    test("a garbage cursor is a 400", async () => {
      expect((await t.request("/api/v1/services?cursor=%%%")).status).toBe(400);
      expect((await t.request("/api/v1/services?limit=5000")).status).toBe(400);
    });
  });

  describe("security", () => {
    test("a team-limited token sees only its team's services and teams", async () => {
      await t.request("/api/v1/teams", { method: "POST", json: { slug: "search", name: "Search" } });
      await t.request("/api/v1/services", { method: "POST", json: { slug: "indexer", team: "search" } });
      const token = await t.token(["read"], "search");
      const list = (await (await t.request("/api/v1/services", { token })).json()) as { items: Array<{ slug: string }> };
      expect(list.items.map((s) => s.slug)).toEqual(["indexer"]);
      expect((await t.request("/api/v1/services/checkout", { token })).status).toBe(403);
      expect((await t.request("/api/v1/teams/payments", { token })).status).toBe(403);
      const teams = (await (await t.request("/api/v1/teams", { token })).json()) as { items: Array<{ slug: string }> };
      expect(teams.items.map((x) => x.slug)).toEqual(["search"]);
    });

    test("writing teams and services needs admin", async () => {
      const token = await t.token(["read", "ingest"]);
      expect((await t.request("/api/v1/teams", { method: "POST", token, json: { slug: "x", name: "x" } })).status).toBe(403);
      expect((await t.request("/api/v1/services/checkout", { method: "PATCH", token, json: { name: "x" } })).status).toBe(403);
    });
  });
});
