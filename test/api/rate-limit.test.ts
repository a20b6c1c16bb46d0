import { describe, expect, test } from "vitest";
import { createTestApp } from "../support/app.ts";
import { createIntegration, postGithub } from "../support/webhooks.ts";

describe("rate limiting", () => {
  test("a token over its per-minute allowance gets 429 with Retry-After; the admin token is never limited", async () => {
    const t = await createTestApp({ env: { SLUICE_RATE_LIMIT_PER_MINUTE: "5" } });
    try {
      const token = await t.token(["read"]);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await t.request("/api/v1/services", { token })).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const limited = await t.request("/api/v1/services", { token });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });
      // Another token has its own allowance; the admin token has none.
      expect((await t.request("/api/v1/services", { token: await t.token(["read"]) })).status).toBe(200);
      for (let i = 0; i < 20; i++) expect((await t.request("/api/v1/services")).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test("an integration over its allowance gets 429, and nothing of the refused delivery is stored", async () => {
    const t = await createTestApp({ env: { SLUICE_WEBHOOK_RATE_LIMIT_PER_MINUTE: "3" } });
    try {
      const github = await createIntegration(t, "github");
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await postGithub(t, github, "ping", { zen: `z${i}` })).status);
      expect(statuses).toEqual([202, 202, 202, 429, 429]);
      const stored = (await (await t.request("/api/v1/deliveries")).json()) as { items: unknown[] };
      expect(stored.items).toHaveLength(3);
    } finally {
      await t.close();
    }
  });
});
