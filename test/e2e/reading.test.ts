// Reading the figures: sign-in, a new install's first steps, then a seeded history checked
// page by page against the API.
import type { Breakdown, Deployment, DeploymentDetail, Incident, MetricsObject, Page as ListPage, Timeseries } from "../../web/src/lib/api-types.ts";
import { formatDuration, formatRate } from "../../web/src/lib/format.ts";
import { parseWindow } from "../../web/src/lib/window.ts";
import { describe, expect, test } from "vitest";
import { runCurl } from "./support/api.ts";
import { chromiumOrSkip } from "./support/chromium.ts";
import { UNNAMED_CONTROLS, useDashboard } from "./support/dashboard.ts";
import { seedHistory } from "./support/seed.ts";

const chromiumPath = chromiumOrSkip();

describe.skipIf(!chromiumPath)("reading the dashboard in Chromium", () => {
  const d = useDashboard(chromiumPath);

  test("sign-in refuses an unknown token and lets the admin token in", async () => {
    await d.page.goto(`${d.sluice.url}/services/checkout`);
    expect(new URL(d.page.url()).pathname).toBe("/signin");
    expect(new URL(d.page.url()).searchParams.get("next")).toBe("/services/checkout");
    await d.page.getByLabel("API token").fill("slc_not-a-real-token");
    await d.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => d.text("#token-error")).toContain("does not accept this token");
    await d.shot("signin-refused");

    await d.signIn(d.page, d.sluice.adminToken);
    const cookie = (await d.context.cookies()).find((c) => c.name === "sluice_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(await d.page.evaluate<string>("document.cookie")).not.toContain("sluice_session");
  });

  test("a new install says what to do next, and following it puts the first deployment on the overview", async () => {
    await d.page.goto(`${d.sluice.url}/`);
    await expect.poll(() => d.page.locator("[data-empty-state]").count()).toBe(1);
    await d.shot("overview-empty");
    const commands = await d.page.locator("[data-empty-state] pre").allTextContents();
    const register = commands.find((c) => c.includes("/api/v1/services"));
    const deploy = commands.find((c) => c.includes("/api/v1/deployments"));
    expect(register, "the page shows how to register a service").toBeDefined();
    expect(deploy, "the page shows how to post a deployment").toBeDefined();
    const env = { SLUICE_ADMIN_TOKEN: d.sluice.adminToken, SLUICE_TOKEN: d.sluice.adminToken };
    expect((await runCurl(register as string, env)).status).toBe(201);
    expect((await runCurl(deploy as string, env)).status).toBe(201);

    await d.page.reload();
    expect(await d.page.locator("[data-empty-state]").count()).toBe(0);
    expect(await d.text('[data-metric="deployment_frequency"]')).toContain("1 deployment");
    expect(await d.page.locator('table[data-table="service"] tr[data-row="checkout"]').count()).toBe(1);
  });

  test("the overview shows the API's figures for the organisation, its teams and services", async () => {
    await seedHistory({ baseUrl: d.sluice.url, token: d.sluice.adminToken });
    const started = Date.now();
    await d.page.goto(`${d.sluice.url}/`);
    const firstRender = Date.now() - started;
    const w = parseWindow(new URLSearchParams());
    const org = await d.api.get<MetricsObject>("/api/v1/metrics", w.api);
    await d.expectCards(org);
    // A loaded CI machine is slower than a laptop; the budget is the 1 s with headroom.
    expect(firstRender, `the overview took ${firstRender} ms`).toBeLessThan(2500);

    const teams = await d.api.get<Breakdown>("/api/v1/metrics/breakdown", { ...w.api, group_by: "team" });
    for (const team of teams.items) {
      const row = d.page.locator(`table[data-table="team"] tr[data-row="${team.scope.team ?? "(none)"}"]`);
      expect(await row.count()).toBe(1);
      expect(await row.locator("td").nth(2).textContent()).toContain(formatRate(team.change_failure_rate.rate));
      expect(await row.locator("td").last().locator("[data-level]").getAttribute("data-level")).toBe(team.level ?? "none");
    }
    await d.shot("overview");

    // Sorting by change failure rate puts the services in the API's order of that rate, lowest first.
    const services = await d.api.get<Breakdown>("/api/v1/metrics/breakdown", { ...w.api, group_by: "service" });
    await d.page.locator('table[data-table="service"] th').filter({ hasText: "Change failure rate" }).getByRole("button").click();
    const expected = services.items
      .filter((m) => m.change_failure_rate.rate !== null)
      .sort((a, b) => (a.change_failure_rate.rate as number) - (b.change_failure_rate.rate as number) || (a.scope.service ?? "").localeCompare(b.scope.service ?? ""))
      .map((m) => m.scope.service);
    const shown = await d.page.locator('table[data-table="service"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-row")));
    expect(shown.slice(0, expected.length)).toEqual(expected);
    expect(await d.page.locator('table[data-table="service"] th[aria-sort="ascending"]').textContent()).toContain("Change failure rate");
  });

  test("the period and the benchmark live in the URL, and the figures follow them", async () => {
    await d.page.getByLabel("Benchmark").selectOption("2021");
    await d.page.waitForURL(/benchmark=2021/);
    const w2021 = parseWindow(new URL(d.page.url()).searchParams);
    await d.expectCards(await d.api.get<MetricsObject>("/api/v1/metrics", w2021.api));

    await d.page.getByRole("link", { name: "7 days" }).click();
    await d.page.waitForURL((url) => parseWindow(url.searchParams).days === 7);
    const w7 = parseWindow(new URL(d.page.url()).searchParams);
    expect(w7.benchmark).toBe("2021");
    await d.expectCards(await d.api.get<MetricsObject>("/api/v1/metrics", w7.api));

    // A shared link opens the same view in another browser d.context.
    const shared = await d.context.newPage();
    d.watch(shared);
    await shared.goto(d.page.url());
    expect(await d.text('[data-metric="lead_time"] [data-value]', shared)).toBe(await d.text('[data-metric="lead_time"] [data-value]'));
    await shared.close();
  });

  test("a service page shows the service's figures, its charts and what each figure means", async () => {
    await d.page.goto(`${d.sluice.url}/services/checkout`);
    const w = parseWindow(new URLSearchParams());
    await d.expectCards(await d.api.get<MetricsObject>("/api/v1/metrics", { ...w.api, service: "checkout" }));
    const series = await d.api.get<Timeseries>("/api/v1/metrics/timeseries", { ...w.api, service: "checkout", interval: "week" });
    expect(await d.page.locator("figure.chart").count()).toBe(4);
    const bars = d.page.locator("figure.chart").first().locator("rect");
    expect(await bars.count()).toBe(series.buckets.filter((b) => b.deployment_frequency.deployments !== null).length);
    const table = await d.page.locator("figure.chart").first().locator("tbody td").allTextContents();
    expect(table).toEqual(series.buckets.map((b) => String(b.deployment_frequency.deployments)));
    await d.shot("service");

    const tip = d.page.locator('[data-metric="lead_time"] .tip');
    await tip.getByRole("button").click();
    await expect.poll(() => tip.locator(".panel").isVisible()).toBe(true);
    await tip.getByRole("link", { name: "How Sluice counts it" }).click();
    await d.page.waitForURL(/\/help\/metrics#lead-time$/);
    expect(await d.page.locator("#lead-time h2").textContent()).toBe("Lead time for changes");
  });

  test("drill-down: the deployments behind the numbers, a deployment's commits, the incidents", async () => {
    await d.page.goto(`${d.sluice.url}/services/checkout`);
    await d.page.getByRole("link", { name: "Deployments" }).click();
    await d.page.waitForURL(/\/services\/checkout\/deployments/);
    const w = parseWindow(new URLSearchParams());
    const listed = await d.api.get<ListPage<Deployment>>("/api/v1/deployments", {
      service: "checkout",
      production: true,
      from: w.api.from,
      to: w.api.to,
      limit: 50,
    });
    const rows = d.page.locator('table[data-table="deployments"] tbody tr');
    expect(await rows.count()).toBe(listed.items.length);
    const failed = listed.items.find((d) => d.failed && d.failure_reasons.includes("incident"));
    expect(failed, "the seeded history has a failed deployment").toBeDefined();
    const row = d.page.locator(`tr[data-deployment="${failed?.id}"]`);
    expect(await row.textContent()).toContain("failed");
    expect(await row.textContent()).toContain("incident");
    expect(await row.locator("td").last().textContent()).toContain(formatDuration(failed?.recovery_seconds ?? null));
    await d.shot("deployments");

    await row.locator("td").first().getByRole("link").first().click();
    await d.page.waitForURL(new RegExp(`/deployments/${failed?.id}`));
    const detail = await d.api.get<DeploymentDetail>(`/api/v1/deployments/${failed?.id}`);
    const commits = d.page.locator('table[data-table="commits"] tbody tr');
    expect(await commits.count()).toBe(detail.commits.length);
    for (const [i, commit] of detail.commits.entries()) {
      expect(await commits.nth(i).locator("td").last().textContent()).toBe(formatDuration(commit.lead_time_seconds));
    }
    await d.shot("deployment");

    await d.page.goto(`${d.sluice.url}/services/checkout/incidents`);
    const incidents = await d.api.get<ListPage<Incident>>("/api/v1/incidents", { service: "checkout", from: w.api.from, to: w.api.to, limit: 50 });
    expect(await d.page.locator('table[data-table="incidents"] tbody tr').count()).toBe(incidents.items.length);
    const attributed = incidents.items.find((i) => i.deployment !== null);
    await d.page.locator(`tr[data-incident="${attributed?.id}"]`).getByRole("link", { name: /deployment/ }).click();
    await d.page.waitForURL(new RegExp(`/deployments/${attributed?.deployment?.id}`));
    await d.shot("incidents-to-deployment");
  });

  test("a team page lists the team's services with their levels", async () => {
    await d.page.goto(`${d.sluice.url}/teams/payments`);
    const w = parseWindow(new URLSearchParams());
    await d.expectCards(await d.api.get<MetricsObject>("/api/v1/metrics", { ...w.api, team: "payments" }));
    const rows = await d.page.locator('table[data-table="service"] tbody tr').evaluateAll((r) => r.map((row) => row.getAttribute("data-row")));
    expect(rows.sort()).toEqual(["checkout", "ledger"]);
    await d.shot("team");
  });

  test("reports: the print view shows the API's figures and the downloads come from the reports API", async () => {
    await d.page.goto(`${d.sluice.url}/reports?group_by=service`);
    const w = parseWindow(new URLSearchParams());
    const services = await d.api.get<Breakdown>("/api/v1/metrics/breakdown", { ...w.api, group_by: "service" });
    expect(await d.page.locator('table[data-table="report"] tbody tr').count()).toBe(services.items.length);
    await d.shot("report");
    await d.page.emulateMedia({ media: "print" });
    expect(await d.page.locator("header.top").isVisible()).toBe(false);
    await d.shot("report-print");
    await d.page.emulateMedia({ media: "screen" });

    const href = (await d.page.getByRole("link", { name: "CSV" }).getAttribute("href")) as string;
    const download = await d.page.request.get(`${d.sluice.url}${href}`);
    const direct = await fetch(`${d.sluice.url}/api/v1/reports/dora?format=csv&group_by=service`, {
      headers: { authorization: `Bearer ${d.sluice.adminToken}` },
    });
    if (direct.status === 404 && (await direct.text()).includes("no route")) {
      // Until the reports API exists, the link says so instead of failing obscurely.
      expect(download.status()).toBe(502);
      expect(await download.text()).toContain("does not make report files yet");
    } else {
      expect(download.status()).toBe(200);
      expect(download.headers()["content-type"]).toContain("text/csv");
      expect(download.headers()["content-disposition"]).toContain("attachment");
      expect((await download.text()).split("\n")[0]).toBeTruthy();
    }
  });

  test("every page has one h1, labelled controls and no element without a name", async () => {
    const deployment = (await d.api.get<ListPage<Deployment>>("/api/v1/deployments", { service: "checkout", limit: 1 })).items[0];
    for (const path of [
      "/",
      "/teams/payments",
      "/services/checkout",
      "/services/checkout/deployments",
      `/services/checkout/deployments/${deployment?.id}`,
      "/services/checkout/incidents",
      "/reports",
      "/help/metrics",
    ]) {
      await d.page.goto(`${d.sluice.url}${path}`);
      expect(await d.page.locator("h1").count(), path).toBe(1);
      const unlabelled = await d.page.evaluate<string[]>(UNNAMED_CONTROLS);
      expect(unlabelled, path).toEqual([]);
    }
  });

  test("at laptop width nothing overflows the page sideways", async () => {
    await d.page.setViewportSize({ width: 1280, height: 800 });
    for (const path of ["/", "/services/checkout", "/gates/new", "/integrations"]) {
      await d.page.goto(`${d.sluice.url}${path}`);
      const overflow = await d.page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await d.shot("overview-1280");
  });
});
