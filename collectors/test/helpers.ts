import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { CollectorInput, MapResult, NormalizedEvent } from "../src/index.ts";

/** A fixture's raw text: bodies are signed and parsed byte for byte as stored. */
export function fixture(path: string): string {
  return readFileSync(new URL(`./fixtures/${path}`, import.meta.url), "utf8");
}

export function input(body: string, headers: Record<string, string> = {}, extra: Partial<CollectorInput> = {}): CollectorInput {
  return { headers, body, secrets: ["s3cret"], ...extra };
}

export function hmacHex(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

/** The events of a processed result; fails the test on anything else. */
export function eventsOf(result: MapResult): NormalizedEvent[] {
  if (result.status !== "processed") throw new Error(`expected processed, got ignored: ${result.reason}`);
  return result.events;
}

/**
 * A parsed real payload that a test edits in place (deep paths, any value). Typing every vendor
 * payload only to flip one field would add nothing the assertions do not already check.
 */
// biome-ignore lint/suspicious/noExplicitAny: test payloads are edited freely, see above
export type Payload = any;

/** A JSON body derived from a real payload with some fields changed (for states no example shows). */
export function withChanges(body: string, change: (payload: Payload) => void): string {
  const payload = JSON.parse(body);
  change(payload);
  return JSON.stringify(payload);
}

interface WebhookDefinition {
  name: string;
  examples: unknown[];
}

const require = createRequire(import.meta.url);

/** Every example payload @octokit/webhooks-examples holds for a GitHub event. */
export function octokitExamples(event: string): unknown[] {
  const definitions = require("@octokit/webhooks-examples") as WebhookDefinition[];
  return definitions.find((definition) => definition.name === event)?.examples ?? [];
}
