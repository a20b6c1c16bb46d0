import { existsSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { openDatabase } from "@sluice/db";
import { createApp } from "./app.ts";
import { ensureAdminToken } from "./bootstrap.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { handleDeploymentProtectionRule } from "./gates/github-app.ts";
import { startGateScheduler } from "./gates/scheduler.ts";
import { createLogger } from "./logger.ts";
import { createTelemetry } from "./telemetry.ts";
import { startDoraGauges } from "./dora-gauges.ts";
import { startDeriver } from "./deriver.ts";
import { startRetention } from "./webhooks/retention.ts";
import { processStrandedDeliveries } from "./webhooks/stranded.ts";

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
const stopTracing = config.tracing ? await startTracing() : async () => {};
const telemetry = createTelemetry({ cardinalityLimit: config.metricsCardinalityLimit });
const database = await openDatabase({
  url: config.databaseUrl,
  dataDir: config.dataDir,
  poolSize: config.dbPoolSize,
  onQuery: telemetry.dbQuery,
});
logger.info({ msg: "database ready", database: database.kind, ...(database.kind === "pglite" ? { data_dir: config.dataDir } : {}) });

const generated = await ensureAdminToken(database, config.adminToken);
if (generated) {
  // Printed once, outside the structured log: it is the one way in on a fresh install.
  process.stdout.write(
    `\n  No admin token was configured, so Sluice created one. It is shown only this once:\n\n    ${generated}\n\n  Keep it safe (it cannot be shown again), or set SLUICE_ADMIN_TOKEN.\n\n`,
  );
}

const gateDeps = { database, config, logger, clock: () => new Date(), telemetry };
const deriver = startDeriver({ database, logger });
// GitHub deployment protection rules are answered after the webhook is acknowledged (SPEC 7).
const app = createApp({
  ...gateDeps,
  derivation: deriver,
  onGateRequest: (request) => void handleDeploymentProtectionRule(gateDeps, request),
});
const stopGauges = startDoraGauges({ database, telemetry, clock: () => new Date(), logger });
const stopGateScheduler = startGateScheduler(gateDeps);
// Deliveries a crashed process stored but never applied (issue 18): applied now, beside serving.
void processStrandedDeliveries({
  database,
  logger,
  autoServiceQuota: config.autoServiceQuota,
  now: new Date(),
  onGateRequest: (request) => void handleDeploymentProtectionRule(gateDeps, request),
})
  .then((report) => {
    if (report.processed + report.failed > 0) logger.warn({ msg: "applied deliveries a previous process stored but did not apply", ...report });
    if (report.processed > 0) deriver.queued();
  })
  .catch((error: unknown) => logger.error({ msg: "applying stranded deliveries failed", err: error }));
const stopRetention = startRetention({ database, days: config.deliveryRetentionDays, evaluationDays: config.evaluationRetentionDays, clock: () => new Date(), logger });
const api = getRequestListener(app.fetch, { hostname: config.host });
const dashboard = await loadDashboard();
// One port (SPEC 2): the API's paths go to the app, every other path to the dashboard.
const server = createServer((req, res) => {
  // While stopping, every response closes its connection, so keep-alive clients move to
  // another replica right after their in-flight request instead of holding this one open.
  if (stopping) res.setHeader("connection", "close");
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const forApi = ["/api", "/webhooks", "/healthz", "/metrics"].some((p) => path === p || path.startsWith(`${p}/`));
  if (forApi || !dashboard) return void api(req, res);
  // adapter-node builds the page's origin from Host and this header (form posts are checked against it).
  req.headers["x-forwarded-proto"] ??= (req.socket as TLSSocket).encrypted ? "https" : "http";
  dashboard(req, res, () => void api(req, res));
});
// Longer than a load balancer's idle timeout (60 s on the common ones), so the balancer, not
// Sluice, closes idle connections: otherwise a request can race the close and be reset.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(config.port, config.host, () => {
  const info = server.address() as AddressInfo;
  logger.info({ msg: "listening", url: `http://${info.address === "0.0.0.0" ? "localhost" : info.address}:${info.port}` });
});

/** The SvelteKit dashboard's Node handler (web/build, made by `npm run build`), or null without a build. */
async function loadDashboard() {
  const handlerUrl = new URL("../../web/build/handler.js", import.meta.url);
  if (!existsSync(fileURLToPath(handlerUrl))) {
    logger.warn({ msg: "the dashboard is not built: / answers the API's JSON pointer; run `npm run build` to serve it" });
    return null;
  }
  process.env.PROTOCOL_HEADER ??= "x-forwarded-proto";
  type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  try {
    const { handler } = (await import(handlerUrl.href)) as { handler: Handler };
    return handler;
  } catch (error) {
    // A broken or half-written build must not take the API down with it.
    logger.error({ msg: "the dashboard could not be loaded: / answers the API's JSON pointer; run `npm run build`", err: error });
    return null;
  }
}

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
  stopRetention();
  stopGauges();
  await stopGateScheduler();
  // A round in progress finishes (its transaction commits) if it can within the bound; what
  // is still queued, or rolled back when the pool closes under it, waits in the database for
  // the next replica or start.
  await Promise.race([deriver.stop(), new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref())]);
  await database.close();
  await telemetry.shutdown();
  await stopTracing();
  logger.info({ msg: "stopped" });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

/**
 * Traces to OTLP (SPEC 9), configured by the standard OTEL_EXPORTER_OTLP_* variables. Loaded
 * only when enabled: the SDK is large. drizzle reports a span per query on its own.
 */
async function startTracing(): Promise<() => Promise<void>> {
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({ serviceName: "sluice" });
  sdk.start();
  return () => sdk.shutdown();
}
