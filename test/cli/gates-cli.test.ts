import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createGate, createService, deploy, openIncident, read, sha } from "../api/gates-helpers.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { freePort, nodeBinary, repoRoot } from "../support/server.ts";

const CLI = `${repoRoot}ingest/src/cli/main.ts`;
const NOW = "2026-06-15T12:00:00Z";

let t: TestApp;
let server: Server;
let url: string;
let gateToken: string;
let dir: string;
const reports: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `sluice` CLI as a real process on the pinned Node 24, as a pipeline would. */
function sluice(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBinary, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", SLUICE_URL: url, SLUICE_TOKEN: gateToken, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function evaluationCount(gate: string) {
  const page = await read(t.request(`/api/v1/gates/${gate}/evaluations?limit=1000`));
  return page.items.length as number;
}

beforeAll(async () => {
  t = await createTestApp({ now: NOW });
  // The real app on a real port; only the report route, built elsewhere, is stood in for.
  server = serve({
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      if (path !== "/api/v1/reports/dora") return t.app.fetch(request);
      reports.push(`${request.headers.get("authorization")} ${new URL(request.url).search} ${request.headers.get("accept")}`);
      return new Response("team,deployments\npayments,42\n", { headers: { "content-type": "text/csv" } });
    },
    port: 0,
    hostname: "127.0.0.1",
  }) as Server;
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateToken = await t.token(["gate"]);
  dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));

  for (const service of ["checkout", "search", "ledger"]) await createService(t, service);
  await openIncident(t, { service: "ledger", external_id: "INC-1", title: "ledger drift", started_at: "2026-06-15T10:00:00Z" });
  await createGate(t, {
    slug: "prod",
    rules: [{ type: "open_incidents" }, { type: "soak", environment: "staging", min_seconds: 1800 }],
  });
  await createGate(t, { slug: "advisory", mode: "dry_run", rules: [{ type: "open_incidents" }] });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => t.setNow(NOW));

