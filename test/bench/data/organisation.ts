// The history the metrics benchmark queries: a year of an organisation (issue 3: 200 services in
// 20 teams, about 1,000 production deployments a day, 5 commits each, 1 incident per 40
// deployments), loaded in bulk and then derived per service as reprocessing would.
import { type Db, inTransaction, rederiveService, rows } from "@sluice/db";
import { sql } from "drizzle-orm";

const DAY_MS = 86_400_000;
const BATCH = 20_000;

export interface Organisation {
  teams: number;
  services: number;
  /** Production deployments a day, organisation-wide. */
  perDay: number;
  days: number;
  end: Date;
}

export const organisation = (scale: number, end: Date): Organisation => ({
  teams: Math.max(1, Math.round(20 * scale)),
  services: Math.max(2, Math.round(200 * scale)),
  perDay: 1000 * scale,
  days: 365,
  end,
});

/** A small deterministic PRNG (mulberry32), so every run loads the same history. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const shaOf = (service: number, n: number) => `${service.toString(16).padStart(8, "0")}${n.toString(16).padStart(32, "0")}`;

interface Batches {
  changes: Array<Record<string, unknown>>;
  deployments: Array<Record<string, unknown>>;
  incidents: Array<Record<string, unknown>>;
}

export interface LoadReport {
  changes: number;
  deployments: number;
  incidents: number;
  insertMs: number;
  deriveMs: number;
}

async function flush(db: Db, batches: Batches, force: boolean, counts: LoadReport) {
  if (batches.changes.length >= BATCH || (force && batches.changes.length > 0)) {
    await db.execute(sql`insert into changes (repository_id, sha, committed_at, authored_at, parents, pr_number, pr_opened_at, pr_merged_at, pr_first_commit_at)
      select repository_id, sha, committed_at, committed_at, parents, pr_number, pr_opened_at, pr_merged_at, pr_first_commit_at
      from jsonb_to_recordset(${JSON.stringify(batches.changes)}::jsonb) as x(repository_id bigint, sha text, committed_at timestamptz,
        parents text[], pr_number int, pr_opened_at timestamptz, pr_merged_at timestamptz, pr_first_commit_at timestamptz)`);
    counts.changes += batches.changes.length;
    batches.changes = [];
  }
  if (batches.deployments.length >= BATCH / 4 || (force && batches.deployments.length > 0)) {
    await db.execute(sql`insert into deployments (service_id, environment, sha, status, started_at, finished_at, source, external_id,
        branch, rollback, hotfix, fixes_ref, explicit_commits, is_production)
      select service_id, 'production', sha, 'success', finished_at - interval '4 minutes', finished_at, 'bench', external_id,
        branch, false, hotfix, fixes_ref, explicit_commits, true
      from jsonb_to_recordset(${JSON.stringify(batches.deployments)}::jsonb) as x(service_id bigint, sha text, finished_at timestamptz,
        external_id text, branch text, hotfix boolean, fixes_ref jsonb, explicit_commits text[])`);
    counts.deployments += batches.deployments.length;
    batches.deployments = [];
  }
  if (force && batches.incidents.length > 0) {
    await db.execute(sql`insert into incidents (service_id, external_id, source, title, started_at, resolved_at)
      select service_id, external_id, 'bench', 'bench incident', started_at, resolved_at
      from jsonb_to_recordset(${JSON.stringify(batches.incidents)}::jsonb) as x(service_id bigint, external_id text,
        started_at timestamptz, resolved_at timestamptz)`);
    counts.incidents += batches.incidents.length;
    batches.incidents = [];
  }
}

/** Teams and services (one repository each); returns the service ids by team. */
async function createServices(db: Db, org: Organisation): Promise<Array<{ id: number; team: number; repository: number }>> {
  await db.execute(sql`insert into teams (slug, name) select 'team-' || n, 'Team ' || n from generate_series(1, ${org.teams}) n`);
  await db.execute(sql`insert into repositories (name, provider) select 'bench/svc-' || n, 'git' from generate_series(1, ${org.services}) n`);
  await db.execute(sql`insert into services (slug, name, team_id)
    select 'svc-' || n, 'Service ' || n, (select id from teams where slug = 'team-' || (1 + (n - 1) % ${org.teams}))
    from generate_series(1, ${org.services}) n`);
  await db.execute(sql`insert into service_repositories (service_id, repository_id, path_prefix)
    select s.id, r.id, '' from services s join repositories r on r.name = 'bench/' || s.slug`);
  return rows<{ id: number; team: number; repository: number }>(
    db,
    sql`select s.id::int as id, s.team_id::int as team, sr.repository_id::int as repository
        from services s join service_repositories sr on sr.service_id = s.id order by s.id`,
  );
}

