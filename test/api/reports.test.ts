import { parse } from "csv-parse/sync";
import { extractText, getDocumentProxy } from "unpdf";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";

const WINDOW = "from=2026-04-01T00:00:00Z&to=2026-07-01T00:00:00Z";
const sha = (n: number) => n.toString(16).padStart(40, "0");

describe("GET /api/v1/reports/dora", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-07-01T00:00:00Z" });
    for (const [slug, name] of [["payments", "Payments"], ["search", "Search & Discovery"]]) {
      await t.request("/api/v1/teams", { method: "POST", json: { slug, name } });
    }
    for (const [slug, team] of [["checkout", "payments"], ["billing", "payments"], ["indexer", "search"]]) {
      await t.request("/api/v1/services", { method: "POST", json: { slug, team } });
    }
    // A quarter of history: weekly deployments with two commits each, an incident now and then.
    let n = 0;
    for (const [i, service] of ["checkout", "billing", "indexer"].entries()) {
      for (let week = 0; week < 13; week++) {
        const finished = new Date(Date.UTC(2026, 3, 1 + week * 7, 10 + i));
        n++;
        await t.request("/api/v1/deployments", {
          method: "POST",
          json: {
            service,
            environment: "production",
            sha: sha(n),
            finished_at: finished.toISOString(),
            commits: [1, 2].map((k) => ({ sha: sha(10_000 + n * 10 + k), committed_at: new Date(finished.getTime() - k * 3_600_000 * (i + 1)).toISOString() })),
          },
        });
        if (week % 4 === 1) {
          await t.request("/api/v1/incidents", {
            method: "POST",
            json: {
              service,
              external_id: `inc-${n}`,
              started_at: new Date(finished.getTime() + 600_000).toISOString(),
              resolved_at: new Date(finished.getTime() + 600_000 + 1800_000 * (i + 1)).toISOString(),
            },
          });
        }
      }
    }
  }, 120_000);
  afterAll(() => t.close());

  test("CSV: one RFC 4180 row per team, UTF-8 with a BOM, the same numbers as the metrics API", async () => {
    const response = await t.request(`/api/v1/reports/dora?${WINDOW}&group_by=team&format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/csv");
    expect(response.headers.get("content-disposition")).toContain("attachment");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(Buffer.from(bytes), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.group)).toEqual(["payments", "search"]);
    const breakdown = (await (await t.request(`/api/v1/metrics/breakdown?${WINDOW}&group_by=team`)).json()) as {
      items: Array<{ scope: { team: string }; deployment_frequency: { deployments: number }; lead_time: { median_seconds: number }; change_failure_rate: { rate: number; level: string }; level: string }>;
    };
    for (const row of rows) {
      const expected = breakdown.items.find((item) => item.scope.team === row.group);
      expect(Number(row.deployments)).toBe(expected?.deployment_frequency.deployments);
      expect(Number(row.lead_time_median_seconds)).toBe(expected?.lead_time.median_seconds);
      expect(Number(row.change_failure_rate)).toBe(expected?.change_failure_rate.rate);
      expect(row.change_failure_rate_level).toBe(expected?.change_failure_rate.level);
      expect(row.level).toBe(expected?.level);
      expect(row.from).toBe("2026-04-01T00:00:00.000Z");
    }
  });

  test("JSON: the organisation, the previous period and each group", async () => {
    const report = (await (await t.request(`/api/v1/reports/dora?${WINDOW}&group_by=service`)).json()) as {
      period: { days: number };
      organisation: { deployment_frequency: { deployments: number } };
      previous: { deployment_frequency: { deployments: number } };
      groups: Array<{ scope: { service: string } }>;
    };
    expect(report.period.days).toBe(91);
    expect(report.organisation.deployment_frequency.deployments).toBe(39);
    expect(report.previous.deployment_frequency.deployments).toBe(0);
    expect(report.groups.map((g) => g.scope.service)).toEqual(["billing", "checkout", "indexer"]);
  });

  test("PDF: a summary page, then one page per group with its figures", async () => {
    const response = await t.request(`/api/v1/reports/dora?${WINDOW}&group_by=team`, { headers: { accept: "application/pdf" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const pdf = await getDocumentProxy(new Uint8Array(await response.arrayBuffer()));
    expect(pdf.numPages).toBe(3);
    const { text } = await extractText(pdf, { mergePages: false });
    expect(text[0]).toContain("DORA report");
    expect(text[0]).toContain("Organisation level");
    expect(text[0]).toContain("Previous period");
    expect(text[1]).toContain("Team: payments");
    expect(text[2]).toContain("Team: search");
    expect(text[1]).toContain("Change failure rate");
  });

  test("content negotiation: Accept picks the format; anything else is a 406; a bad format a 400", async () => {
    const csv = await t.request(`/api/v1/reports/dora?${WINDOW}`, { headers: { accept: "text/csv" } });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    await csv.arrayBuffer();
    const refused = await t.request(`/api/v1/reports/dora?${WINDOW}`, { headers: { accept: "image/png" } });
    expect(refused.status).toBe(406);
    expect(await refused.json()).toMatchObject({ error: { code: "not_acceptable" } });
    expect((await t.request(`/api/v1/reports/dora?${WINDOW}&format=xml`)).status).toBe(400);
    expect((await t.request("/api/v1/reports/dora?from=2026-07-01T00:00:00Z&to=2026-04-01T00:00:00Z")).status).toBe(400);
  });

  test("a team-limited token gets only its team's rows", async () => {
    const token = await t.token(["read"], "search");
    const response = await t.request(`/api/v1/reports/dora?${WINDOW}&format=csv&group_by=service`, { token });
    const rows = parse(Buffer.from(await response.arrayBuffer()), { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.service)).toEqual(["indexer"]);
    expect((await t.request(`/api/v1/reports/dora?${WINDOW}`, { token: null })).status).toBe(401);
  });
});
