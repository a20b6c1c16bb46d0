import { z } from "@hono/zod-openapi";
import { parseInstant } from "./cron-calendar.ts";
import { compileCron } from "./cron-schedule.ts";
import { zoneFor } from "./cron-zone.ts";
import { SEVERITY_NAMES, severityRank } from "./severity.ts";

/**
 * The rule types of SPEC 7. Each schema fills in the documented defaults, so a stored
 * gate always shows the thresholds it is really evaluated with.
 */

const onFail = z
  .enum(["block", "warn"])
  .default("block")
  .openapi({ description: "block: a failure fails the gate; warn: it only warns (and a warn rule never holds a promotion)" });

const windowDays = z.number().int().min(1).max(365).default(30);
const positiveSeconds = z.number().int().min(1).max(31_536_000);

export const ChangeFailureRateRule = z
  .strictObject({
    type: z.literal("change_failure_rate"),
    on_fail: onFail,
    max: z.number().min(0).max(1).openapi({ description: "highest acceptable rate, 0..1", example: 0.15 }),
    window_days: windowDays,
    min_deployments: z.number().int().min(0).max(100_000).default(5),
  })
  .openapi("ChangeFailureRateRule");

export const OpenIncidentsRule = z
  .strictObject({
    type: z.literal("open_incidents"),
    on_fail: onFail,
    max: z.number().int().min(0).max(10_000).default(0),
    min_severity: z
      .string()
      .refine((value) => severityRank(value) !== null, {
        message: `must be a known severity: ${SEVERITY_NAMES.join(", ")}`,
      })
      .optional()
      .openapi({ description: "count only incidents at least this severe; unknown severities always count" }),
  })
  .openapi("OpenIncidentsRule");

export const LeadTimeRule = z
  .strictObject({
    type: z.literal("lead_time"),
    on_fail: onFail,
    max_seconds: positiveSeconds.openapi({ description: "highest acceptable median lead time" }),
    window_days: windowDays,
  })
  .openapi("LeadTimeRule");

export const RecoveryTimeRule = z
  .strictObject({
    type: z.literal("recovery_time"),
    on_fail: onFail,
    max_seconds: positiveSeconds.openapi({ description: "highest acceptable median failed deployment recovery time" }),
    window_days: windowDays,
  })
  .openapi("RecoveryTimeRule");

export const DeploymentFrequencyRule = z
  .strictObject({
    type: z.literal("deployment_frequency"),
    on_fail: onFail,
    min_per_week: z.number().min(0).max(100_000),
    window_days: windowDays,
  })
  .openapi("DeploymentFrequencyRule");

export const SoakRule = z
  .strictObject({
    type: z.literal("soak"),
    on_fail: onFail,
    environment: z.string().trim().min(1).max(200).default("staging"),
    min_seconds: positiveSeconds,
  })
  .openapi("SoakRule");

const isoDateTime = z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2026-12-24T00:00:00Z" });

/** cron-zone.ts builds (and keeps) the zone's offset table from the same Intl call; null when Intl does not know it. */
const validTimeZone = (zone: string): boolean => zoneFor(zone) !== null;

const FreezeWindow = z
  .strictObject({ start: isoDateTime, end: isoDateTime })
  .refine((w) => parseInstant(w.end) > parseInstant(w.start), { message: "must end after it starts", path: ["end"] });

const RecurringFreeze = z
  .strictObject({
    cron: z.string().trim().min(1).max(200).openapi({ example: "0 18 * * 5" }),
    duration_seconds: positiveSeconds.openapi({ description: "how long each window lasts, in real (elapsed) seconds" }),
    timezone: z
      .string()
      .default("UTC")
      .refine(validTimeZone, { message: 'must be an IANA time zone, e.g. "Europe/Berlin"' }),
  })
  .superRefine((value, ctx) => {
    const compiled = compileCron(value.cron);
    if (compiled instanceof Error) {
      ctx.addIssue({ code: "custom", path: ["cron"], message: `is not a cron expression: ${compiled.message}` });
    }
  });

export const FreezeRule = z
  .strictObject({
    type: z.literal("freeze"),
    on_fail: onFail,
    windows: z.array(FreezeWindow).max(500).default([]),
    recurring: z.array(RecurringFreeze).max(50).default([]),
  })
  .refine((rule) => rule.windows.length + rule.recurring.length > 0, {
    message: "needs at least one window or recurring window",
    path: ["windows"],
  })
  .openapi("FreezeRule");

/**
 * SPEC 7 v2: a cron expression that never fires ("0 0 30 2 *": no date matches it) is refused
 * when a gate is saved. The check sits on the gate's list of rules (GateSpec, GatePatch), not on
 * RecurringFreeze, so that a rule saved before it still loads (storedRules) and evaluates: such a
 * cron simply has no windows.
 */