/**
 * Generates and loads the history: per service a commit chain (five commits a deployment, the
 * last one merged through a pull request), deployments listing their commits, a few redeploys of
 * an older sha (rollbacks), hotfixes and fix-forwards, and an incident after one deployment in 40.
 */
export async function loadOrganisation(db: Db, org: Organisation, options: { concurrency: number }): Promise<LoadReport> {
  const report: LoadReport = { changes: 0, deployments: 0, incidents: 0, insertMs: 0, deriveMs: 0 };
  const started = performance.now();
  const services = await createServices(db, org);
  const next = random(42);
  const weights = services.map(() => 0.2 + 2.6 * next() ** 2);
  const total = weights.reduce((a, b) => a + b, 0);
  const start = org.end.getTime() - org.days * DAY_MS;
  const batches: Batches = { changes: [], deployments: [], incidents: [] };
  let deploymentNo = 0;

  for (const [index, service] of services.entries()) {
    const perDay = (org.perDay * (weights[index] as number)) / total;
    const shas: string[] = [];
    let commit = 0;
    for (let day = 0; day < org.days; day++) {
      const count = Math.floor(perDay) + (next() < perDay - Math.floor(perDay) ? 1 : 0);
      const times = Array.from({ length: count }, () => start + day * DAY_MS + (8 + 12 * next()) * 3_600_000).sort((a, b) => a - b);
      for (const finished of times) {
        deploymentNo++;
        const redeploy = shas.length > 2 && next() < 0.005;
        let sha: string;
        let explicit: string[];
        if (redeploy) {
          sha = shas[shas.length - 2] as string;
          explicit = [sha];
        } else {
          const size = 1 + Math.floor(next() * 9);
          explicit = [];
          const spread = (0.1 + 72 * next() ** 3) * 3_600_000;
          for (let k = 0; k < size; k++) {
            const committed = finished - spread * (1 - k / size) - 60_000;
            const own = shaOf(service.id, commit++);
            const merge = k === size - 1;
            batches.changes.push({
              repository_id: service.repository,
              sha: own,
              committed_at: new Date(committed).toISOString(),
              parents: commit > 1 ? [shaOf(service.id, commit - 2)] : [],
              ...(merge
                ? {
                    pr_number: commit,
                    pr_first_commit_at: new Date(finished - spread - 60_000).toISOString(),
                    pr_opened_at: new Date(committed - spread / 3).toISOString(),
                    pr_merged_at: new Date(committed).toISOString(),
                  }
                : {}),
            });
            explicit.push(own);
          }
          sha = explicit.at(-1) as string;
        }
        shas.push(sha);
        const hotfix = next() < 0.02;
        const fixes = !redeploy && shas.length > 1 && next() < 0.01 ? { sha: shas[shas.length - 2] } : null;
        batches.deployments.push({
          service_id: service.id,
          sha,
          finished_at: new Date(finished).toISOString(),
          external_id: `bench-${deploymentNo}`,
          branch: hotfix ? "hotfix/bench" : "main",
          hotfix,
          fixes_ref: fixes,
          explicit_commits: explicit,
        });
        if (deploymentNo % 40 === 0) {
          const incidentStart = finished + (5 + 55 * next()) * 60_000;
          batches.incidents.push({
            service_id: service.id,
            external_id: `inc-${deploymentNo}`,
            started_at: new Date(incidentStart).toISOString(),
            resolved_at: next() < 0.03 ? null : new Date(incidentStart + (10 + 360 * next() ** 2) * 60_000).toISOString(),
          });
        }
        await flush(db, batches, false, report);
      }
    }
  }
  await flush(db, batches, true, report);
  report.insertMs = performance.now() - started;

  const deriveStarted = performance.now();
  const queue = services.map((s) => s.id);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const serviceId = id;
        await inTransaction(db, (tx) => rederiveService(tx, serviceId));
      }
    }),
  );
  report.deriveMs = performance.now() - deriveStarted;
  return report;
}
