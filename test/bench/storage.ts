// Storage per delivery and per event (issue 18, item 10; docs/operations.md "Retention"): a
// realistic GitHub history posted as signed webhooks through app.request() into a fresh database,
// its relation sizes (pg_total_relation_size: heap, TOAST and indexes; after VACUUM FULL, so
// live rows only) measured with the bodies kept and again after delivery retention, beside the
// same run's raw bodies as received. Divided by the deliveries and by the events they carried,
// and scaled to a million events for docs/operations.md.
//
// The history, per production deployment of one of 20 repositories: 3 pushes of 2 commits,
// a deployment, its in_progress and success statuses, and 2 deliveries Sluice ignores (a
// check_suite and a workflow_job, which an organisation webhook sending everything delivers);
// every 20th deployment an incident issue opened and closed. All from @octokit/webhooks-examples.
//
// BENCH_STORAGE_DEPLOYMENTS (default 1,000: 8,100 deliveries) sizes the run; BENCH_DATABASES
// (postgres,pglite) picks the databases.
import { Writable } from "node:stream";
import { type Database, openDatabase, rows } from "@sluice/db";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { createApp, createLogger, loadConfig } from "@sluice/ingest";
import { sql } from "drizzle-orm";
import { applyRetention } from "../../ingest/src/webhooks/retention.ts";
import { githubSignature, octokitExamples } from "../support/webhooks.ts";
import { BENCH_ADMIN_TOKEN, benchDatabaseUrl, benchDatabases, fmt, isMain, printTable } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: vendor payloads edited by path
type Payload = Record<string, any>;
type Delivery = { event: string; body: string; at: Date };

const REPOSITORIES = 20;
const START = Date.UTC(2026, 0, 1);
const MINUTE_MS = 60_000;

function example(event: string, pick: (e: Payload) => boolean = () => true): Payload {
  const found = octokitExamples(event).find(pick);
  if (!found) throw new Error(`no ${event} example`);
  return found;
}

/** The deliveries of `deployments` production deployments, in the order they are sent. */
function history(deployments: number): Delivery[] {
  const templates = {
    push: example("push", (e) => Array.isArray(e.commits) && e.commits.length > 0),
    deployment: example("deployment"),
    status: example("deployment_status"),
    checkSuite: example("check_suite", (e) => e.action === "completed"),
    workflowJob: example("workflow_job", (e) => e.action === "completed"),
    issue: example("issues", (e) => e.action === "opened"),
  };
  const sha = (repo: number, n: number) => `${repo.toString(16).padStart(4, "0")}${n.toString(16).padStart(36, "0")}`;
  const heads = new Array<number>(REPOSITORIES).fill(0);
  const out: Delivery[] = [];
  for (let d = 0; d < deployments; d++) {
    const repo = d % REPOSITORIES;
    const repository = { ...templates.push.repository, full_name: `bench/repo-${repo}`, name: `repo-${repo}` };
    const minute = (k: number) => new Date(START + (d * 10 + k) * MINUTE_MS);
    const add = (event: string, payload: Payload, k: number) => out.push({ event, body: JSON.stringify(payload), at: minute(k) });
    for (let p = 0; p < 3; p++) {
      const before = heads[repo] ?? 0;
      const commits = [1, 2].map((c) => ({
        ...templates.push.commits[0],
        id: sha(repo, before + c),
        timestamp: minute(p).toISOString(),
        added: [],
        modified: ["src/app.ts"],
        removed: [],
      }));
      heads[repo] = before + 2;
      add("push", { ...templates.push, repository, ref: "refs/heads/main", before: sha(repo, before), after: sha(repo, before + 2), commits, head_commit: commits[1] }, p);
    }
    const deployed = { ...templates.deployment.deployment, id: 1000 + d, sha: sha(repo, heads[repo] ?? 0), ref: "main", environment: "production" };
    add("deployment", { ...templates.deployment, repository, deployment: { ...deployed, created_at: minute(4).toISOString(), updated_at: minute(4).toISOString() } }, 4);
    for (const [k, state] of [[5, "in_progress"], [7, "success"]] as const) {
      const at = minute(k).toISOString();
      add("deployment_status", { ...templates.status, repository, deployment: deployed, deployment_status: { ...templates.status.deployment_status, state, environment: "production", created_at: at, updated_at: at } }, k);
    }
    add("check_suite", { ...templates.checkSuite, repository }, 6);
    add("workflow_job", { ...templates.workflowJob, repository }, 6);
    if (d % 20 === 19) {
      const labels = [{ id: 1, name: "incident", color: "ff0000", default: false, description: null, node_id: "x", url: "https://example.invalid" }];
      const issue = { ...templates.issue.issue, id: 5000 + d, number: d, created_at: minute(8).toISOString(), labels };
      add("issues", { ...templates.issue, action: "opened", repository, issue: { ...issue, state: "open", closed_at: null } }, 8);
      add("issues", { ...templates.issue, action: "closed", repository, issue: { ...issue, state: "closed", closed_at: minute(9).toISOString() } }, 9);
    }
  }
  return out;
}

/** The tables that grow with the events, beside the deliveries (services and repositories do not). */
const DERIVED = ["changes", "deployment_changes", "deployments", "incidents"] as const;

