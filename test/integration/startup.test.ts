import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
import { describe, expect, test } from "vitest";
import { nodeBinary, repoRoot, startServer } from "../support/server.ts";
import { githubSignature } from "../support/webhooks.ts";

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

  test("through Node's HTTP server: a body over the limit is a 413 by length and by stream, x-request-id is echoed, a webhook is verified on its headers", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sluice-http-"));
    const admin = "http-admin-token-0123456789";
    const server = await startServer({ SLUICE_DATA_DIR: dataDir, SLUICE_ADMIN_TOKEN: admin, SLUICE_MAX_BODY_BYTES: "4096" });
    try {
      const headers = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
      const declared = await fetch(`${server.url}/api/v1/teams`, { method: "POST", headers, body: JSON.stringify({ slug: "x", name: "y".repeat(5000) }) });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toMatchObject({ error: { code: "payload_too_large" } });
      // Chunked (no Content-Length): counted as it streams. 16 kB against a limit of 4 kB.
      let chunks = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (chunks++ === 16) controller.close();
          else controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
        },
      });
      const chunked = await fetch(`${server.url}/api/v1/teams`, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(await chunked.json()).toMatchObject({ error: { code: "payload_too_large" } });
      // Within the limit, by length and by stream, the body arrives whole.
      const team = await fetch(`${server.url}/api/v1/teams`, { method: "POST", headers, body: JSON.stringify({ slug: "payments", name: "Payments" }) });
      expect(team.status).toBe(201);
      const small = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"slug": "search",'));
          controller.enqueue(new TextEncoder().encode(' "name": "Search"}'));
          controller.close();
        },
      });
      const streamed = await fetch(`${server.url}/api/v1/teams`, { method: "POST", headers, body: small, duplex: "half" } as RequestInit);
      expect(streamed.status).toBe(201);

      const given = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
      expect(given.headers.get("x-request-id")).toBe("abc-123");
      const generated = await fetch(`${server.url}/api/v1/nowhere`);
      expect(generated.status).toBe(404);
      expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

      const integration = (await (await fetch(`${server.url}/api/v1/integrations`, { method: "POST", headers, body: JSON.stringify({ source: "github" }) })).json()) as {
        url: string;
        secret: string;
      };
      const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
      const signature = githubSignature(integration.secret, body);
      const post = (sign: string, id: string) =>
        fetch(`${server.url}${integration.url}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": id, "x-hub-signature-256": sign },
          body,
        });
      expect((await post(signature.replace(/.$/, (c) => (c === "0" ? "1" : "0")), "forged")).status).toBe(401);
      const accepted = await post(signature, "ping-1");
      expect(accepted.status).toBe(202);
      expect(await accepted.json()).toMatchObject({ delivery_id: "ping-1", status: "ignored" });
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
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
