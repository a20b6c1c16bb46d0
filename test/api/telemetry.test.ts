import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, test } from "vitest";
import { refreshDoraGauges } from "../../ingest/src/dora-gauges.ts";
import { createTelemetry } from "../../ingest/src/telemetry.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }>;
}

async function scrapeText(t: TestApp, token?: string): Promise<string> {
  const response = await t.request("/metrics", { token: token ?? null });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
}

async function scrape(t: TestApp, token?: string): Promise<Map<string, Family>> {
  const families = parsePrometheusTextFormat(await scrapeText(t, token)) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** Label sets of a histogram's _count samples (the parser keeps only the buckets of histograms). */
function histogramLabels(text: string, name: string): Array<Record<string, string>> {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}_count{`))
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])));
}

describe("GET /metrics", () => {
  const telemetry = createTelemetry({ cardinalityLimit: 200 });

  test("serves the request, webhook, ingest and DORA series in the Prometheus text format", async () => {
    const app = await createTestApp({ now: "2026-06-15T12:00:00Z", telemetry });
    try {
      await app.request("/api/v1/services", { method: "POST", json: { slug: "checkout" } });
      await app.request("/api/v1/deployments", {
        method: "POST",
        json: { service: "checkout", environment: "production", sha: "a".repeat(40), finished_at: "2026-06-10T10:00:00Z" },
      });
      const github = await createIntegration(app, "github");
      const push = octokitExamples("push").find((p) => Array.isArray(p.commits) && (p.commits as unknown[]).length > 0);
      await postGithub(app, github, "push", push);
      await postGithub(app, github, "ping", { zen: "hi" });
      await refreshDoraGauges({ database: app.database, telemetry, now: new Date("2026-06-15T12:00:00Z") });

      const text = await scrapeText(app);
      const families = await scrape(app);
      expect(families.get("http_server_request_duration")?.type).toBe("HISTOGRAM");
      const requests = histogramLabels(text, "http_server_request_duration");
      expect(requests).toContainEqual(
        expect.objectContaining({ http_route: "/api/v1/deployments", http_request_method: "POST", http_response_status_code: "201" }),
      );
      expect(requests.every((labels) => !labels.http_route?.includes("/webhooks/github/" + github.id))).toBe(true);

      const deliveries = families.get("sluice_webhook_deliveries_total")?.metrics ?? [];
      expect(deliveries.find((m) => m.labels?.status === "processed")).toMatchObject({ labels: { source: "github" }, value: "1" });
      expect(deliveries.find((m) => m.labels?.status === "ignored")?.value).toBe("1");

      const ingested = families.get("sluice_events_ingested_total")?.metrics ?? [];
      expect(ingested.find((m) => m.labels?.kind === "deployment")?.value).toBe("1");
      expect(Number(ingested.find((m) => m.labels?.kind === "change")?.value)).toBeGreaterThan(0);

      const deployed = families.get("sluice_dora_deployments")?.metrics ?? [];
      expect(deployed.find((m) => m.labels?.service === "checkout")?.value).toBe("1");
      expect(families.get("sluice_dora_change_failure_rate")?.metrics.find((m) => m.labels?.service === "checkout")?.value).toBe("0");
    } finally {
      await app.close();
    }
  });

  test("1,000 distinct URLs leave the number of series flat", async () => {
    const app = await createTestApp({ telemetry: createTelemetry({ cardinalityLimit: 200 }) });
    try {
      const series = async () => {
        const families = await scrape(app);
        return [...families.values()].reduce((n, f) => n + f.metrics.length, 0);
      };
      for (let i = 0; i < 20; i++) await app.request(`/api/v1/deployments/${i + 1}`);
      await app.request(`/nothing/warm-up`);
      const before = await series();
      for (let i = 0; i < 1000; i++) {
        await app.request(i % 2 ? `/api/v1/deployments/${1000 + i}` : `/no/such/page/${i}?q=${i}`);
      }
      expect(await series()).toBe(before);
    } finally {
      await app.close();
    }
  }, 120_000);

  test("requires SLUICE_METRICS_TOKEN when it is set", async () => {
    const app = await createTestApp({ env: { SLUICE_METRICS_TOKEN: "scrape-token-0123456789" } });
    try {
      expect((await app.request("/metrics", { token: null })).status).toBe(401);
      expect((await app.request("/metrics", { token: "wrong" })).status).toBe(401);
      await scrape(app, "scrape-token-0123456789");
    } finally {
      await app.close();
    }
  });

  test("the DORA gauges are computed by one replica per interval and published by all", async () => {
    const t = await createTestApp();
    try {
      await t.request("/api/v1/services", { method: "POST", json: { slug: "checkout" } });
      await t.request("/api/v1/deployments", {
        method: "POST",
        json: { service: "checkout", environment: "production", sha: "b".repeat(40), finished_at: "2026-06-10T10:00:00Z" },
      });
      // Two replicas' caches over one database, ticking at the same time; what each publishes is kept.
      const published: unknown[][] = [[], []];
      const replicas = published.map((mine) => {
        const telemetry = createTelemetry({ cardinalityLimit: 200 });
        const setDora = telemetry.setDora.bind(telemetry);
        telemetry.setDora = (values) => {
          mine.push(values);
          setDora(values);
        };
        return telemetry;
      });
      const now = new Date("2026-06-15T12:00:00Z");
      const first = await Promise.all(
        replicas.map((telemetry) => refreshDoraGauges({ database: t.database, telemetry, now, maxAgeMs: 54_000 })),
      );
      expect(first.filter(Boolean)).toHaveLength(1);
      // Within the interval nobody computes again; after it, one does.
      const soon = new Date(now.getTime() + 30_000);
      expect(await refreshDoraGauges({ database: t.database, telemetry: replicas[1] as never, now: soon, maxAgeMs: 54_000 })).toBe(false);
      const later = new Date(now.getTime() + 60_000);
      expect(await refreshDoraGauges({ database: t.database, telemetry: replicas[1] as never, now: later, maxAgeMs: 54_000 })).toBe(true);
      // Both caches hold the same figures, whichever computed them.
      expect(published[0]?.[0]).toEqual(published[1]?.[0]);
      expect(published[0]?.[0]).toEqual([expect.objectContaining({ service: "checkout", deployments: 1 })]);
    } finally {
      await t.close();
    }
  });
});
