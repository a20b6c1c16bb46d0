import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { type RunningServer, startServer } from "../support/server.ts";

const ADMIN = "rolling-admin-token-0123456789";
const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

describe.runIf(process.env.TEST_DATABASE_URL)("graceful shutdown", () => {
  test("a rolling restart of two replicas loses no acknowledged request and answers no 5xx", async () => {
    const database = await createEmptyPostgresDatabase(process.env.TEST_DATABASE_URL as string);
    const env = { DATABASE_URL: database.url, SLUICE_ADMIN_TOKEN: ADMIN };
    // Two replicas behind a "load balancer": clients pick one, and move to the other when a
    // replica refuses connections (it is restarting).
    const replicas: RunningServer[] = await Promise.all([startServer(env), startServer(env)]);
    try {
      await fetch(`${replicas[0]?.url}/api/v1/services`, { method: "POST", headers, body: JSON.stringify({ slug: "checkout" }) });
      const acknowledged: string[] = [];
      const serverErrors: number[] = [];
      let stop = false;
      let n = 0;
      const client = async (k: number) => {
        while (!stop) {
          const id = `run-${n++}`;
          const body = JSON.stringify({ service: "checkout", environment: "production", sha: (n + 1).toString(16).padStart(40, "0"), external_id: id });
          for (let attempt = 0; attempt < 4; attempt++) {
            const replica = replicas[(k + attempt) % 2] as RunningServer;
            try {
              const response = await fetch(`${replica.url}/api/v1/deployments`, { method: "POST", headers, body });
              if (response.status >= 500) serverErrors.push(response.status);
              if (response.status === 201 || response.status === 200) acknowledged.push(id);
              break;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
        }
      };
      const clients = Array.from({ length: 6 }, (_, k) => client(k));
      for (const index of [0, 1]) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const old = replicas[index] as RunningServer;
        expect(await old.stop("SIGTERM")).toBe(0);
        replicas[index] = await startServer(env);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      stop = true;
      await Promise.all(clients);

      expect(serverErrors).toEqual([]);
      expect(acknowledged.length).toBeGreaterThan(20);
      const stored = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = (await (
          await fetch(`${replicas[0]?.url}/api/v1/deployments?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { headers })
        ).json()) as { items: Array<{ external_id: string }>; next_cursor: string | null };
        for (const item of page.items) stored.add(item.external_id);
        cursor = page.next_cursor;
      } while (cursor);
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await database.drop();
    }
  }, 180_000);
});
