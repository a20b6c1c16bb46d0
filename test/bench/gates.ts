// Gate evaluations (issue 5): POST /api/v1/gates/:slug/evaluate for a gate of the four DORA rules,
// paced at 200 evaluations/s (an open loop: harness.ts `paced`) from up to 16 connections, against a
// Sluice process on PostgreSQL holding the metrics benchmark's data set (data/organisation.ts: a year
// of 200 services, ~1,000 production deployments a day), ending now. Each evaluation derives what is
// queued, computes the service's 30-day metrics (computeMetrics) and stores an audit row.
// Target: p99 < 25 ms at 200 evaluations/s. Beside it, GET /healthz at the same pace: the floor.
//
// BENCH_GATE_SCALE (default 1) sizes the organisation, BENCH_GATE_RATE the pace.
//
// Then freeze rules at the documented limits (runFreeze below; SPEC 7 v2: "one evaluation of any gate
// costs under 50 ms of CPU at the documented limits"). BENCH_GATE_SECTIONS=freeze runs only that part
// (it needs no organisation), BENCH_GATE_SECTIONS=dora only the first.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gates, openDatabase } from "@sluice/db";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { sql } from "drizzle-orm";
import { storedRules } from "../../ingest/src/gates/rule-schemas.ts";
import { freeze } from "../../ingest/src/gates/rules/freeze.ts";
import { startServer } from "../support/server.ts";
import { loadOrganisation, organisation } from "./data/organisation.ts";
import { BENCH_ADMIN_TOKEN, BENCH_ENV, benchDatabaseUrl, fmt, isMain, load, printTable, seconds } from "./harness.ts";

const RATE = Number(process.env.BENCH_GATE_RATE ?? 200);
const TARGET_P99_MS = 25;
const TARGET_RATE = 200;

const sha = (label: string) => createHash("sha1").update(label).digest("hex");

const SECTIONS = (process.env.BENCH_GATE_SECTIONS ?? "dora,freeze").split(",");

export async function run() {
  if (SECTIONS.includes("dora")) await runDora();
  if (SECTIONS.includes("freeze")) await runFreeze();
}

