import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import type { TestApp } from "./app.ts";

export async function createIntegration(t: TestApp, source: string, extra: Record<string, unknown> = {}) {
  const response = await t.request("/api/v1/integrations", { method: "POST", json: { source, ...extra } });
  if (response.status !== 201) throw new Error(`integration: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; secret: string; url: string };
}

export const githubSignature = (secret: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

let deliveryCounter = 0;

/** Posts a GitHub delivery signed like GitHub signs it. */
export function postGithub(
  t: TestApp,
  integration: { url: string; secret: string },
  event: string,
  payload: unknown,
  options: { deliveryId?: string; signature?: string | null } = {},
) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": options.deliveryId ?? `delivery-${++deliveryCounter}-${Date.now()}`,
  };
  if (options.signature !== null) headers["x-hub-signature-256"] = options.signature ?? githubSignature(integration.secret, body);
  return t.app.request(integration.url, { method: "POST", headers, body });
}

interface WebhookDefinition {
  name: string;
  examples: unknown[];
}

const require = createRequire(import.meta.url);

/** Every published example for a GitHub event (@octokit/webhooks-examples), deep-copied. */
export function octokitExamples(event: string): Array<Record<string, unknown>> {
  const definitions = require("@octokit/webhooks-examples") as WebhookDefinition[];
  const examples = definitions.find((d) => d.name === event)?.examples ?? [];
  return examples.map((example) => structuredClone(example) as Record<string, unknown>);
}
