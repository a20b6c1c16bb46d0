import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuild } from "../../../web/scripts/ensure-build.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface RunningSluice {
  url: string;
  adminToken: string;
  /** Everything the process printed, for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Starts `node ingest/src/server.ts` as `npm start` does (dashboard built first), on a free
 * port with a fresh PGlite directory, and waits until /healthz answers.
 */
export async function startSluice(): Promise<RunningSluice> {
  if (!ensureBuild({ log: () => undefined })) throw new Error("the dashboard could not be built (npm run build -w @sluice/web)");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
  const adminToken = "e2e-admin-token-0123456789abcdef";
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "ingest/src/server.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      SLUICE_DATA_DIR: dataDir,
      SLUICE_ADMIN_TOKEN: adminToken,
      SLUICE_LOG_LEVEL: "warn",
      DATABASE_URL: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sluice exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`sluice did not answer /healthz within a minute:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    adminToken,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
