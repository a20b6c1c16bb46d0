import { createHash } from "node:crypto";
import type { TestApp } from "../support/app.ts";

/**
 * A response body, read loosely: the assertions on it are what check its shape.
 */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions that read them
export type Json = any;
export const read = async (response: Response | Promise<Response>): Promise<Json> => (await response).json();

/** A deterministic 40-hex sha per label, so tests read "sha('v1')" instead of hex noise. */
export const sha = (label: string) => createHash("sha1").update(label).digest("hex");

async function expectStatus(response: Response, statuses: number[], what: string) {
  if (!statuses.includes(response.status)) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

export async function createService(t: TestApp, slug: string, team?: string) {
  if (team) {
    const teamResponse = await t.request("/api/v1/teams", { method: "POST", json: { slug: team, name: team } });
    await expectStatus(teamResponse, [201, 409], "team");
  }
  await expectStatus(
    await t.request("/api/v1/services", { method: "POST", json: { slug, ...(team ? { team } : {}) } }),
    [201],
    "service",
  );
}

export async function deploy(
  t: TestApp,
  input: { service: string; environment?: string; sha: string; status?: string; started_at?: string; finished_at?: string },
) {
  const response = await t.request("/api/v1/deployments", {
    method: "POST",
    json: { environment: "production", ...input },
  });
  await expectStatus(response, [200, 201], "deployment");
  return (await response.json()) as { id: number };
}

export async function openIncident(
  t: TestApp,
  input: { service: string; external_id: string; started_at: string; resolved_at?: string; severity?: string; title?: string },
) {
  await expectStatus(await t.request("/api/v1/incidents", { method: "POST", json: input }), [200, 201], "incident");
}

export async function createGate(t: TestApp, spec: Record<string, unknown>) {
  await expectStatus(await t.request("/api/v1/gates", { method: "POST", json: spec }), [201], "gate");
}

export interface EvaluationBody {
  evaluation_id: number;
  gate: string;
  service: string;
  environment: string;
  sha: string | null;
  decision: "pass" | "warn" | "fail" | "pending";
  allow: boolean;
  enforced: boolean;
  rules: Array<{
    type: string;
    status: string;
    observed: unknown;
    threshold: unknown;
    message: string;
    retry_after_seconds?: number;
  }>;
  retry_after_seconds: number | null;
  evaluated_at: string;
  override: { id: number; reason: string; sha: string | null; expires_at: string; created_by: string } | null;
}

export async function evaluate(t: TestApp, gate: string, body: Record<string, unknown>, token?: string) {
  const response = await t.request(`/api/v1/gates/${gate}/evaluate`, { method: "POST", json: body, ...(token ? { token } : {}) });
  await expectStatus(response, [200], "evaluate");
  return (await response.json()) as EvaluationBody;
}
