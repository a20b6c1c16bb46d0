import { isIP } from "node:net";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? String(fallback) : value.trim()))
    .pipe(z.string().regex(/^-?\d+$/, "must be an integer").transform(Number))
    .pipe(z.number().int().min(min).max(max));

/** A host name, an IP address, or an IPv4/IPv6 CIDR block. */
function validAllowEntry(entry: string): boolean {
  const [address, bits, extra] = entry.split("/");
  if (extra !== undefined || !address) return false;
  if (bits === undefined) return isIP(address) !== 0 || /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(address);
  const version = isIP(address);
  const max = version === 4 ? 32 : version === 6 ? 128 : -1;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

const list = optionalString
  .transform((value) => (value === undefined ? [] : value.split(",").map((entry) => entry.trim().toLowerCase()).filter(Boolean)))
  .refine((entries) => entries.every(validAllowEntry), { message: "must be a comma-separated list of host names, IP addresses or CIDR blocks" });

const envSchema = z.object({
  PORT: integer(3000, 0, 65_535),
  HOST: optionalString.transform((value) => value ?? "0.0.0.0"),
  DATABASE_URL: optionalString.refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
    message: "must be a postgres:// or postgresql:// URL",
  }),
  SLUICE_DATA_DIR: optionalString.transform((value) => value ?? "./.sluice"),
  // At least 2: a rebuild (reprocess.ts) holds its lock on one connection while its pages use another.
  SLUICE_DB_POOL_SIZE: integer(10, 2, 1000),
  SLUICE_ADMIN_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 16, {
    message: "must be at least 16 characters",
  }),
  SLUICE_MAX_BODY_BYTES: integer(26_214_400, 1024, 1_073_741_824),
  SLUICE_LOG_LEVEL: optionalString.transform((value) => value ?? "info").pipe(z.enum(LOG_LEVELS)),
  SLUICE_METRICS_TOKEN: optionalString,
  SLUICE_SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  SLUICE_DELIVERY_RETENTION_DAYS: integer(90, 0, 36_500),
  SLUICE_EVALUATION_RETENTION_DAYS: integer(90, 0, 36_500),
  SLUICE_RATE_LIMIT_PER_MINUTE: integer(1200, 0, 10_000_000),
  SLUICE_WEBHOOK_RATE_LIMIT_PER_MINUTE: integer(6000, 0, 10_000_000),
  SLUICE_METRICS_CARDINALITY_LIMIT: integer(2000, 10, 1_000_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString,
  OTEL_SDK_DISABLED: optionalString,
  SLUICE_GITHUB_APP_ID: optionalString,
  SLUICE_GITHUB_APP_PRIVATE_KEY: optionalString,
  SLUICE_GITHUB_API_URL: optionalString
    .transform((value) => value ?? "https://api.github.com")
    .pipe(z.url({ message: "must be a URL" })),
  SLUICE_PROMETHEUS_ALLOW: list,
  SLUICE_AUTO_SERVICE_QUOTA: integer(500, 0, 1_000_000),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolSize: number;
  adminToken: string | undefined;
  maxBodyBytes: number;
  logLevel: LogLevel;
  metricsToken: string | undefined;
  shutdownTimeoutMs: number;
  /** Requests a minute per API token (0 = unlimited); admin tokens are never limited. */
  rateLimitPerMinute: number;
  /** Deliveries a minute per webhook integration (0 = unlimited). */
  webhookRateLimitPerMinute: number;
  /** Most series any one of Sluice's own metrics may hold. */
  metricsCardinalityLimit: number;
  /** Traces go to OTLP when the standard OTEL_EXPORTER_OTLP_* variables are set (SPEC 9). */
  tracing: boolean;
  /** Raw webhook bodies older than this are dropped (their mapped events stay); 0 = keep forever. */
  deliveryRetentionDays: number;
  /** Gate evaluations older than this are rolled up into daily counts (SPEC 7 v2); 0 = keep them all. */
  evaluationRetentionDays: number;
  github: { appId: string | undefined; privateKey: string | undefined; apiUrl: string };
  /**
   * Hosts and CIDR blocks `prometheus` rules may reach (SPEC 7 v2). Empty: any address but
   * link-local and cloud metadata ones; set: only these.
   */
  prometheusAllow: string[];
  /** Services one integration or one token may create by naming unknown repositories or services (0 = none). */
  autoServiceQuota: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parses the environment once, at start; every bad variable is named in one error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SLUICE_DATA_DIR,
    dbPoolSize: e.SLUICE_DB_POOL_SIZE,
    adminToken: e.SLUICE_ADMIN_TOKEN,
    maxBodyBytes: e.SLUICE_MAX_BODY_BYTES,
    logLevel: e.SLUICE_LOG_LEVEL,
    metricsToken: e.SLUICE_METRICS_TOKEN,
    shutdownTimeoutMs: e.SLUICE_SHUTDOWN_TIMEOUT_MS,
    deliveryRetentionDays: e.SLUICE_DELIVERY_RETENTION_DAYS,
    evaluationRetentionDays: e.SLUICE_EVALUATION_RETENTION_DAYS,
    metricsCardinalityLimit: e.SLUICE_METRICS_CARDINALITY_LIMIT,
    rateLimitPerMinute: e.SLUICE_RATE_LIMIT_PER_MINUTE,
    webhookRateLimitPerMinute: e.SLUICE_WEBHOOK_RATE_LIMIT_PER_MINUTE,
    tracing:
      Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && e.OTEL_SDK_DISABLED !== "true",
    github: {
      appId: e.SLUICE_GITHUB_APP_ID,
      // Private keys pasted into one-line env files carry literal "\n".
      privateKey: e.SLUICE_GITHUB_APP_PRIVATE_KEY?.replaceAll("\\n", "\n"),
      apiUrl: e.SLUICE_GITHUB_API_URL,
    },
    prometheusAllow: e.SLUICE_PROMETHEUS_ALLOW,
    autoServiceQuota: e.SLUICE_AUTO_SERVICE_QUOTA,
  };
}
