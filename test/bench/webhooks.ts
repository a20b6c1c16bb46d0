// Webhook throughput: signed GitHub deliveries (a push of two commits each) from 32 concurrent
// senders, beside the raw GET /healthz rate of the same server in the same run, the two measured
// in alternating rounds (harness.ts againstHealthz).
// Targets (issue 4): at least 25% of the raw rate, p99 under 100 ms; (issue 8) p99 under 100 ms when paced
// at 500 deliveries/s, RSS under 300 MB. Also printed: how long after the burst a read that must see all
// of it answered (derivation runs behind the writes, docs/operations.md "Derivation").
import {
  BENCH_ADMIN_TOKEN,
  againstHealthz,
  benchDatabases,
  benchServer,
  cpuRows,
  derivationCatchUp,
  fmt,
  isMain,
  load,
  printCpuTable,
  printTable,
  type Request,
  ratioCell,
  rssCell,
  seconds,
  serverMemory,
} from "./harness.ts";
import { githubSignature, octokitExamples } from "../support/webhooks.ts";

const TARGET_RATIO = 0.25;
const TARGET_P99_MS = 100;
const PACED_RATE = 500;

// biome-ignore lint/suspicious/noExplicitAny: a vendor payload edited by path
type Payload = Record<string, any>;

export function pushTemplate(): Payload {
  const example = octokitExamples("push").find((e) => Array.isArray(e.commits) && e.commits.length > 0);
  if (!example) throw new Error("no push example");
  return example;
}

/**
 * Builds delivery n: a push of two new commits to one of 20 repositories, signed. The body is
 * spliced from the template's JSON rather than serialised again for each request: the load
 * generator shares this machine's two cores with the server and PostgreSQL.
 */
export function pushBuilder(template: Payload, integration: { url: string; secret: string }) {
  const sha = (n: number) => n.toString(16).padStart(40, "0");
  const marked: Payload = { ...template, before: "@@before@@", after: "@@after@@" };
  marked.repository = { ...template.repository, full_name: "@@repository@@" };
  marked.commits = [1, 2].map((k) => ({ ...template.commits[0], id: `@@commit${k}@@`, timestamp: "@@timestamp@@" }));
  const parts = JSON.stringify(marked).split(/@@(\w+)@@/);
  return (n: number) => {
    const values: Record<string, string> = {
      before: sha(2 * n),
      after: sha(2 * n + 2),
      repository: `bench/repo-${n % 20}`,
      commit1: sha(2 * n + 1),
      commit2: sha(2 * n + 2),
      timestamp: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    };
    const body = parts.map((part, i) => (i % 2 === 1 ? values[part] : part)).join("");
    return {
      method: "POST",
      path: integration.url,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": `bench-${n}`,
        "x-hub-signature-256": githubSignature(integration.secret, body),
      },
      body,
    };
  };
}

/** More deliveries per second than any run so far (2,100): how many to build before the clock starts. */
const MOST_EXPECTED_RATE = 2500;

/**
 * The first `count` deliveries built and signed before the measured rounds, so that the load
 * generator spends its share of the cores sending them; any past those are built on demand.
 */
function builtAhead(build: (n: number) => Request, count: number): () => Request {
  const built: Array<Request | undefined> = Array.from({ length: count }, (_, n) => build(n));
  let n = 0;
  return () => {
    const request = built[n] ?? build(n);
    built[n++] = undefined;
    return request;
  };
}

export async function run(kinds = benchDatabases()) {
  const rows: Array<Record<string, string | number>> = [];
  const cpu: Array<Record<string, string>> = [];
  const template = pushTemplate();
  for (const kind of kinds) {
    const { server, close } = await benchServer(kind);
    try {
      const created = await fetch(`${server.url}/api/v1/integrations`, {
        method: "POST",
        headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ source: "github" }),
      });
      const integration = (await created.json()) as { url: string; secret: string };
      const duration = seconds(10);
      const push = pushBuilder(template, integration);
      const next = builtAhead(push, Math.round(MOST_EXPECTED_RATE * (2 + duration)));
      // (Its warm-up also takes the first delivery to each repository, which goes the general path and claims it.)
      const measured = await againstHealthz({ url: server.url, duration, name: "POST /webhooks/github (push)", next, serverPid: server.process.pid });
      const { raw, measured: deliveries, ratio, rounds } = measured;
      cpu.push(...cpuRows(kind, measured));
      const memory = serverMemory(server);
      const catchUp = await derivationCatchUp(server);
      const paced = await load({ name: `same, paced at ${PACED_RATE}/s`, url: server.url, connections: 32, duration, rate: PACED_RATE, next });
      const pacedMemory = serverMemory(server);
      const pacedCatchUp = await derivationCatchUp(server);
      for (const r of [raw, deliveries, paced]) {
        rows.push({
          database: kind,
          call: r.name,
          "req/s": fmt(r.requestsPerSecond, 0),
          "p50 ms": fmt(r.p50),
          "p99 ms": r === raw ? fmt(r.p99) : `${fmt(r.p99)} (target < ${TARGET_P99_MS}: ${r.p99 < TARGET_P99_MS ? "met" : "MISSED"})`,
          "errors+non2xx": r.errors + r.non2xx,
          "RSS MB (peak)": r === raw ? "" : rssCell(r === paced ? pacedMemory : memory),
          "derived s after": r === raw ? "" : fmt(r === paced ? pacedCatchUp : catchUp, 2),
          "of raw":
            r === raw
              ? "baseline"
              : r === paced
                ? "(paced)"
                : ratioCell(ratio, TARGET_RATIO, rounds),
        });
      }
    } finally {
      await close();
    }
  }
  printTable("Signed GitHub webhook deliveries, 32 concurrent senders", rows);
  // Why the ratio moves between runs: the two loads' CPU per request, and how much of the cores each left unused.
  printCpuTable(cpu);
  return rows;
}

if (isMain(import.meta.url)) await run();
