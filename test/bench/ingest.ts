// Ingest throughput: POST /api/v1/deployments from 32 concurrent clients, beside the raw GET /healthz rate of
// the same server in the same run, the two measured in alternating rounds (the machine is shared and
// noisy: the ratio is the figure; harness.ts againstHealthz).
// Target (issue 2, held by later issues): ingest >= 25% of the raw rate. Also printed: the server's RSS
// under the load (issue 8: under 300 MB) and how long after the burst a read that must see all of it
// answered (derivation runs behind the writes, docs/operations.md "Derivation").
import {
  BENCH_ADMIN_TOKEN,
  againstHealthz,
  benchDatabases,
  benchServer,
  cpuRows,
  derivationCatchUp,
  fmt,
  isMain,
  printCpuTable,
  printTable,
  ratioCell,
  rssCell,
  seconds,
  serverMemory,
} from "./harness.ts";

const TARGET_RATIO = 0.25;

export async function run(kinds = benchDatabases()) {
  const rows: Array<Record<string, string | number>> = [];
  const cpu: Array<Record<string, string>> = [];
  for (const kind of kinds) {
    const { server, close } = await benchServer(kind);
    try {
      const headers = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" };
      for (let i = 0; i < 20; i++) {
        await fetch(`${server.url}/api/v1/services`, { method: "POST", headers, body: JSON.stringify({ slug: `svc-${i}` }) });
      }
      const duration = seconds(10);
      const start = Date.parse("2026-01-01T00:00:00Z");
      const deployment = (n: number) => ({
        method: "POST",
        path: "/api/v1/deployments",
        headers,
        body: JSON.stringify({
          service: `svc-${n % 20}`,
          environment: n % 3 === 0 ? "staging" : "production",
          sha: (n + 1).toString(16).padStart(40, "0"),
          external_id: `bench-${n}`,
          finished_at: new Date(start + n * 60_000).toISOString(),
        }),
      });
      let sent = 0;
      const measured = await againstHealthz({
        url: server.url,
        duration,
        name: "POST /api/v1/deployments",
        next: () => deployment(sent++),
        serverPid: server.process.pid,
      });
      const { raw, measured: ingest, ratio, rounds } = measured;
      cpu.push(...cpuRows(kind, measured));
      const memory = serverMemory(server);
      const catchUp = await derivationCatchUp(server);
      for (const r of [raw, ingest]) {
        rows.push({
          database: kind,
          call: r.name,
          "req/s": fmt(r.requestsPerSecond, 0),
          "p50 ms": fmt(r.p50),
          "p99 ms": fmt(r.p99),
          "errors+non2xx": r.errors + r.non2xx,
          "RSS MB (peak)": r === raw ? "" : rssCell(memory),
          "derived s after": r === raw ? "" : fmt(catchUp, 2),
          "of raw": r === raw ? "baseline" : ratioCell(ratio, TARGET_RATIO, rounds),
        });
      }
    } finally {
      await close();
    }
  }
  printTable("Ingest throughput, 32 concurrent clients", rows);
  printCpuTable(cpu);
  return rows;
}

if (isMain(import.meta.url)) await run();
