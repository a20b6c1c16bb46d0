import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { startServer } from "../support/server.ts";

const ADMIN = "crash-admin-token-0123456789";
const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

/**
 * SPEC 10: "a 2xx to an ingest call means the data is committed; a crash after it loses
 * nothing". Clients post as fast as they can; the process is killed with SIGKILL in the
 * middle; after a restart on the same data every acknowledged deployment must be there.
 */
async function crashAndCount(env: Record<string, string>) {
  const first = await startServer({ ...env, SLUICE_ADMIN_TOKEN: ADMIN });
  await fetch(`${first.url}/api/v1/services`, { method: "POST", headers, body: JSON.stringify({ slug: "checkout" }) });
  const acknowledged: string[] = [];
  let stop = false;
  let n = 0;
  const client = async () => {
    while (!stop) {
      const id = `run-${n++}`;
      try {
        const response = await fetch(`${first.url}/api/v1/deployments`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            service: "checkout",
            environment: "production",
            sha: (n + 1).toString(16).padStart(40, "0"),
            external_id: id,
            finished_at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
          }),
        });
        if (response.status === 201) acknowledged.push(id);
      } catch {
        // the connection died with the process: not acknowledged
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  first.process.kill("SIGKILL");
  await first.stop("SIGKILL");
  stop = true;
  await Promise.all(clients);
  expect(acknowledged.length).toBeGreaterThan(5);

  const second = await startServer({ ...env, SLUICE_ADMIN_TOKEN: ADMIN });
  try {
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${second.url}/api/v1/deployments?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { headers })
      ).json()) as { items: Array<{ external_id: string }>; next_cursor: string | null };
      for (const item of page.items) stored.add(item.external_id);
      cursor = page.next_cursor;
    } while (cursor);
    const missing = acknowledged.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    return { acknowledged: acknowledged.length, stored: stored.size };
  } finally {
    await second.stop();
  }
}

describe("a crash loses nothing acknowledged", () => {
  test("embedded PGlite, killed with SIGKILL mid-load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-crash-"));
    try {
      await crashAndCount({ SLUICE_DATA_DIR: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test.runIf(process.env.TEST_DATABASE_URL)("PostgreSQL, killed with SIGKILL mid-load", async () => {
    const database = await createEmptyPostgresDatabase(process.env.TEST_DATABASE_URL as string);
    try {
      await crashAndCount({ DATABASE_URL: database.url });
    } finally {
      await database.drop();
    }
  }, 120_000);
});
