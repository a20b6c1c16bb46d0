import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { nodeBinary, repoRoot, startServer } from "../support/server.ts";

describe("starting Sluice as a real process", () => {
  test("with no configuration it runs on embedded PGlite and prints a generated admin token once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sluice-start-"));
    try {
      const first = await startServer({ SLUICE_DATA_DIR: dataDir, SLUICE_LOG_LEVEL: "info" });
      expect(await (await fetch(`${first.url}/healthz`)).json()).toEqual({ status: "ok", database: "pglite" });
      const token = first.output().match(/(slc_[\w-]{32})/)?.[1];
      expect(token).toBeDefined();
      expect((await fetch(`${first.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect(await first.stop()).toBe(0);
      // Printed once: a restart on the same data finds the token and prints nothing new.
      const second = await startServer({ SLUICE_DATA_DIR: dataDir });
      expect(second.output()).not.toMatch(/slc_/);
      expect((await fetch(`${second.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("a bad configuration fails fast, naming every bad variable", async () => {
    const result = spawnSync(nodeBinary, ["ingest/src/server.ts"], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", SLUICE_MAX_BODY_BYTES: "lots", DATABASE_URL: "mysql://x", SLUICE_LOG_LEVEL: "loud" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    for (const name of ["SLUICE_MAX_BODY_BYTES", "DATABASE_URL", "SLUICE_LOG_LEVEL"]) expect(result.stderr).toContain(name);
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;

describe.runIf(serverUrl)("replicas on one PostgreSQL", () => {
  test("two processes started at the same moment on an empty database both come up (the migration lock)", async () => {
    const database = await createEmptyPostgresDatabase(serverUrl as string);
    try {
      const env = { DATABASE_URL: database.url, SLUICE_ADMIN_TOKEN: "replica-admin-token-0123456789" };
      const [a, b] = await Promise.all([startServer(env), startServer(env)]);
      for (const replica of [a, b]) {
        expect(await (await fetch(`${replica.url}/healthz`)).json()).toEqual({ status: "ok", database: "postgres" });
      }
      const created = await fetch(`${a.url}/api/v1/teams`, {
        method: "POST",
        headers: { authorization: "Bearer replica-admin-token-0123456789", "content-type": "application/json" },
        body: JSON.stringify({ slug: "shared", name: "Shared" }),
      });
      expect(created.status).toBe(201);
      const read = await fetch(`${b.url}/api/v1/teams/shared`, { headers: { authorization: "Bearer replica-admin-token-0123456789" } });
      expect(read.status).toBe(200);
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    } finally {
      await database.drop();
    }
  });
});
