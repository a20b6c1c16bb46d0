import { createHash } from "node:crypto";
import type { Metrics } from "@sluice/db";
import type { TestApp } from "./app.ts";

export type MetricsView = Metrics & { scope: { team: string | null; service: string | null; environment: string | null } };

/** A stable 40-hex sha for a readable label ("c1", "fix"), so tests and docs name commits. */
export const sha = (label: string) => createHash("sha1").update(label).digest("hex");

export interface CommitSpec {
  label: string;
  at: string;
  parents?: string[];
  files?: string[];
  pr?: { number: number; opened_at: string; merged_at: string; first_commit_at?: string };
}

export interface DeploySpec {
  id: string;
  commit: string;
  at: string;
  environment?: string;
  status?: string;
  rollback?: boolean;
  hotfix?: boolean;
  branch?: string;
  fixes?: number | string;
  commits?: Array<{ label: string; at: string }>;
}

export interface IncidentSpec {
  id: string;
  started: string;
  resolved?: string | null;
  deployment_id?: number;
  commit?: string;
}

export interface DeploymentView {
  id: number;
  external_id: string;
  production: boolean;
  baseline: boolean;
  changes: number;
  failed: boolean;
  failure_reasons: string[];
  rolled_back_by: number | null;
  fixed_by: number | null;
  fixes: number | null;
  recovered_at: string | null;
  rework: boolean;
  rework_reasons: string[];
  lead_time: { median_seconds: number | null; max_seconds: number | null; counted: boolean };
}

async function expectOk(response: Response, what: string) {
  if (response.status >= 300) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Builds event histories through the public API, the way pipelines would post them. */
export function history(t: TestApp) {
  const deployment = async (id: number): Promise<DeploymentView> =>
    (await expectOk(await t.request(`/api/v1/deployments/${id}`), `deployment ${id}`)) as DeploymentView;
  return {
    async service(slug: string, options: { team?: string; repository?: string; pathPrefix?: string; attributionWindow?: number } = {}) {
      const json: Record<string, unknown> = {
        slug,
        repositories: [{ name: options.repository ?? `octo/${slug}`, path_prefix: options.pathPrefix ?? "" }],
      };
      if (options.team) json.team = options.team;
      if (options.attributionWindow !== undefined) json.attribution_window_seconds = options.attributionWindow;
      return expectOk(await t.request("/api/v1/services", { method: "POST", json }), `service ${slug}`);
    },

    /** Commits in order; each one's parent defaults to the one before it (as in a push). */
    async push(repository: string, commits: CommitSpec[], first?: string) {
      let previous = first;
      for (const commit of commits) {
        const parents = commit.parents ?? (previous ? [previous] : []);
        await expectOk(
          await t.request("/api/v1/changes", {
            method: "POST",
            json: {
              repository,
              sha: sha(commit.label),
              committed_at: commit.at,
              parents: parents.map(sha),
              ...(commit.files ? { files: commit.files } : {}),
              ...(commit.pr ? { pull_request: commit.pr } : {}),
            },
          }),
          `push ${commit.label}`,
        );
        previous = commit.label;
      }
    },

    async deploy(service: string, spec: DeploySpec): Promise<DeploymentView> {
      const json: Record<string, unknown> = {
        service,
        environment: spec.environment ?? "production",
        sha: sha(spec.commit),
        external_id: spec.id,
        status: spec.status ?? "success",
        finished_at: spec.at,
      };
      if (spec.rollback !== undefined) json.rollback = spec.rollback;
      if (spec.hotfix !== undefined) json.hotfix = spec.hotfix;
      if (spec.branch !== undefined) json.branch = spec.branch;
      if (spec.fixes !== undefined) json.fixes = typeof spec.fixes === "string" ? sha(spec.fixes) : spec.fixes;
      if (spec.commits) json.commits = spec.commits.map((c) => ({ sha: sha(c.label), committed_at: c.at }));
      const posted = (await expectOk(await t.request("/api/v1/deployments", { method: "POST", json }), `deploy ${spec.id}`)) as DeploymentView;
      // The answer to POST is the stored event; its derived fields come with the next read.
      return deployment(posted.id);
    },

    async incident(service: string, spec: IncidentSpec) {
      const json: Record<string, unknown> = { service, external_id: spec.id, started_at: spec.started };
      if (spec.resolved !== undefined) json.resolved_at = spec.resolved;
      if (spec.deployment_id !== undefined) json.deployment_id = spec.deployment_id;
      if (spec.commit !== undefined) json.sha = sha(spec.commit);
      await expectOk(await t.request("/api/v1/incidents", { method: "POST", json }), `incident ${spec.id}`);
      // Its attribution is derived by the next read.
      const listed = (await expectOk(
        await t.request(`/api/v1/incidents?${new URLSearchParams({ service, limit: "200" })}`),
        `incidents of ${service}`,
      )) as { items: Array<{ external_id: string; deployment: { id: number } | null }> };
      const found = listed.items.find((i) => i.external_id === spec.id);
      if (!found) throw new Error(`incident ${spec.id} not listed`);
      return found;
    },

    async markFailed(id: number) {
      return expectOk(await t.request(`/api/v1/deployments/${id}`, { method: "PATCH", json: { failed: true } }), `mark ${id}`);
    },

    deployment,

    async metrics(params: Record<string, string>, token?: string): Promise<MetricsView> {
      const response = await t.request(`/api/v1/metrics?${new URLSearchParams(params)}`, token ? { token } : {});
      return (await expectOk(response, `metrics ${JSON.stringify(params)}`)) as MetricsView;
    },
  };
}
