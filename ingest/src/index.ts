export { createApp } from "./app.ts";
export { ensureAdminToken } from "./bootstrap.ts";
export { type Config, ConfigError, loadConfig } from "./config.ts";
export type { AppDeps, Clock } from "./context.ts";
export { createLogger } from "./logger.ts";