function refuseCronsThatNeverFire(rules: Rule[], ctx: z.RefinementCtx): void {
  rules.forEach((rule, index) => {
    if (rule.type !== "freeze") return;
    rule.recurring.forEach((entry, position) => {
      const compiled = compileCron(entry.cron);
      if (!(compiled instanceof Error) && !compiled.fires) {
        ctx.addIssue({
          code: "custom",
          path: [index, "recurring", position, "cron"],
          message: "never fires: no date matches it (e.g. 30 February), so it would never freeze anything",
        });
      }
    });
  });
}

/** Headers the HTTP client owns: a rule setting them would confuse framing or the connection. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
  "expect",
]);

/** Header values are secrets (SPEC 7 v2): the API shows them as "[redacted]" and a PATCH sending that back keeps them. */
const prometheusHeaders = z
  .record(
    z
      .string()
      .min(1)
      .max(100)
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name")
      .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), { message: "is set by Sluice's HTTP client, not by a rule" }),
    // Visible ASCII, spaces and tabs: no line breaks to smuggle a second header in.
    z.string().max(8192).regex(/^[\t\x20-\x7e]*$/, "must be printable ASCII on one line"),
  )
  .refine((headers) => Object.keys(headers).length <= 20, { message: "must have at most 20 headers" })
  .refine((headers) => new Set(Object.keys(headers).map((name) => name.toLowerCase())).size === Object.keys(headers).length, {
    message: "must not name a header twice (names are case-insensitive)",
  })
  .optional()
  .openapi({
    description: 'sent with every query, e.g. {"Authorization": "Bearer ..."}; values are secrets, shown as "[redacted]"',
    example: { Authorization: "Bearer prometheus-reader-token" },
  });

function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    return false;
  }
}

export const PrometheusRule = z
  .strictObject({
    type: z.literal("prometheus"),
    on_fail: onFail,
    url: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL of a Prometheus server" })
      .max(2000)
      // The URL is shown to every reader of the gate; a password belongs in headers, which are not.
      .refine((url) => !hasCredentials(url), { message: "must not hold credentials (user:password@); send them in headers, e.g. Authorization" })
      .openapi({ example: "http://prometheus.monitoring:9090" }),
    query: z.string().trim().min(1).max(10_000),
    max: z.number().optional(),
    min: z.number().optional(),
    timeout_ms: z.number().int().min(50).max(60_000).default(5_000),
    headers: prometheusHeaders,
  })
  .refine((rule) => rule.max !== undefined || rule.min !== undefined, {
    message: "needs max, min or both",
    path: ["max"],
  })
  .refine((rule) => rule.max === undefined || rule.min === undefined || rule.min <= rule.max, {
    message: "must not be above max",
    path: ["min"],
  })
  .openapi("PrometheusRule");

export const Rule = z.discriminatedUnion("type", [
  ChangeFailureRateRule,
  OpenIncidentsRule,
  LeadTimeRule,
  RecoveryTimeRule,
  DeploymentFrequencyRule,
  SoakRule,
  FreezeRule,
  PrometheusRule,
]);

export type Rule = z.infer<typeof Rule>;
export type RuleType = Rule["type"];
export type RuleOf<T extends RuleType> = Extract<Rule, { type: T }>;

export const GATE_MODES = ["enforce", "dry_run"] as const;

export const AppliesTo = z
  .strictObject({
    teams: z.array(z.string().max(100)).max(500).optional(),
    services: z.array(z.string().max(100)).max(5000).optional(),
    environments: z.array(z.string().trim().min(1).max(200)).min(1).max(50).default(["production"]),
  })
  .openapi("GateAppliesTo");

const gateFields = {
  name: z.string().trim().min(1).max(200),
  applies_to: AppliesTo,
  mode: z.enum(GATE_MODES),
  rules: z.array(Rule).max(50).superRefine(refuseCronsThatNeverFire),
};

const gateSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 lowercase letters, digits, '.', '_' or '-'")
  .openapi({ example: "production-safety" });

/** A gate as created, or as written in a gates-as-code file. */
export const GateSpec = z
  .strictObject({
    slug: gateSlug,
    name: gateFields.name.optional(),
    applies_to: AppliesTo.default({ environments: ["production"] }),
    mode: gateFields.mode.default("enforce"),
    rules: gateFields.rules,
  })
  .openapi("CreateGate");

export type GateSpec = z.infer<typeof GateSpec>;

export const GatePatch = z
  .strictObject({
    name: gateFields.name,
    applies_to: AppliesTo,
    mode: gateFields.mode,
    rules: gateFields.rules,
  })
  .partial()
  .refine((value) => Object.keys(value).length > 0, "name at least one of name, applies_to, mode, rules")
  .openapi("UpdateGate");

/** Rules as stored were validated on the way in; parsing again only restores their types. */
export function storedRules(value: unknown[]): Rule[] {
  return z.array(Rule).parse(value);
}
