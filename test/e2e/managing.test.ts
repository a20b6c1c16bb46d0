// Changing things: gates from the form, integrations and their webhooks, what a read-only
// token may not do, signing out.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import type { Gate, Page as ListPage } from "../../web/src/lib/api-types.ts";
import { chromiumOrSkip } from "./support/chromium.ts";
import { UNNAMED_CONTROLS, useDashboard } from "./support/dashboard.ts";
import { seedHistory } from "./support/seed.ts";

const chromiumPath = chromiumOrSkip();

describe.skipIf(!chromiumPath)("managing Sluice from the dashboard in Chromium", () => {
  const d = useDashboard(chromiumPath);

  beforeAll(async () => {
    if (!chromiumPath) return;
    await seedHistory({ baseUrl: d.sluice.url, token: d.sluice.adminToken });
    await d.signIn(d.page, d.sluice.adminToken);
  });

  test("a gate is created from the form, with the API's validation messages on the way", async () => {
    await d.page.goto(`${d.sluice.url}/gates`);
    await d.page.getByRole("link", { name: "New gate" }).click();
    await d.page.waitForURL(/\/gates\/new$/);
    await d.page.getByLabel("Name", { exact: true }).fill("Release safety");
    await d.page.getByLabel("Slug").fill("Release Safety");
    await d.page.getByLabel("Highest rate").fill("20");
    await d.page.getByRole("button", { name: "Add a rule" }).click();
    const second = d.page.locator('fieldset[data-rule="1"]');
    await second.getByLabel("Type").selectOption("soak");
    await second.getByLabel("For at least", { exact: true }).fill("2");
    await second.getByLabel("For at least: unit").selectOption("hours");
    await second.getByLabel("only warn").check();
    await d.page.getByRole("button", { name: "Add a rule" }).click();
    await d.page.locator('fieldset[data-rule="2"]').getByLabel("Type").selectOption("open_incidents");
    await d.page.getByLabel("Dry run").check();
    await d.page.getByRole("button", { name: "Create gate" }).click();

    // The API refuses the slug; its message appears under the field, and nothing typed is lost.
    await expect.poll(() => d.page.locator("#slug-error").count()).toBe(1);
    expect(await d.text("#slug-error")).toContain("lowercase");
    expect(await d.page.getByLabel("Slug").getAttribute("aria-invalid")).toBe("true");
    expect(await d.page.locator('fieldset[data-rule="1"]').getByLabel("Type").inputValue()).toBe("soak");
    await d.shot("gate-form-error");

    await d.page.getByLabel("Slug").fill("release-safety");
    await d.page.getByRole("button", { name: "Create gate" }).click();
    await d.page.waitForURL(/\/gates\/release-safety\?saved=1$/);
    const gate = await d.api.get<Gate>("/api/v1/gates/release-safety");
    expect(gate).toMatchObject({ name: "Release safety", mode: "dry_run", applies_to: { environments: ["production"] } });
    expect(gate.rules).toEqual([
      { type: "change_failure_rate", on_fail: "block", max: 0.2, window_days: 30, min_deployments: 5 },
      { type: "soak", on_fail: "warn", environment: "staging", min_seconds: 7200 },
      { type: "open_incidents", on_fail: "block", max: 0 },
    ]);

    await d.page.locator("#eval-service").fill("checkout");
    await d.page.getByRole("button", { name: "Evaluate", exact: true }).click();
    await expect.poll(() => d.page.locator("[data-evaluation] [data-decision]").count()).toBeGreaterThan(0);
    const history = await d.api.get<ListPage<{ id: number; decision: string }>>("/api/v1/gates/release-safety/evaluations");
    expect(history.items).toHaveLength(1);
    await d.page.reload();
    expect(await d.page.locator('table[data-table="evaluations"] tbody tr').count()).toBe(1);
    expect(await d.page.locator('table[data-table="evaluations"] [data-decision]').first().getAttribute("data-decision")).toBe(history.items[0]?.decision);
    await d.shot("gate");

    // Break-glass: an override is created, listed as active, and ended.
    await d.page.locator("#ov-service").fill("checkout");
    await d.page.locator("#ov-reason").fill("hotfix for INC-231, approved by the on-call lead");
    await d.page.getByRole("button", { name: "Create override" }).click();
    await expect.poll(() => d.page.locator('table[data-table="overrides"] tbody tr').count()).toBe(1);
    expect(await d.text('table[data-table="overrides"] tbody tr')).toContain("active");
    const overrides = await d.api.get<ListPage<{ reason: string; active: boolean }>>("/api/v1/gates/release-safety/overrides");
    expect(overrides.items).toMatchObject([{ reason: "hotfix for INC-231, approved by the on-call lead", active: true }]);
    await d.page.getByRole("button", { name: "End now" }).click();
    await expect.poll(() => d.text('table[data-table="overrides"] tbody tr')).toContain("ended");

    await d.page.goto(`${d.sluice.url}/gates`);
    expect(await d.page.locator('tr[data-gate="release-safety"]').textContent()).toContain("dry run");
  });

  test("an integration is created, shows its URL, secret and set-up steps once, and accepts its webhook", async () => {
    await d.page.goto(`${d.sluice.url}/integrations`);
    await d.page.getByLabel("GitLab").check();
    await d.page.getByRole("button", { name: "Create GitLab integration" }).click();
    const created = d.page.locator("[data-created-integration]");
    await expect.poll(() => created.count()).toBe(1);
    const [url, secret] = (await created.locator("pre").allTextContents()).map((t) => t.trim());
    expect(url).toMatch(new RegExp(`^${d.sluice.url}/webhooks/gitlab/[a-z0-9]+$`));
    expect(secret?.length).toBeGreaterThanOrEqual(16);
    expect(await created.locator('[data-steps="gitlab"]').textContent()).toContain("Secret token");
    await d.shot("integration-created");

    const listed = await d.api.get<ListPage<{ id: string; source: string }>>("/api/v1/integrations");
    expect(listed.items.map((i) => i.source)).toContain("gitlab");

    // The tool, set up as the page says, is heard: GitLab's documented push example, with the secret token.
    const push = await fetch(url as string, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gitlab-event": "Push Hook", "x-gitlab-token": secret as string, "x-gitlab-event-uuid": "e2e-push-1" },
      body: readFileSync(new URL("../../collectors/test/fixtures/gitlab/push.json", import.meta.url)),
    });
    expect(push.status).toBe(202);

    // PagerDuty makes its own signing secret once the URL exists: it is pasted next to the integration.
    await d.page.getByLabel("PagerDuty", { exact: true }).check();
    await d.page.getByRole("button", { name: "Create PagerDuty integration" }).click();
    await expect.poll(() => d.page.locator('[data-created-integration] [data-steps="pagerduty"]').count()).toBe(1);
    const pagerdutyUrl = ((await d.page.locator("[data-created-integration] pre").first().textContent()) ?? "").trim();
    const pagerdutyId = pagerdutyUrl.split("/").at(-1) as string;
    const signingSecret = "pagerduty-generated-signing-secret-0123";
    const row = d.page.locator(`tr[data-integration="${pagerdutyId}"]`);
    await row.getByLabel("PagerDuty signing secret").fill(signingSecret);
    await row.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => row.locator('[role="status"]').textContent()).toBe("Saved.");
    const incident = readFileSync(new URL("../../collectors/test/fixtures/pagerduty/incident.triggered.json", import.meta.url));
    const signed = await fetch(pagerdutyUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-webhook-id": "e2e-pagerduty-1",
        "x-pagerduty-signature": `v1=${createHmac("sha256", signingSecret).update(incident).digest("hex")}`,
      },
      body: incident,
    });
    expect(signed.status).toBe(202);

    // Leaving the page forgets the secret: the list shows the URL only.
    await d.page.goto(`${d.sluice.url}/integrations`);
    expect(await d.page.locator("body").textContent()).not.toContain(secret);
    await d.page.goto(`${d.sluice.url}/deliveries`);
    const sources = await d.page.locator('table[data-table="deliveries"] tbody tr td:nth-child(2)').allTextContents();
    expect(sources.sort()).toEqual(["gitlab", "pagerduty"]);
    await d.shot("deliveries");
  });

  test("a read-only token sees every page but no edit controls", async () => {
    const created = await d.api.post<{ token: string }>("/api/v1/tokens", { name: "viewer", scopes: ["read"] });
    expect(created.status).toBe(201);
    const viewerContext = await d.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const viewer = await viewerContext.newPage();
    d.watch(viewer);
    await d.signIn(viewer, created.body.token);
    expect(await viewer.locator("header.top").textContent()).toContain("read only");
    expect(await viewer.getByRole("link", { name: "Integrations" }).count()).toBe(0);
    await viewer.goto(`${d.sluice.url}/gates`);
    expect(await viewer.locator('tr[data-gate="release-safety"]').count()).toBe(1);
    expect(await viewer.getByRole("link", { name: "New gate" }).count()).toBe(0);
    await viewer.goto(`${d.sluice.url}/gates/release-safety`);
    expect(await viewer.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await viewer.getByRole("button", { name: "Create override" }).count()).toBe(0);
    const forbidden = await viewer.goto(`${d.sluice.url}/gates/new`);
    expect(forbidden?.status()).toBe(403);
    // A 403 page logs a failed resource load in the console; that one is expected here.
    d.problems.splice(0);
    await viewer.goto(`${d.sluice.url}/services/checkout`);
    expect(await viewer.locator('[data-metric="lead_time"] [data-value]').count()).toBe(1);
    await d.shot("read-only", viewer);
    await viewerContext.close();
  });

  test("the admin pages have one h1, labelled controls and no element without a name", async () => {
    for (const path of ["/gates", "/gates/new", "/gates/release-safety", "/gates/release-safety/edit", "/integrations", "/deliveries", "/tokens"]) {
      await d.page.goto(`${d.sluice.url}${path}`);
      expect(new URL(d.page.url()).pathname, "still signed in").toBe(path);
      expect(await d.page.locator("h1").count(), path).toBe(1);
      expect(await d.page.evaluate<string[]>(UNNAMED_CONTROLS), path).toEqual([]);
    }
  });

  test("hostile form and query values answer a page or a safe redirect, never a 500", async () => {
    const cookie = (await d.context.cookies()).find((c) => c.name === "sluice_session");
    const headers = { cookie: `sluice_session=${cookie?.value}`, origin: d.sluice.url };
    for (const next of ["/%09/evil.example/", "/%0a/evil.example/", "/%5cevil.example/", "//evil.example/"]) {
      const response = await fetch(`${d.sluice.url}/signin?next=${next}`, { headers, redirect: "manual" });
      expect(response.status, next).toBe(303);
      expect(response.headers.get("location"), next).toBe("/");
    }
    const form = new URLSearchParams({ service: "checkout", reason: "hostile", hours: "1e20" });
    const override = await fetch(`${d.sluice.url}/gates/release-safety?/override`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded", accept: "application/json", "x-sveltekit-action": "true" },
      body: form,
    });
    expect(override.status).toBe(200);
    expect(JSON.stringify(await override.json())).toContain("hours, from 1 to 720");
    const overrides = await d.api.get<ListPage<{ reason: string }>>("/api/v1/gates/release-safety/overrides");
    expect(overrides.items.map((o) => o.reason)).not.toContain("hostile");
  });

  test("the cookie holds a session, not the token, and sign-out ends it in the API", async () => {
    const cookie = (await d.context.cookies()).find((c) => c.name === "sluice_session");
    const stored = JSON.parse(Buffer.from(String(cookie?.value), "base64url").toString("utf8")) as { t: string };
    expect(stored.t).toMatch(/^sls_/);
    expect(cookie?.value).not.toContain(d.sluice.adminToken);
    expect(Buffer.from(String(cookie?.value), "base64url").toString("utf8")).not.toContain(d.sluice.adminToken);
    const asSession = () => fetch(`${d.sluice.url}/api/v1/services`, { headers: { authorization: `Bearer ${stored.t}` } });
    expect((await asSession()).status).toBe(200);

    await d.page.getByRole("button", { name: "Sign out" }).click();
    await d.page.waitForURL(/\/signin\?signed_out=1$/);
    expect((await d.context.cookies()).find((c) => c.name === "sluice_session")).toBeUndefined();
    await d.page.goto(`${d.sluice.url}/`);
    expect(new URL(d.page.url()).pathname).toBe("/signin");
    // A copy of the cookie taken before signing out is worth nothing now.
    expect((await asSession()).status).toBe(401);
  });
});
