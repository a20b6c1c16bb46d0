import { readFileSync, readdirSync } from "node:fs";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { type RunningServer, startServer } from "../support/server.ts";

export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789";
/** Benchmarks measure throughput: the per-integration webhook limit would cap it. */
export const BENCH_ENV = {
  SLUICE_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
  SLUICE_LOG_LEVEL: "silent",
  SLUICE_WEBHOOK_RATE_LIMIT_PER_MINUTE: "0",
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of each server to dir (open it in Chrome DevTools).
  ...(process.env.BENCH_CPU_PROF ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` } : {}),
};

export const benchDatabaseUrl = () => process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const seconds = (fallback: number) => Number(process.env.BENCH_SECONDS ?? fallback);
/** BENCH_DATABASES=postgres (or pglite) runs one of the two. */
export const benchDatabases = (): Array<"postgres" | "pglite"> =>
  (process.env.BENCH_DATABASES ?? "postgres,pglite").split(",").filter((k): k is "postgres" | "pglite" => k === "postgres" || k === "pglite");

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

export type Request = { method?: string; path: string; headers?: Record<string, string>; body?: string };

/**
 * Drives the server for `duration` seconds; `next` builds each request. Without `rate`, a closed
 * loop: `connections` clients each send their next request as soon as the last one answered
 * (throughput). With `rate`, an open loop: see `paced`.
 */
export async function load(options: {
  name: string;
  url: string;
  connections: number;
  duration: number;
  next: (n: number) => Request;
  rate?: number;
}): Promise<LoadResult> {
  if (options.rate) return paced({ ...options, rate: options.rate });
  let n = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.duration,
    requests: [
      {
        setupRequest: (request) => {
          const built = options.next(n++);
          return {
            ...request,
            method: (built.method ?? "GET") as autocannon.Request["method"],
            path: built.path,
            headers: built.headers ?? {},
            ...(built.body === undefined ? {} : { body: built.body }),
          };
        },
      },
    ],
  });
  return {
    name: options.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

/**
 * Where a load's CPU went, per request, in ms: the server process, every PostgreSQL process on
 * this machine, and this process (the load generator); `idle` is the share of the machine's
 * cores that nobody used. Read from Linux /proc (clock ticks of 10 ms: a share, not a timing).
 */
export interface CpuSplit {
  serverMs: number;
  postgresMs: number;
  generatorMs: number;
  idle: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

function processTicks(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

interface CpuReading {
  server: number;
  postgres: number;
  generator: number;
  idle: number;
  total: number;
}

function readCpu(serverPid: number): CpuReading | null {
  try {
    let postgres = 0;
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") postgres += processTicks(pid);
      } catch {
        // gone since the listing
      }
    }
    const machine = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const generator = process.cpuUsage();
    return {
      server: processTicks(String(serverPid)),
      postgres,
      generator: ((generator.user + generator.system) / 1e6) * CLOCK_TICKS_PER_SECOND,
      idle: (machine[3] ?? 0) + (machine[4] ?? 0),
      total: machine.reduce((sum, ticks) => sum + ticks, 0),
    };
  } catch {
    return null; // not Linux
  }
}

/** Runs `run` and adds the CPU it cost to `into` (summed over rounds; see cpuPerRequest). */
async function measuringCpu(serverPid: number | undefined, into: CpuReading, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = serverPid === undefined ? null : readCpu(serverPid);
  const result = await run();
  const after = serverPid === undefined ? null : readCpu(serverPid);
  if (before && after) {
    for (const key of Object.keys(into) as Array<keyof CpuReading>) into[key] += after[key] - before[key];
  }
  return result;
}

function cpuPerRequest(spent: CpuReading, requests: number): CpuSplit | undefined {
  if (spent.total === 0 || requests === 0) return undefined;
  const ms = (ticks: number) => ((ticks / CLOCK_TICKS_PER_SECOND) * 1000) / requests;
  return { serverMs: ms(spent.server), postgresMs: ms(spent.postgres), generatorMs: ms(spent.generator), idle: spent.idle / spent.total };
}

const noCpu = (): CpuReading => ({ server: 0, postgres: 0, generator: 0, idle: 0, total: 0 });

/**
 * A call's closed-loop rate beside the raw GET /healthz rate of the same server, both from 32
 * connections, each warmed up first. The two are measured in turn, round after round (H C H C
 * H C; BENCH_ROUNDS, default 3, sharing `duration` seconds each): this machine is shared and
 * its speed drifts by tens of percent over a minute, so two long runs one after the other can
 * meet different machines, while a round's two loads meet the same one. Each result: the
 * median round's rate and p50, the worst round's p99, errors and totals summed; `ratio` is the
 * median over rounds of the call's rate over /healthz's in the same round. With the server's
 * pid, `cpu` says where each load's CPU went (CpuSplit).
 */
export async function againstHealthz(options: {
  url: string;
  duration: number;
  name: string;
  next: () => Request;
  serverPid?: number;
}): Promise<{ raw: LoadResult; measured: LoadResult; ratio: number; rounds: number[]; cpu?: { raw: CpuSplit; measured: CpuSplit } }> {
  const { url, name, next, serverPid } = options;
  const healthz = () => ({ path: "/healthz" });
  await load({ name: "warm-up", url, connections: 8, duration: 2, next: healthz });
  await load({ name: "warm-up", url, connections: 32, duration: 2, next });
  const count = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  const perRound = Math.max(1, Math.round(options.duration / count));
  const raws: LoadResult[] = [];
  const calls: LoadResult[] = [];
  const [rawCpu, callCpu] = [noCpu(), noCpu()];
  for (let round = 0; round < count; round++) {
    raws.push(await measuringCpu(serverPid, rawCpu, () => load({ name: "GET /healthz", url, connections: 32, duration: perRound, next: healthz })));
    calls.push(await measuringCpu(serverPid, callCpu, () => load({ name, url, connections: 32, duration: perRound, next })));
  }
  const combined = (runs: LoadResult[]): LoadResult => ({
    name: runs[0]?.name ?? "",
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50: median(runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    total: runs.reduce((sum, r) => sum + r.total, 0),
  });
  const rounds = calls.map((r, round) => r.requestsPerSecond / (raws[round]?.requestsPerSecond ?? Number.NaN));
  const [raw, measured] = [combined(raws), combined(calls)];
  const [rawSplit, callSplit] = [cpuPerRequest(rawCpu, raw.total), cpuPerRequest(callCpu, measured.total)];
  return { raw, measured, ratio: median(rounds), rounds, ...(rawSplit && callSplit ? { cpu: { raw: rawSplit, measured: callSplit } } : {}) };
}

/**
 * The CPU table's two rows for one againstHealthz result (none without its `cpu`): where each
 * load's CPU went per request, and the call's CPU cost beside that same run's /healthz.
 */
export function cpuRows(
  database: string,
  result: { raw: LoadResult; measured: LoadResult; cpu?: { raw: CpuSplit; measured: CpuSplit } },
): Array<Record<string, string>> {
  if (!result.cpu) return [];
  const total = (cpu: CpuSplit) => cpu.serverMs + cpu.postgresMs + cpu.generatorMs;
  const baseline = total(result.cpu.raw);
  const row = (load: LoadResult, cpu: CpuSplit) => ({
    call: `${database}: ${load.name}`,
    "server ms": fmt(cpu.serverMs, 3),
    "PostgreSQL ms": fmt(cpu.postgresMs, 3),
    "generator ms": fmt(cpu.generatorMs, 3),
    "cores idle": `${fmt(cpu.idle * 100)}%`,
    "of raw, per CPU ms": cpu === result.cpu?.raw ? "baseline" : `${fmt((baseline / total(cpu)) * 100)}%`,
  });
  return [row(result.raw, result.cpu.raw), row(result.measured, result.cpu.measured)];
}

/** Prints the CPU table (cpuRows), if /proc gave anything. */
export function printCpuTable(rows: Array<Record<string, string>>): void {
  if (rows.length > 0) printTable("CPU per request (Linux /proc), summed over the rounds", rows);
}

/**
 * An open loop at `rate` requests/s (test/bench/pacer.ts), run in a worker thread: the
 * requests are built here first, and the worker's small heap keeps this thread's garbage
 * (a benchmark that just loaded millions of events) from pausing the pacer.
 *
 * autocannon's `overallRate` is not this: each connection sends back to back until it has made its
 * share of the second, then idles until the next second, so "200/s" is a burst of all
 * connections at the start of every second, and its latency correction assumes a 1 ms interval.
 */
async function paced(options: {
  name: string;
  url: string;
  connections: number;
  duration: number;
  rate: number;
  next: (n: number) => Request;
}): Promise<LoadResult> {
  const requests = Array.from({ length: Math.round(options.duration * options.rate) }, (_, i) => options.next(i));
  const worker = new Worker(new URL("./pacer.ts", import.meta.url), {
    workerData: { url: options.url, connections: options.connections, rate: options.rate, requests },
  });
  const [measured] = (await once(worker, "message")) as [Omit<LoadResult, "name">];
  await worker.terminate();
  return { name: options.name, ...measured };
}

/** A Sluice process on a fresh PostgreSQL database, or on a fresh PGlite directory. */
export async function benchServer(kind: "postgres" | "pglite"): Promise<{ server: RunningServer; close: () => Promise<void> }> {
  if (kind === "pglite") {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
    const server = await startServer({ SLUICE_DATA_DIR: dir, ...BENCH_ENV });
    return {
      server,
      close: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const database = await createEmptyPostgresDatabase(benchDatabaseUrl());
  const server = await startServer({
    DATABASE_URL: database.url,
    ...BENCH_ENV,
    SLUICE_DB_POOL_SIZE: "20",
  });
  return {
    server,
    close: async () => {
      await server.stop();
      await database.drop();
    },
  };
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const headers = Object.keys(rows[0] ?? {});
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(headers.map((h) => String(row[h]))));
}

export const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

export const isMain = (url: string) => process.argv[1] !== undefined && url.endsWith(process.argv[1].replace(/^.*\/test\//, "/test/"));

/** The server's resident set now and at its peak, in MB (Linux /proc). */
export function serverMemory(server: RunningServer): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${server.process.pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

/** A table cell: RSS now (peak) against the 300 MB target of issue 8. */
export const rssCell = (m: { rssMb: number; peakMb: number }) =>
  `${m.rssMb} (${m.peakMb}; target < 300: ${m.peakMb < 300 ? "met" : "MISSED"})`;

/** A table cell: a rate as a share of the same run's /healthz rate, against a target share (and each round's share). */
export const ratioCell = (ratio: number, target: number, rounds?: number[]) =>
  `${fmt(ratio * 100)}% (${rounds && rounds.length > 1 ? `rounds ${rounds.map((r) => fmt(r * 100)).join(", ")}; ` : ""}target >= ${target * 100}%: ${ratio >= target ? "met" : "MISSED"})`;

/**
 * Derivation runs behind the writes (docs/operations.md "Derivation"): how long after a
 * burst a read that must see all of it takes (it derives whatever the deriver has not).
 */
export async function derivationCatchUp(server: RunningServer): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/v1/metrics`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
  if (!response.ok) throw new Error(`metrics after the load: ${response.status}`);
  return (performance.now() - started) / 1000;
}
