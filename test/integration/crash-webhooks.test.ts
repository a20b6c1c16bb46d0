import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { type RunningServer, startServer } from "../support/server.ts";

// Issue 18, item 1: "nothing acknowledged is ever lost", and nothing a sender re-sends is lost
// either. Webhook deliveries arrive from 8 senders; the process is killed with SIGKILL mid-burst,
// twice; after each restart every delivery is sent again, acknowledged or not, as a sender retries.
// In the end every event is applied exactly once and no delivery is left `received`.

const ADMIN = "crash-webhooks-admin-token-0123456789";
const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
const DELIVERIES = 300;

function issueOpened(n: number) {
  return JSON.stringify({
    action: "opened",
    issue: {
      id: 700_000 + n,
      number: n,
      title: `outage ${n}`,
      state: "open",
      created_at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
      closed_at: null,
      html_url: `https://github.com/octo/shop/issues/${n}`,
      labels: [{ name: "incident" }],
    },
    repository: { full_name: "octo/shop", html_url: "https://github.com/octo/shop" },
  });
}

async function deliver(server: RunningServer, hook: { url: string; secret: string }, n: number): Promise<number | null> {
  const body = issueOpened(n);
  try {
    const response = await fetch(`${server.url}${hook.url}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "issues",
        "x-github-delivery": `crash-${n}`,
        "x-hub-signature-256": `sha256=${createHmac("sha256", hook.secret).update(body).digest("hex")}`,
      },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null; // the connection died with the process
  }
}

/** Sends deliveries first..DELIVERIES from 8 senders; kills the process after `killAfterMs` unless null. */
async function burst(server: RunningServer, hook: { url: string; secret: string }, killAfterMs: number | null) {
  let next = 0;
  const statuses = new Map<number, number | null>();
  const sender = async () => {
    while (next < DELIVERIES) {
      const n = next++;
      statuses.set(n, await deliver(server, hook, n));
    }
  };
  const senders = Array.from({ length: 8 }, sender);
  if (killAfterMs !== null) {
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    await server.stop("SIGKILL");
  }
  await Promise.all(senders);
  return statuses;
}

async function crashAndResend(env: Record<string, string>) {
  let server = await startServer({ ...env, SLUICE_ADMIN_TOKEN: ADMIN });
  await fetch(`${server.url}/api/v1/services`, { method: "POST", headers, body: JSON.stringify({ slug: "shop", repositories: [{ name: "octo/shop" }] }) });
  const hook = (await (await fetch(`${server.url}/api/v1/integrations`, { method: "POST", headers, body: JSON.stringify({ source: "github" }) })).json()) as {
    url: string;
    secret: string;
  };
  for (const killAfterMs of [400, 700]) {
    await burst(server, hook, killAfterMs);
    server = await startServer({ ...env, SLUICE_ADMIN_TOKEN: ADMIN });
  }
  try {
    // The senders retry everything; each answer is a 2xx now.
    const retried = await burst(server, hook, null);
    expect([...retried.values()].filter((status) => status === null || status >= 300)).toEqual([]);
    const incidents = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page = (await (await fetch(`${server.url}/api/v1/incidents?service=shop&limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { headers })).json()) as {
        items: Array<{ external_id: string }>;
        next_cursor: string | null;
      };
      for (const item of page.items) incidents.set(item.external_id, (incidents.get(item.external_id) ?? 0) + 1);
      cursor = page.next_cursor;
    } while (cursor);
    expect(incidents.size).toBe(DELIVERIES);
    expect([...incidents.values()].every((count) => count === 1)).toBe(true);
    const received = (await (await fetch(`${server.url}/api/v1/deliveries?status=received&limit=1000`, { headers })).json()) as { items: unknown[] };
    expect(received.items).toEqual([]);
  } finally {
    await server.stop();
  }
}

describe("webhook deliveries survive SIGKILL mid-burst and the senders' retries", () => {
  test("embedded PGlite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-crash-webhooks-"));
    try {
      await crashAndResend({ SLUICE_DATA_DIR: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  test.runIf(process.env.TEST_DATABASE_URL)("PostgreSQL", async () => {
    const database = await createEmptyPostgresDatabase(process.env.TEST_DATABASE_URL as string);
    try {
      await crashAndResend({ DATABASE_URL: database.url });
    } finally {
      await database.drop();
    }
  }, 180_000);
});
