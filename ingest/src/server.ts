import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { openDatabase } from "@sluice/db";
import { createApp } from "./app.ts";
import { ensureAdminToken } from "./bootstrap.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";

if (existsSync(".env")) process.loadEnvFile(".env");

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`sluice: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
const database = await openDatabase({
  url: config.databaseUrl,
  dataDir: config.dataDir,
  poolSize: config.dbPoolSize,
});
logger.info({ msg: "database ready", database: database.kind, ...(database.kind === "pglite" ? { data_dir: config.dataDir } : {}) });

const generated = await ensureAdminToken(database, config.adminToken);
if (generated) {
  // Printed once, outside the structured log: it is the one way in on a fresh install.
  process.stdout.write(
    `\n  No admin token was configured, so Sluice created one. It is shown only this once:\n\n    ${generated}\n\n  Keep it safe (it cannot be shown again), or set SLUICE_ADMIN_TOKEN.\n\n`,
  );
}

const app = createApp({ database, config, logger, clock: () => new Date() });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ msg: "listening", url: `http://${info.address === "0.0.0.0" ? "localhost" : info.address}:${info.port}` });
}) as Server;

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ msg: "shutting down", signal });
  // Stop accepting, let in-flight requests finish (bounded), then close the pool.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
  await Promise.race([closed, timeout]);
  server.closeAllConnections();
  await database.close();
  logger.info({ msg: "stopped" });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
