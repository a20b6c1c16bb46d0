// Gate evaluations (issue 5): POST /api/v1/gates/:slug/evaluate for a gate of the four DORA rules,
// paced at 200 evaluations/s (an open loop: harness.ts `paced`) from up to 16 connections, against a
// Sluice process on PostgreSQL holding the metrics benchmark's data set (data/organisation.ts: a year
// of 200 services, ~1,000 production deployments a day), ending now. Each evaluation derives what is
// queued, computes the service's 30-day metrics (computeMetrics) and stores an audit row.
// Target: p99 < 25 ms at 200 evaluations/s. Beside it, GET /healthz at the same pace: the floor.
//
// BENCH_GATE_SCALE (default 1) sizes the organisation, BENCH_GATE_RATE the pace.
import { createHash } from "node:crypto";
import { openDatabase } from "@sluice/db";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { sql } from "drizzle-orm";
import { startServer } from "../support/server.ts";
import { loadOrganisation, organisation } from "./data/organisation.ts";
import { BENCH_ADMIN_TOKEN, BENCH_ENV, benchDatabaseUrl, fmt, isMain, load, printTable, seconds } from "./harness.ts";

const RATE = Number(process.env.BENCH_GATE_RATE ?? 200);
const TARGET_P99_MS = 25;
const TARGET_RATE = 200;

const sha = (label: string) => createHash("sha1").update(label).digest("hex");

export async function run() {
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

if (isMain(import.meta.url)) await run();
