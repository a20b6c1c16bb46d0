import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { MetricsObject } from "../../../web/src/lib/api-types.ts";
import { formatDuration, formatFrequency, formatRate } from "../../../web/src/lib/format.ts";
import { apiReader } from "./api.ts";
import { CHROMIUM_ARGS } from "./chromium.ts";
import { type RunningSluice, startSluice } from "./server.ts";

const SHOTS = fileURLToPath(new URL("../screenshots/", import.meta.url));

/** Runs in the page: controls and links that assistive technology could not name. */
export const UNNAMED_CONTROLS = `[...document.querySelectorAll("input, select, textarea, button, a[href]")]
  .filter((e) => {
    if (e.type === "hidden" || e.closest("[aria-hidden='true']")) return false;
    const named = e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") || (e.labels && e.labels.length > 0);
    return !named && !(e.textContent || "").trim() && !e.getAttribute("title");
  })
  .map((e) => e.outerHTML.slice(0, 120))`;

export interface Dashboard {
  sluice: RunningSluice;
  api: ReturnType<typeof apiReader>;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen since the last test ended. */
  problems: string[];
  watch: (page: Page) => void;
  shot: (name: string, target?: Page) => Promise<void>;
  signIn: (target: Page, token: string) => Promise<void>;
  text: (selector: string, target?: Page) => Promise<string>;
  /** The five cards show exactly what the API says for the same window. */
  expectCards: (m: MetricsObject) => Promise<void>;
}

/**
 * One Sluice process and one Chromium for a test file, with a page in a fresh context.
 * Every console error and uncaught exception fails the test during which it happened.
 */
export function useDashboard(chromiumPath: string | null): Dashboard {
  const d = { problems: [] as string[] } as Dashboard;

  d.watch = (p) => {
    p.on("console", (message) => {
      if (message.type() === "error") d.problems.push(`console error on ${p.url()}: ${message.text()}`);
    });
    p.on("pageerror", (error) => d.problems.push(`uncaught on ${p.url()}: ${error.message}`));
  };
  d.shot = async (name, target = d.page) => {
    await target.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  };
  d.signIn = async (target, token) => {
    await target.goto(`${d.sluice.url}/signin`);
    await target.getByLabel("API token").fill(token);
    await target.getByRole("button", { name: "Sign in" }).click();
    await target.waitForURL(`${d.sluice.url}/`);
  };
  d.text = async (selector, target = d.page) => ((await target.locator(selector).first().textContent()) ?? "").trim();
  d.expectCards = async (m) => {
    const frequency = formatFrequency(m.deployment_frequency.deployments === 0 ? 0 : m.deployment_frequency.per_day);
    expect(await d.text('[data-metric="deployment_frequency"] [data-value]')).toBe(frequency);
    expect(await d.text('[data-metric="lead_time"] [data-value]')).toBe(formatDuration(m.lead_time.median_seconds));
    expect(await d.text('[data-metric="change_failure_rate"] [data-value]')).toBe(formatRate(m.change_failure_rate.rate));
    expect(await d.text('[data-metric="recovery_time"] [data-value]')).toBe(formatDuration(m.recovery_time.median_seconds));
    expect(await d.text('[data-metric="rework_rate"] [data-value]')).toBe(formatRate(m.rework_rate.rate));
    const level = (metric: string) => d.page.locator(`[data-metric="${metric}"] [data-level]`).first().getAttribute("data-level");
    expect(await level("deployment_frequency")).toBe(m.deployment_frequency.level ?? "none");
    expect(await level("lead_time")).toBe(m.lead_time.level ?? "none");
    expect(await level("change_failure_rate")).toBe(m.change_failure_rate.level ?? "none");
    expect(await level("recovery_time")).toBe(m.recovery_time.level ?? "none");
    expect(await d.page.locator("[data-overall-level]").getAttribute("data-overall-level")).toBe(m.level ?? "none");
  };

  beforeAll(async () => {
    if (!chromiumPath) return;
    mkdirSync(SHOTS, { recursive: true });
    d.sluice = await startSluice();
    d.api = apiReader(d.sluice.url, d.sluice.adminToken);
    d.browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    d.context = await d.browser.newContext({ viewport: { width: 1366, height: 900 } });
    d.page = await d.context.newPage();
    d.watch(d.page);
  });

  afterEach(() => {
    const seen = d.problems.splice(0);
    expect(seen, "the browser reported errors").toEqual([]);
  });

  afterAll(async () => {
    await d.browser?.close();
    await d.sluice?.stop();
  });

  return d;
}