describe("sluice gate check", () => {
  test("exit 0 when allowed, printing each rule's sentence", async () => {
    await deploy(t, { service: "checkout", environment: "staging", sha: sha("ok"), finished_at: "2026-06-15T10:00:00Z" });
    const run = await sluice(["gate", "check", "prod", "--service", "checkout", "--sha", sha("ok")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`gate prod: PASS for checkout@${sha("ok").slice(0, 12)} to production, allowed`);
    expect(run.stdout).toContain("pass    open_incidents: No incident is open on checkout.");
    expect(run.stdout).toContain("pass    soak: ");
  });

  test("exit 1 when blocked; a dry-run gate still exits 0", async () => {
    await deploy(t, { service: "ledger", environment: "staging", sha: sha("l"), finished_at: "2026-06-15T09:00:00Z" });
    const blocked = await sluice(["gate", "check", "prod", "--service", "ledger", "--sha", sha("l")]);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('fail    open_incidents: 1 open incident on ledger (INC-1 "ledger drift"), more than the 0 allowed.');
    const advisory = await sluice(["gate", "check", "advisory", "--service", "ledger", "--json"]);
    expect(advisory.code).toBe(0);
    expect(JSON.parse(advisory.stdout)).toMatchObject({ decision: "fail", allow: true, enforced: false });
  });

  test("exit 2 when still pending after --wait, having asked again at the deadline", async () => {
    await deploy(t, { service: "search", environment: "staging", sha: sha("fresh"), finished_at: "2026-06-15T11:55:00Z" });
    const before = await evaluationCount("prod");
    const run = await sluice(["gate", "check", "prod", "--service", "search", "--sha", sha("fresh"), "--wait", "1s"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("gate prod: PENDING");
    expect(run.stdout).toContain("retry after 1500s");
    expect(run.stderr).toContain("gate prod is pending; asking again in 1s.");
    expect(await evaluationCount("prod")).toBe(before + 2);
    const noWait = await sluice(["gate", "check", "prod", "--service", "search", "--sha", sha("fresh")]);
    expect(noWait.code).toBe(2);
  });

  test("--wait polls, honouring retry_after_seconds, until the gate decides", async () => {
    await createService(t, "cart");
    await deploy(t, { service: "cart", environment: "staging", sha: sha("almost"), finished_at: "2026-06-15T11:30:01Z" });
    const before = await evaluationCount("prod");
    const running = sluice(["gate", "check", "prod", "--service", "cart", "--sha", sha("almost"), "--wait", "30s", "--json"]);
    // The soak has 1 s to go; once the CLI has asked once, time moves on.
    for (let i = 0; i < 100 && (await evaluationCount("prod")) === before; i++) await new Promise((r) => setTimeout(r, 50));
    t.setNow("2026-06-15T12:00:05Z");
    const run = await running;
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ decision: "pass", allow: true });
    expect(run.stderr).toContain("asking again in 1s");
  });

  test("exit 3 for a bad token, an unknown gate, an unreachable Sluice and bad usage", async () => {
    const badToken = await sluice(["gate", "check", "prod", "--service", "checkout"], { SLUICE_TOKEN: "slc_nope" });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toContain("Sluice answered 401");
    expect(badToken.stderr).toContain("check SLUICE_TOKEN");
    const unknown = await sluice(["gate", "check", "nope", "--service", "checkout"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('gate "nope" not found');
    const port = await freePort();
    const unreachable = await sluice(["gate", "check", "prod", "--service", "checkout"], { SLUICE_URL: `http://127.0.0.1:${port}` });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`cannot reach Sluice at http://127.0.0.1:${port} (ECONNREFUSED)`);
    const noToken = await sluice(["gate", "check", "prod", "--service", "checkout"], { SLUICE_TOKEN: "" });
    expect(noToken.code).toBe(3);
    expect(noToken.stderr).toContain("SLUICE_TOKEN is not set");
    expect((await sluice(["gate", "check", "prod"])).code).toBe(3);
    expect((await sluice(["gate", "check", "prod", "--service", "x", "--wait", "soon"])).code).toBe(3);
    expect((await sluice(["gate", "check", "prod", "--service", "x", "--colour"])).code).toBe(3);
  });
});

describe("sluice deploy record and incident", () => {
  test("records a deployment, and recording it again updates it", async () => {
    const ingest = await t.token(["ingest", "read"]);
    const args = ["deploy", "record", "--service", "checkout", "--environment", "production", "--sha", sha("d1"), "--external-id", "run-77"];
    const first = await sluice([...args, "--status", "in_progress", "--started-at", "2026-06-15T11:00:00Z"], { SLUICE_TOKEN: ingest });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^deployment \d+ of checkout@[0-9a-f]{12} to production recorded \(in_progress\)/);
    const second = await sluice([...args, "--finished-at", "2026-06-15T11:20:00Z", "--url", "https://ci.example/run/77"], { SLUICE_TOKEN: ingest });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("updated (success)");
    const bad = await sluice(["deploy", "record", "--service", "checkout", "--environment", "production", "--sha", "xyz"], { SLUICE_TOKEN: ingest });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("sha: must be a git commit sha");
    const missing = await sluice(["deploy", "record", "--service", "checkout"], { SLUICE_TOKEN: ingest });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("--environment is required");
  });

  test("opens and resolves an incident by its id", async () => {
    const ingest = await t.token(["ingest", "read"]);
    const opened = await sluice(
      ["incident", "open", "--service", "search", "--id", "PD-9", "--title", "slow queries", "--severity", "high", "--at", "2026-06-15T11:00:00Z"],
      { SLUICE_TOKEN: ingest },
    );
    expect(opened.code).toBe(0);
    expect(opened.stdout).toBe("incident PD-9 on search open since 2026-06-15T11:00:00.000Z\n");
    const resolved = await sluice(["incident", "resolve", "--service", "search", "--id", "PD-9", "--at", "2026-06-15T11:45:00Z"], {
      SLUICE_TOKEN: ingest,
    });
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toBe("incident PD-9 on search resolved at 2026-06-15T11:45:00.000Z\n");
    const unknown = await sluice(["incident", "resolve", "--service", "search", "--id", "PD-404"], { SLUICE_TOKEN: ingest });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no open incident "PD-404" on search');
  });
});

describe("sluice gates apply", () => {
  const yaml = `
- slug: payments-prod
  name: Payments production
  applies_to: { teams: [payments], environments: [production] }
  rules:
    - { type: change_failure_rate, max: 0.15 }
    - type: freeze
      recurring:
        - { cron: "0 18 * * 5", duration_seconds: 223200, timezone: Europe/Berlin }
- slug: search-prod
  rules:
    - { type: open_incidents, min_severity: high, on_fail: warn }
`;

  test("creates, then changes nothing on a second run, then updates what changed", async () => {
    const file = join(dir, "gates.yaml");
    writeFileSync(file, yaml);
    const first = await sluice(["gates", "apply", file], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(first.code).toBe(0);
    expect(first.stdout.split("\n")).toEqual([
      "created           payments-prod",
      "created           search-prod",
      "2 created, 0 updated, 0 unchanged",
      "",
    ]);
    const again = await sluice(["gates", "apply", file], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(again.stdout).toContain("0 created, 0 updated, 2 unchanged");

    writeFileSync(file, yaml.replace("max: 0.15", "max: 0.2"));
    const dryRun = await sluice(["gates", "apply", file, "--dry-run"], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(dryRun.stdout).toContain("would be updated  payments-prod");
    expect((await read(t.request("/api/v1/gates/payments-prod"))).rules[0].max).toBe(0.15);
    const changed = await sluice(["gates", "apply", file], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(changed.stdout).toContain("updated           payments-prod");
    expect(changed.stdout).toContain("unchanged         search-prod");
    expect((await read(t.request("/api/v1/gates/payments-prod"))).rules[0].max).toBe(0.2);

    // JSON is YAML too.
    const json = join(dir, "gates.json");
    writeFileSync(json, JSON.stringify({ gates: [{ slug: "search-prod", rules: [{ type: "open_incidents", min_severity: "high", on_fail: "warn" }] }] }));
    const fromJson = await sluice(["gates", "apply", json], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(fromJson.stdout).toContain("unchanged         search-prod");
  });

  test("a file with mistakes is reported whole and changes nothing", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      `- slug: brand-new\n  rules: [{ type: soak, min_seconds: 60 }]\n- slug: broken\n  rules:\n    - { type: lead_time, max_seconds: 60 }\n    - { type: change_failure_rate, max: 3 }\n`,
    );
    const run = await sluice(["gates", "apply", file], { SLUICE_TOKEN: "test-admin-token-0123456789" });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("nothing was changed");
    expect(run.stderr).toContain("broken: rules.1.max:");
    expect((await t.request("/api/v1/gates/brand-new")).status).toBe(404);
    const forbidden = await sluice(["gates", "apply", join(dir, "gates.yaml")]);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain("Sluice answered 403");
    expect((await sluice(["gates", "apply", join(dir, "missing.yaml")])).code).toBe(3);
  });
});

describe("sluice report and --help", () => {
  test("streams the report to stdout or a file", async () => {
    const reader = await t.token(["read"]);
    const run = await sluice(["report", "--from", "2026-01-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z", "--group-by", "service"], {
      SLUICE_TOKEN: reader,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("team,deployments\npayments,42\n");
    expect(reports.at(-1)).toBe(
      `Bearer ${reader} ?from=2026-01-01T00%3A00%3A00Z&to=2026-04-01T00%3A00%3A00Z&group_by=service&format=csv text/csv`,
    );
    const output = join(dir, "report.pdf");
    const toFile = await sluice(["report", "--from", "2026-01-01T00:00:00Z", "--to", "2026-04-01T00:00:00Z", "--format", "pdf", "-o", output], {
      SLUICE_TOKEN: reader,
    });
    expect(toFile.code).toBe(0);
    expect(readFileSync(output, "utf8")).toBe("team,deployments\npayments,42\n");
    expect(reports.at(-1)).toContain("application/pdf");
    expect((await sluice(["report", "--from", "2026-01-01T00:00:00Z"], { SLUICE_TOKEN: reader })).code).toBe(3);
  });

  test("every command answers --help with exit 0 and no token needed", async () => {
    for (const args of [["--help"], ["gate", "check", "--help"], ["gate", "--help"], ["deploy", "record", "--help"], ["incident", "--help"], ["gates", "apply", "--help"], ["report", "--help"]]) {
      const run = await sluice(args, { SLUICE_TOKEN: "" });
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout, args.join(" ")).toMatch(/^Usage: sluice/);
    }
    expect((await sluice([])).code).toBe(3);
    expect((await sluice(["launch"])).code).toBe(3);
  });
});