async function runDora() {
  const org = organisation(Number(process.env.BENCH_GATE_SCALE ?? 1), new Date());
  const serviceCount = org.services;
  const target = await createEmptyPostgresDatabase(benchDatabaseUrl());
  const database = await openDatabase({ url: target.url, poolSize: 8 });
  try {
    const report = await loadOrganisation(database.db, org, { concurrency: 4 });
    console.log(
      `loaded ${org.services} services, ${report.deployments} deployments, ${report.changes} changes, ${report.incidents} incidents in ${fmt((report.insertMs + report.deriveMs) / 1000)} s`,
    );
    // A database in steady state, not one just bulk-loaded: otherwise autovacuum and the first
    // checkpoint run during the measurement.
    await database.db.execute(sql`vacuum analyze`);
    await database.db.execute(sql`checkpoint`);

    const server = await startServer({
      DATABASE_URL: target.url,
      ...BENCH_ENV,
      SLUICE_DB_POOL_SIZE: "20",
    });
    try {
      const admin = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" };
      const gate = await fetch(`${server.url}/api/v1/gates`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({
          slug: "dora4",
          rules: [
            { type: "change_failure_rate", max: 0.15 },
            { type: "lead_time", max_seconds: 7 * 86_400 },
            { type: "recovery_time", max_seconds: 86_400 },
            { type: "deployment_frequency", min_per_week: 7 },
          ],
        }),
      });
      if (gate.status !== 201) throw new Error(`gate: ${gate.status} ${await gate.text()}`);
      // Real pipeline tokens (gate scope), so authentication and the per-token rate limit are measured
      // too; 200/s is many pipelines, so the load is spread over one token per service.
      const tokens: string[] = [];
      for (let i = 0; i < serviceCount; i++) {
        const created = await fetch(`${server.url}/api/v1/tokens`, {
          method: "POST",
          headers: admin,
          body: JSON.stringify({ name: `pipeline svc-${i + 1}`, scopes: ["gate"] }),
        });
        tokens.push(((await created.json()) as { token: string }).token);
      }
      const request = (n: number) => ({
        method: "POST",
        path: "/api/v1/gates/dora4/evaluate",
        headers: { authorization: `Bearer ${tokens[n % serviceCount]}`, "content-type": "application/json" },
        body: JSON.stringify({ service: `svc-${(n % serviceCount) + 1}`, sha: sha(`candidate-${n}`) }),
      });

      const first = request(0);
      const check = await fetch(`${server.url}${first.path}`, { method: "POST", headers: first.headers, body: first.body });
      const sample = (await check.json()) as { decision: string; rules: Array<{ message: string }> };
      console.log(`sample evaluation of svc-1: ${sample.decision}\n  ${sample.rules.map((r) => r.message).join("\n  ")}`);

      await load({ name: "warm-up", url: server.url, connections: 8, duration: 3, rate: RATE, next: request });
      const result = await load({
        name: "POST /api/v1/gates/dora4/evaluate",
        url: server.url,
        connections: 16,
        duration: seconds(20),
        rate: RATE,
        next: request,
      });
      // The same pace on the cheapest route: on a shared, noisy machine this is the floor to read against.
      const floor = await load({ name: "GET /healthz (floor)", url: server.url, connections: 16, duration: 5, rate: RATE, next: () => ({ path: "/healthz" }) });
      const met = result.p99 < TARGET_P99_MS && result.requestsPerSecond >= RATE * 0.95;
      const rows = [result, floor].map((r) => ({
        call: r.name,
        "req/s": fmt(r.requestsPerSecond, 0),
        "p50 ms": fmt(r.p50),
        "p99 ms": fmt(r.p99),
        "errors+non2xx": r.errors + r.non2xx,
        target: r === result ? `p99 < ${TARGET_P99_MS} ms at ${TARGET_RATE}/s: ${RATE < TARGET_RATE ? "n/a at this pace" : met ? "met" : "MISSED"}` : "",
      }));
      printTable(`Gate evaluations, four DORA rules, paced at ${RATE}/s on PostgreSQL (the metrics benchmark's organisation: ${serviceCount} services, a year)`, rows);
      return rows;
    } finally {
      await server.stop();
    }
  } finally {
    await database.close();
    await target.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// Freeze rules at the documented limits: 50 rules a gate, each with 500 windows and 50 recurring
// entries. The worst rule there is: fixed windows that all run into each other (in shuffled order),
// windows every minute and every second that outlast the gap to the next (a wait that never ends),
// crons that never fire (refused at save now, so stored before: written to the database directly)
// and crons that fire once in 28 years, in time zones with daylight saving time. Beside it, in the
// same run: an ordinary gate (one freeze rule: holidays and a weekend window) and, over HTTP, the
// same gates' whole evaluations with GET /healthz as the floor.

const FREEZE_TARGET_MS = 50;
const HOUR_MS = 3_600_000;
const FREEZE_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Tehran", "Pacific/Chatham"];
const isoAt = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

function worstFreezeRule(index: number, at: number) {
  const windows = Array.from({ length: 500 }, (_, i) => {
    const start = at - HOUR_MS + ((i * 7919) % 500) * HOUR_MS;
    return { start: isoAt(start), end: isoAt(start + HOUR_MS) };
  });
  const recurring = Array.from({ length: 50 }, (_, i) => {
    const k = index * 50 + i;
    const timezone = FREEZE_ZONES[k % FREEZE_ZONES.length] as string;
    const kinds = [
      { cron: "* * * * *", duration_seconds: 120 + k },
      { cron: `${k % 60} ${k % 24} 30 2 *`, duration_seconds: 31_536_000 },
      { cron: `${k % 60} ${k % 24} 31 4,6,9,11 *`, duration_seconds: 31_536_000 },
      { cron: `${k % 60} ${k % 24} 29 2 +${k % 7}`, duration_seconds: 31_536_000 },
      { cron: "* * * * * *", duration_seconds: 2 },
    ];
    return { ...(kinds[i % kinds.length] as { cron: string; duration_seconds: number }), timezone };
  });
  return { type: "freeze", on_fail: "block", windows, recurring };
}

const worstFreezeGate = (at: number) => Array.from({ length: 50 }, (_, i) => worstFreezeRule(i, at));

/** One freeze rule as people write it: a year of holidays and a weekend window. */
const ordinaryFreezeGate = (at: number) => [
  {
    type: "freeze",
    on_fail: "block",
    windows: Array.from({ length: 20 }, (_, i) => ({ start: isoAt(at + (i * 18 + 3) * 86_400_000), end: isoAt(at + (i * 18 + 5) * 86_400_000) })),
    recurring: [{ cron: "0 18 * * 5", duration_seconds: 62 * 3600, timezone: "Europe/Berlin" }],
  },
];

const cpuSince = (started: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
};

/** CPU ms of one evaluation's freeze work, as evaluate.ts runs it: storedRules (zod, again), then each rule. */
function freezeCpuMs(stored: unknown[], at: Date): { parse: number; rules: number; total: number } {
  const started = process.cpuUsage();
  const rules = storedRules(stored);
  const parse = cpuSince(started);
  for (const rule of rules) if (rule.type === "freeze") freeze(rule, at);
  const total = cpuSince(started);
  return { parse, rules: total - parse, total };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
};

/** The server's CPU ticks (10 ms each) from Linux /proc, or null elsewhere. */
function serverTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export async function runFreeze() {
  const runs = Number(process.env.BENCH_FREEZE_RUNS ?? 30);
  const now = new Date();
  const at = now.getTime();
  const cases = [
    { name: "worst gate, inside a freeze (50 rules at the limits)", stored: worstFreezeGate(at) },
    { name: "worst gate, between freezes (50 rules at the limits)", stored: worstFreezeGate(at + 2 * HOUR_MS) },
    { name: "ordinary gate (1 freeze rule: 20 holidays, a weekend)", stored: ordinaryFreezeGate(at) },
  ];
  const rows = cases.map(({ name, stored }) => {
    const first = freezeCpuMs(stored, now);
    const warm = Array.from({ length: runs }, () => freezeCpuMs(stored, now));
    const median = percentile(
      warm.map((w) => w.total),
      0.5,
    );
    return {
      "one evaluation's freeze rules": name,
      "first ms (compiles crons)": fmt(first.total, 2),
      "storedRules ms": fmt(percentile(warm.map((w) => w.parse), 0.5), 2),
      "freeze() ms": fmt(percentile(warm.map((w) => w.rules), 0.5), 2),
      "median ms (both)": fmt(median, 2),
      "max ms": fmt(Math.max(...warm.map((w) => w.total)), 2),
      target: `< ${FREEZE_TARGET_MS} ms: ${median < FREEZE_TARGET_MS ? "met" : "MISSED"}`,
    };
  });
  printTable(`Freeze rules in this process: CPU per evaluation (process.cpuUsage; medians of ${runs} runs after the first)`, rows);

  // The same gates through the API, stored as a gate written before never-firing crons were refused.
  const target = await createEmptyPostgresDatabase(benchDatabaseUrl());
  const database = await openDatabase({ url: target.url, poolSize: 2 });
  const server = await startServer({ DATABASE_URL: target.url, ...BENCH_ENV });
  try {
    const admin = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" };
    const service = await fetch(`${server.url}/api/v1/services`, { method: "POST", headers: admin, body: JSON.stringify({ slug: "checkout" }) });
    if (service.status !== 201) throw new Error(`service: ${service.status} ${await service.text()}`);
    const created = await fetch(`${server.url}/api/v1/tokens`, { method: "POST", headers: admin, body: JSON.stringify({ name: "pipeline", scopes: ["gate"] }) });
    const token = ((await created.json()) as { token: string }).token;
    const slugs = ["worst-inside", "worst-between", "ordinary"];
    await database.db.insert(gates).values(
      cases.map(({ stored }, i) => ({ slug: slugs[i] as string, name: slugs[i] as string, appliesTo: { environments: ["production"] }, mode: "enforce" as const, rules: stored })),
    );
    const pid = server.process.pid as number;
    const measure = async (name: string, request: () => Promise<Response>) => {
      await (await request()).arrayBuffer(); // warm-up: compiles, time zone tables, JIT
      const walls: number[] = [];
      const before = serverTicks(pid);
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const response = await request();
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${name}: ${response.status}`);
        walls.push(performance.now() - started);
      }
      const after = serverTicks(pid);
      const cpu = before === null || after === null ? Number.NaN : ((after - before) * 10) / runs;
      return { call: name, "server CPU ms": fmt(cpu, 1), "p50 ms": fmt(percentile(walls, 0.5), 1), "max ms": fmt(Math.max(...walls), 1) };
    };
    const evaluate = (slug: string) => () =>
      fetch(`${server.url}/api/v1/gates/${slug}/evaluate`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ service: "checkout" }),
      });
    const http = [
      await measure("GET /healthz (floor)", () => fetch(`${server.url}/healthz`)),
      await measure("evaluate ordinary gate", evaluate("ordinary")),
      await measure("evaluate worst gate, inside a freeze", evaluate("worst-inside")),
      await measure("evaluate worst gate, between freezes", evaluate("worst-between")),
    ];
    printTable(
      `Freeze gates over HTTP on PostgreSQL, ${runs} sequential evaluations each (server CPU from /proc, 10 ms ticks; the whole request: auth, loading and parsing the gate, rules, storing the evaluation with the gate it was judged by)`,
      http,
    );
    return { rows, http };
  } finally {
    await server.stop();
    await database.close();
    await target.drop();
  }
}

if (isMain(import.meta.url)) await run();
