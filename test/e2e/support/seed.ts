/**
 * A deployment history posted through the public API, the way pipelines would: two teams,
 * three services, eight weeks of production deployments with their commits, incidents, a
 * rollback, a hotfix and staging deployments. Times are relative to `now` so the dashboard's
 * default window (the last 30 days) always holds data.
 */
export interface SeedOptions {
  baseUrl: string;
  token: string;
  now?: Date;
}

export interface SeedSummary {
  teams: string[];
  services: string[];
  deployments: number;
  incidents: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A stable fake sha from a label, so reruns upsert instead of duplicating. */
function sha(label: string): string {
  let h1 = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 40; round++) {
    for (const char of `${label}#${round}`) h1 = Math.imul(h1 ^ char.charCodeAt(0), 0x01000193) >>> 0;
    out += h1.toString(16).padStart(8, "0");
  }
  return out.slice(0, 40);
}

export async function seedHistory(options: SeedOptions): Promise<SeedSummary> {
  const now = options.now ?? new Date();
  const post = async (path: string, body: unknown, allowConflict = false) => {
    const response = await fetch(`${options.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok && !(allowConflict && response.status === 409)) {
      throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
    }
    return (await response.json()) as Record<string, unknown>;
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  await post("/api/v1/teams", { slug: "payments", name: "Payments" }, true);
  await post("/api/v1/teams", { slug: "platform", name: "Platform" }, true);
  const services = [
    { slug: "checkout", team: "payments", repo: "acme/checkout", every: 1, failEvery: 6 },
    { slug: "ledger", team: "payments", repo: "acme/ledger", every: 3, failEvery: 4 },
    { slug: "search", team: "platform", repo: "acme/search", every: 2, failEvery: 0 },
  ];
  for (const s of services) {
    const fields = { name: s.slug[0]?.toUpperCase() + s.slug.slice(1), team: s.team, repositories: [{ provider: "github", name: s.repo }] };
    const response = await fetch(`${options.baseUrl}/api/v1/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
      body: JSON.stringify({ slug: s.slug, ...fields }),
    });
    if (response.status === 409) {
      // Registered already (say, by following the first steps): give it its team and repository.
      const patched = await fetch(`${options.baseUrl}/api/v1/services/${s.slug}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
        body: JSON.stringify(fields),
      });
      if (!patched.ok) throw new Error(`PATCH service ${s.slug} answered ${patched.status}: ${await patched.text()}`);
    } else if (!response.ok) {
      throw new Error(`POST service ${s.slug} answered ${response.status}: ${await response.text()}`);
    }
  }

  let deployments = 0;
  let incidents = 0;
  const shasByService = new Map<string, string[]>();
  for (const s of services) {
    const shas: string[] = [];
    shasByService.set(s.slug, shas);
    let parent: string | undefined;
    let index = 0;
    for (let day = 56; day >= 1; day -= s.every) {
      index++;
      const finished = now.getTime() - day * DAY + (index % 5) * HOUR;
      const commits = Array.from({ length: 1 + (index % 3) }, (_, c) => {
        const commitSha = sha(`${s.slug}-${day}-${c}`);
        const commit = {
          sha: commitSha,
          committed_at: iso(finished - (2 + c * 5 + (index % 4) * 3) * HOUR),
          message: `${s.slug}: change ${index}.${c}`,
          parents: parent ? [parent] : [],
        };
        parent = commitSha;
        return commit;
      });
      const deployedSha = parent as string;
      shas.push(deployedSha);
      await post("/api/v1/deployments", {
        service: s.slug,
        environment: "staging",
        sha: deployedSha,
        started_at: iso(finished - 3 * HOUR),
        finished_at: iso(finished - 2 * HOUR),
        external_id: `${s.slug}-staging-${day}`,
      });
      const hotfix = s.slug === "checkout" && index % 9 === 0;
      const deployment = await post("/api/v1/deployments", {
        service: s.slug,
        environment: "production",
        sha: deployedSha,
        started_at: iso(finished - 10 * 60_000),
        finished_at: iso(finished),
        external_id: `${s.slug}-prod-${day}`,
        branch: hotfix ? `hotfix/${index}` : "main",
        url: `https://ci.example.com/${s.slug}/runs/${index}`,
        commits,
        ...(hotfix ? { hotfix: true } : {}),
      });
      deployments += 2;
      if (s.failEvery && index % s.failEvery === 0) {
        const started = finished + 30 * 60_000;
        const open = day <= 2;
        await post("/api/v1/incidents", {
          service: s.slug,
          external_id: `INC-${s.slug}-${day}`,
          title: `${s.slug} errors after deployment ${index}`,
          severity: index % 2 ? "SEV2" : "SEV3",
          started_at: iso(started),
          ...(open ? {} : { resolved_at: iso(started + (40 + index * 7) * 60_000) }),
          deployment_id: deployment.id,
        });
        incidents++;
      }
    }
  }
  // search rolls back to what it ran a week ago: the deployments since then failed.
  const searchShas = shasByService.get("search") ?? [];
  const rollbackTo = searchShas[searchShas.length - 4];
  if (rollbackTo) {
    await post("/api/v1/deployments", {
      service: "search",
      environment: "production",
      sha: rollbackTo,
      started_at: iso(now.getTime() - 13 * HOUR),
      finished_at: iso(now.getTime() - 12 * HOUR),
      external_id: "search-prod-rollback",
      rollback: true,
    });
    deployments++;
  }
  return { teams: ["payments", "platform"], services: services.map((s) => s.slug), deployments, incidents };
}