/** Sizes as the tables stand, or after VACUUM FULL: live rows only, as autovacuum's reuse of freed space tends to. */
async function relationBytes(database: Database, compact = true): Promise<Record<string, number>> {
  if (compact) await database.db.execute(sql`vacuum full`);
  const [sizes] = await rows<Record<string, number>>(
    database.db,
    sql.raw(`select ${["deliveries", "delivery_days", ...DERIVED].map((t) => `pg_total_relation_size('${t}')::float8 as ${t}`).join(", ")}`),
  );
  return sizes ?? {};
}

async function measure(kind: "postgres" | "pglite", database: Database, deployments: number) {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  let now = new Date(START);
  const app = createApp({
    database,
    config: loadConfig({ SLUICE_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, SLUICE_WEBHOOK_RATE_LIMIT_PER_MINUTE: "0" }),
    logger: createLogger("error", silent),
    clock: () => now,
  });
  const authorization = `Bearer ${BENCH_ADMIN_TOKEN}`;
  const created = await app.request("/api/v1/integrations", {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ source: "github" }),
  });
  const integration = (await created.json()) as { url: string; secret: string };
  const deliveries = history(deployments);
  const started = performance.now();
  for (const [n, delivery] of deliveries.entries()) {
    now = delivery.at;
    const response = await app.request(integration.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": delivery.event,
        "x-github-delivery": `storage-${n}`,
        "x-hub-signature-256": githubSignature(integration.secret, delivery.body),
      },
      body: delivery.body,
    });
    if (response.status !== 202) throw new Error(`${delivery.event}: ${response.status} ${await response.text()}`);
  }
  const postedSeconds = (performance.now() - started) / 1000;
  // A read derives whatever is still queued: deployment_changes, failures, recoveries.
  const read = await app.request("/api/v1/deployments?limit=1", { headers: { authorization } });
  if (read.status !== 200) throw new Error(`deployments: ${read.status}`);

  const [counts] = await rows<{ deliveries: number; ignored: number; events: number; raw: number; stored: number }>(
    database.db,
    sql`select count(*)::int as deliveries, (count(*) filter (where status = 'ignored'))::int as ignored,
               coalesce(sum(jsonb_array_length(events)) filter (where status = 'processed'), 0)::int as events,
               sum(octet_length(body))::float8 as raw, sum(pg_column_size(body))::float8 as stored
        from deliveries`,
  );
  if (!counts) throw new Error("no counts");
  const written = await relationBytes(database, false);
  const before = await relationBytes(database);
  const retentionStarted = performance.now();
  const acted = await applyRetention({ database, days: 90, now: new Date(START + 365 * 24 * 60 * MINUTE_MS) });
  const retentionSeconds = (performance.now() - retentionStarted) / 1000;
  const idleStarted = performance.now();
  await applyRetention({ database, days: 90, now: new Date(START + 365 * 24 * 60 * MINUTE_MS) });
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  const after = await relationBytes(database);

  const derived = (sizes: Record<string, number>) => DERIVED.reduce((sum, t) => sum + (sizes[t] ?? 0), 0);
  const row = (what: string, bytes: number) => ({
    database: kind,
    what,
    MB: fmt(bytes / 1e6, 2),
    "bytes/delivery": fmt(bytes / counts.deliveries, 0),
    "bytes/event": fmt(bytes / counts.events, 0),
    "GB per million events": fmt((bytes / counts.events) * 1e6 / 1e9, 2),
  });
  console.log(
    `${kind}: ${counts.deliveries} deliveries (${counts.ignored} ignored) carrying ${counts.events} events, posted in ${fmt(postedSeconds)} s; ` +
      `retention acted on ${acted} in ${fmt(retentionSeconds, 2)} s, a run with nothing to do took ${fmt(idleSeconds * 1000, 0)} ms`,
  );
  return [
    row("baseline: raw bodies as received", counts.raw),
    row("  the same bodies as stored (compressed)", counts.stored),
    row("deliveries, bodies kept, as written", written.deliveries ?? 0),
    row("deliveries, bodies kept", before.deliveries ?? 0),
    row("deliveries after retention", (after.deliveries ?? 0) + (after.delivery_days ?? 0)),
    ...DERIVED.map((t) => row(`  ${t}`, after[t] ?? 0)),
    row("rows from the events (the four above)", derived(after)),
    row("total, bodies kept", (before.deliveries ?? 0) + derived(before)),
    row("total after retention", (after.deliveries ?? 0) + (after.delivery_days ?? 0) + derived(after)),
  ];
}

export async function run(kinds = benchDatabases()) {
  const deployments = Number(process.env.BENCH_STORAGE_DEPLOYMENTS ?? 1000);
  const table: Array<Record<string, string>> = [];
  for (const kind of kinds) {
    let database: Database;
    let drop = async () => {};
    if (kind === "postgres") {
      const created = await createEmptyPostgresDatabase(benchDatabaseUrl());
      database = await openDatabase({ url: created.url, poolSize: 4 });
      drop = created.drop;
    } else {
      database = await openDatabase({ dataDir: "memory://" });
    }
    try {
      table.push(...(await measure(kind, database, deployments)));
    } finally {
      await database.close();
      await drop();
    }
  }
  printTable(`Storage of ${deployments} deployments' GitHub deliveries (relation sizes after VACUUM FULL but the "as written" row)`, table);
  return table;
}

if (isMain(import.meta.url)) await run();
