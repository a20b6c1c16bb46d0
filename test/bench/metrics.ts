// Metric query latency (issue 3): a year of an organisation loaded into a fresh PostgreSQL database,
// then GET /api/v1/metrics for one service, one team and the whole organisation over 30 and 90
// days, and the weekly timeseries, through app.request(). The same at a smaller scale on PGlite.
// Targets on PostgreSQL: organisation-wide 90 days p95 < 250 ms, one service p95 < 50 ms.
//
// BENCH_SCALE (default 1: 200 services, ~1,000 deployments a day) sizes the PostgreSQL run,
// BENCH_PGLITE_SCALE (default 0.05) the PGlite one (0 skips it), BENCH_RUNS the timed requests per row,
// BENCH_KEEP_DATABASE=1 keeps the PostgreSQL database (its URL is printed) to study the plans.
import { Writable } from "node:stream";
import { type Database, openDatabase, rows } from "@sluice/db";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { createApp, createLogger, loadConfig } from "@sluice/ingest";
import { sql } from "drizzle-orm";
import { BENCH_ADMIN_TOKEN, benchDatabaseUrl, fmt, isMain, printTable } from "./harness.ts";
import { type LoadReport, loadOrganisation, organisation } from "./data/organisation.ts";

const END = new Date("2026-06-01T00:00:00Z");
const DAY_MS = 86_400_000;
const TARGETS = { service: 50, org90: 250 };

interface Measured {
  database: string;
  request: string;
  p50: number;
  p95: number;
  target: string;
}

const percentile = (sorted: number[], p: number) => {
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
};

async function measure(database: Database, kind: string, runs: number): Promise<Measured[]> {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createApp({
    database,
    config: loadConfig({ SLUICE_ADMIN_TOKEN: BENCH_ADMIN_TOKEN }),
    logger: createLogger("error", silent),
    clock: () => END,
  });
  // a service of median activity, and the first team
  const [service] = await rows<{ slug: string }>(
    database.db,
    sql`select s.slug from services s join deployments d on d.service_id = s.id group by s.slug order by count(*), s.slug
        offset (select count(*) / 2 from services) limit 1`,
  );
  const [team] = await rows<{ slug: string }>(database.db, sql`select slug from teams order by id limit 1`);
  const window = (days: number) => `from=${new Date(END.getTime() - days * DAY_MS).toISOString()}&to=${END.toISOString()}`;
  const cases: Array<[string, string, string]> = [
    ["one service, 30 days", `/api/v1/metrics?service=${service?.slug}&${window(30)}`, `< ${TARGETS.service} ms`],
    ["one service, 90 days", `/api/v1/metrics?service=${service?.slug}&${window(90)}`, `< ${TARGETS.service} ms`],
    ["one team, 30 days", `/api/v1/metrics?team=${team?.slug}&${window(30)}`, ""],
    ["one team, 90 days", `/api/v1/metrics?team=${team?.slug}&${window(90)}`, ""],
    ["organisation, 30 days", `/api/v1/metrics?${window(30)}`, ""],
    ["organisation, 90 days", `/api/v1/metrics?${window(90)}`, `< ${TARGETS.org90} ms`],
    ["one service, weekly timeseries 90 days", `/api/v1/metrics/timeseries?interval=week&service=${service?.slug}&${window(90)}`, ""],
    ["organisation, weekly timeseries 90 days", `/api/v1/metrics/timeseries?interval=week&${window(90)}`, ""],
    ["breakdown by team, 90 days", `/api/v1/metrics/breakdown?group_by=team&${window(90)}`, ""],
  ];
  const headers = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
  const results: Measured[] = [];
  for (const [name, path, target] of cases) {
    const times: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const started = performance.now();
      const response = await app.request(path, { headers });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      if (i >= 3) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p95 = percentile(times, 0.95);
    const limit = Number(target.replace(/[^0-9]/g, ""));
    results.push({
      database: kind,
      request: name,
      p50: percentile(times, 0.5),
      p95,
      target: target ? `${target}: ${p95 < limit ? "met" : "MISSED"}` : "",
    });
  }
  return results;
}

async function dataSize(database: Database) {
  const [size] = await rows<{ deployments: number; changes: number; deployment_changes: number; incidents: number; bytes: number }>(
    database.db,
    sql`select (select count(*) from deployments)::int as deployments, (select count(*) from changes)::int as changes,
          (select count(*) from deployment_changes)::int as deployment_changes, (select count(*) from incidents)::int as incidents,
          pg_database_size(current_database())::float8 as bytes`,
  );
  return size;
}

async function benchmark(kind: "postgres" | "pglite", scale: number, runs: number) {
  let database: Database;
  let drop = async () => {};
  if (kind === "postgres") {
    const created = await createEmptyPostgresDatabase(benchDatabaseUrl());
    database = await openDatabase({ url: created.url, poolSize: 8 });
    // BENCH_KEEP_DATABASE=1 leaves it for EXPLAIN ANALYZE afterwards.
    if (process.env.BENCH_KEEP_DATABASE) console.log(`database kept: ${created.url}`);
    drop = process.env.BENCH_KEEP_DATABASE ? created.keep : created.drop;
  } else {
    database = await openDatabase({ dataDir: "memory://" });
  }
  try {
    const org = organisation(scale, END);
    console.log(`${kind}: loading ${org.services} services in ${org.teams} teams, ~${Math.round(org.perDay)} deployments a day for ${org.days} days ...`);
    const load: LoadReport = await loadOrganisation(database.db, org, { concurrency: kind === "postgres" ? 4 : 1 });
    if (kind === "postgres") await database.db.execute(sql`vacuum analyze`);
    else await database.db.execute(sql`analyze`);
    const size = await dataSize(database);
    const events = load.changes + load.deployments + load.incidents;
    const totalMs = load.insertMs + load.deriveMs;
    printTable(`${kind} (scale ${scale}): data loaded`, [
      {
        deployments: size?.deployments ?? 0,
        changes: size?.changes ?? 0,
        "deployment_changes": size?.deployment_changes ?? 0,
        incidents: size?.incidents ?? 0,
        "database size": `${fmt((size?.bytes ?? 0) / 1024 / 1024, 0)} MiB`,
        "insert s": fmt(load.insertMs / 1000),
        "derive s": fmt(load.deriveMs / 1000),
        "events/s (insert + derive)": fmt(events / (totalMs / 1000), 0),
      },
    ]);
    return await measure(database, `${kind} (scale ${scale})`, runs);
  } finally {
    await database.close();
    await drop();
  }
}

export async function run(): Promise<Measured[]> {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  const pgliteScale = Number(process.env.BENCH_PGLITE_SCALE ?? 0.05);
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const results = await benchmark("postgres", scale, runs);
  if (pgliteScale > 0) results.push(...(await benchmark("pglite", pgliteScale, runs)));
  printTable(
    `GET /api/v1/metrics latency over ${runs} runs (ms)`,
    results.map((r) => ({ database: r.database, request: r.request, "p50 ms": fmt(r.p50), "p95 ms": fmt(r.p95), target: r.target })),
  );
  return results;
}

if (isMain(import.meta.url)) await run();
