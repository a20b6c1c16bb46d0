/**
 * The gate form: what each rule type asks for (SPEC 7), in the units people think in
 * (percent, hours), and the conversions between the form's fields and the API's gate.
 * The API validates; its messages are shown next to the field they name.
 */
import type { Gate, GateMode, GateRule, RuleType } from "./api-types.ts";
import { RULE_TYPES } from "./api-types.ts";

export type FieldKind = "percent" | "integer" | "number" | "duration" | "text" | "textarea" | "url" | "windows" | "recurring";

export interface FieldSpec {
  /** The API's field name within the rule. */
  name: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  /** Pre-filled for a new rule (the API's documented default). */
  initial?: string;
  hint?: string;
  /** For a field whose API value is not text: how the form's text becomes it, and back. */
  codec?: { toApi: (raw: string) => unknown; fromApi: (value: unknown) => string };
}

/**
 * Request headers as "Name: value" lines. Stored values come back as "[redacted]" (they are
 * secrets, SPEC 7 v2) and the API keeps the stored value for a header sent back that way,
 * so editing another field of the rule neither shows nor loses them.
 */
const headerLines: FieldSpec["codec"] = {
  toApi: (raw) =>
    Object.fromEntries(
      raw
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const colon = line.indexOf(":");
          return colon < 0 ? [line, ""] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        }),
    ),
  fromApi: (value) =>
    value && typeof value === "object"
      ? Object.entries(value as Record<string, unknown>)
          .map(([name, v]) => `${name}: ${String(v)}`)
          .join("\n")
      : "",
};

export const RULE_LABEL: Record<RuleType, string> = {
  change_failure_rate: "Change failure rate at most",
  open_incidents: "Open incidents at most",
  lead_time: "Lead time (median) at most",
  recovery_time: "Recovery time (median) at most",
  soak: "Soak in an earlier environment",
  freeze: "Freeze windows",
  prometheus: "Prometheus query",
  deployment_frequency: "Deployment frequency at least",
};

const windowDays: FieldSpec = { name: "window_days", label: "Over the last (days)", kind: "integer", initial: "30" };

export const RULE_FIELDS: Record<RuleType, FieldSpec[]> = {
  change_failure_rate: [
    { name: "max", label: "Highest rate", kind: "percent", required: true, initial: "15" },
    windowDays,
    {
      name: "min_deployments",
      label: "Fewest deployments to judge",
      kind: "integer",
      initial: "5",
      hint: "Below this many deployments in the window the rule passes, saying so.",
    },
  ],
  open_incidents: [
    { name: "max", label: "Most open incidents", kind: "integer", initial: "0" },
    {
      name: "min_severity",
      label: "Only incidents at least this severe",
      kind: "text",
      hint: "Optional, e.g. SEV2, P2, high. Incidents of unknown severity always count.",
    },
  ],
  lead_time: [{ name: "max_seconds", label: "Longest median lead time", kind: "duration", required: true, initial: "7:days" }, windowDays],
  recovery_time: [
    { name: "max_seconds", label: "Longest median recovery time", kind: "duration", required: true, initial: "1:days" },
    windowDays,
  ],
  deployment_frequency: [
    { name: "min_per_week", label: "Fewest deployments per week", kind: "number", required: true, initial: "1" },
    windowDays,
  ],
  soak: [
    { name: "environment", label: "Environment the sha must have run in", kind: "text", initial: "staging" },
    {
      name: "min_seconds",
      label: "For at least",
      kind: "duration",
      required: true,
      initial: "2:hours",
      hint: "With no incident on the service since. Shorter means pending, with the time still to wait.",
    },
  ],
  freeze: [
    {
      name: "windows",
      label: "One-off windows",
      kind: "windows",
      hint: "One per line: start and end as ISO date-times, e.g. 2026-12-24T00:00:00Z 2026-12-27T00:00:00Z",
    },
    {
      name: "recurring",
      label: "Recurring windows",
      kind: "recurring",
      hint: "One per line: cron; duration; time zone, e.g. 0 18 * * 5; 62h; Europe/Berlin (Friday 18:00 to Monday 08:00).",
    },
  ],
  prometheus: [
    { name: "url", label: "Prometheus URL", kind: "url", required: true, hint: "e.g. http://prometheus.monitoring:9090" },
    { name: "query", label: "PromQL query", kind: "textarea", required: true, hint: "Must return one number, e.g. an error ratio." },
    { name: "max", label: "Highest acceptable value", kind: "number", hint: "Give max, min or both." },
    { name: "min", label: "Lowest acceptable value", kind: "number" },
    {
      name: "headers",
      label: "Request headers",
      kind: "textarea",
      codec: headerLines,
      hint: "Optional, one per line, e.g. Authorization: Bearer <token>. Saved values show as [redacted]; leave them so to keep them.",
    },
  ],
};

export const DURATION_UNITS = [
  { unit: "minutes", seconds: 60 },
  { unit: "hours", seconds: 3600 },
  { unit: "days", seconds: 86_400 },
] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number]["unit"];

export interface RuleDraft {
  type: RuleType;
  onFail: "block" | "warn";
  /** Raw field text by API name; a duration is stored as "<amount>:<unit>". */
  values: Record<string, string>;
}

export interface GateDraft {
  slug: string;
  name: string;
  mode: GateMode;
  environments: string;
  teams: string;
  services: string;
  rules: RuleDraft[];
}

export const isRuleType = (value: unknown): value is RuleType =>
  typeof value === "string" && (RULE_TYPES as readonly string[]).includes(value);

export function newRule(type: RuleType = "change_failure_rate"): RuleDraft {
  const values: Record<string, string> = {};
  for (const field of RULE_FIELDS[type]) if (field.initial !== undefined) values[field.name] = field.initial;
  return { type, onFail: "block", values };
}

export function emptyDraft(): GateDraft {
  return { slug: "", name: "", mode: "enforce", environments: "production", teams: "", services: "", rules: [newRule()] };
}

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** A number when the text is one, else the text itself so the API names the problem. */
function numberOrText(text: string): number | string {
  const value = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(value) ? value : text;
}

/** "62h", "90m", "2d", "3600" (seconds) -> seconds; text it cannot read is returned as is. */
export function parseDurationText(text: string): number | string {
  const match = text.trim().match(/^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/i);
  if (!match) return text;
  const factor = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 }[(match[2] ?? "s").toLowerCase() as "s"] ?? 1;
  return Math.round(Number(match[1]) * factor);
}

export function durationFromSeconds(seconds: number): string {
  for (const { unit, seconds: size } of [...DURATION_UNITS].reverse()) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}:${unit}`;
  }
  return `${Math.round((seconds / 60) * 100) / 100}:minutes`;
}

function durationToSeconds(value: string): number | string {
  const [amount = "", unit = "hours"] = value.split(":");
  const size = DURATION_UNITS.find((u) => u.unit === unit)?.seconds ?? 3600;
  const n = Number(amount);
  return amount.trim() !== "" && Number.isFinite(n) ? Math.round(n * size) : amount;
}

function fieldToApi(field: FieldSpec, raw: string): unknown {
  if (field.codec) return field.codec.toApi(raw);
  switch (field.kind) {
    case "percent": {
      const n = numberOrText(raw);
      return typeof n === "number" ? Math.round(n * 100) / 10_000 : n;
    }
    case "integer":
    case "number":
      return numberOrText(raw);
    case "duration":
      return durationToSeconds(raw);
    case "windows":
      return raw
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const [start = "", end = ""] = line.split(/\s+/);
          return { start, end };
        });
    case "recurring":
      return raw
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
          const [cron = "", duration = "", timezone = ""] = line.split(";").map((p) => p.trim());
          return { cron, duration_seconds: parseDurationText(duration), ...(timezone ? { timezone } : {}) };
        });
    default:
      return raw.trim();
  }
}

/** The API's gate from the form's draft: empty optional fields are left out. */
export function draftToGate(draft: GateDraft): Gate {
  const teams = list(draft.teams);
  const services = list(draft.services);
  return {
    slug: draft.slug.trim(),
    name: draft.name.trim() || draft.slug.trim(),
    mode: draft.mode,
    applies_to: {
      environments: list(draft.environments),
      ...(teams.length ? { teams } : {}),
      ...(services.length ? { services } : {}),
    },
    rules: draft.rules.map((rule) => {
      const out: GateRule = { type: rule.type, on_fail: rule.onFail };
      for (const field of RULE_FIELDS[rule.type]) {
        const raw = rule.values[field.name] ?? "";
        const empty = field.kind === "duration" ? (raw.split(":")[0] ?? "").trim() === "" : raw.trim() === "";
        if (empty && field.kind !== "windows" && field.kind !== "recurring") continue;
        out[field.name] = fieldToApi(field, raw);
      }
      return out;
    }),
  };
}

function fieldFromApi(field: FieldSpec, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.codec) return field.codec.fromApi(value);
  switch (field.kind) {
    case "percent":
      return typeof value === "number" ? String(Math.round(value * 100 * 100) / 100) : String(value);
    case "duration":
      return typeof value === "number" ? durationFromSeconds(value) : String(value);
    case "windows":
      return Array.isArray(value)
        ? value.map((w: { start?: string; end?: string }) => `${w.start ?? ""} ${w.end ?? ""}`.trim()).join("\n")
        : "";
    case "recurring":
      return Array.isArray(value)
        ? value
            .map(
              (r: { cron?: string; duration_seconds?: number; timezone?: string }) =>
                `${r.cron ?? ""}; ${formatDurationText(r.duration_seconds ?? 0)}; ${r.timezone ?? "UTC"}`,
            )
            .join("\n")
        : "";
    default:
      return String(value);
  }
}

/** Seconds as the shortest exact "62h"-style text the recurring field reads back. */
export function formatDurationText(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export function gateToDraft(gate: Gate): GateDraft {
  return {
    slug: gate.slug,
    name: gate.name,
    mode: gate.mode,
    environments: (gate.applies_to.environments ?? []).join(", "),
    teams: (gate.applies_to.teams ?? []).join(", "),
    services: (gate.applies_to.services ?? []).join(", "),
    rules: gate.rules.filter((r) => isRuleType(r.type)).map((rule) => {
      const values: Record<string, string> = {};
      for (const field of RULE_FIELDS[rule.type]) values[field.name] = fieldFromApi(field, rule[field.name]);
      return { type: rule.type, onFail: rule.on_fail === "warn" ? "warn" : "block", values };
    }),
  };
}

/** Reads the posted form: fields named `rules.<i>.<field>` (durations add `.unit`). */
export function draftFromForm(form: FormData): GateDraft {
  const text = (name: string) => String(form.get(name) ?? "");
  const rules: RuleDraft[] = [];
  const count = Math.min(50, Number(text("rule_count")) || 0);
  for (let i = 0; i < count; i++) {
    const type = text(`rules.${i}.type`);
    if (!isRuleType(type)) continue;
    const values: Record<string, string> = {};
    for (const field of RULE_FIELDS[type]) {
      const raw = text(`rules.${i}.${field.name}`);
      values[field.name] = field.kind === "duration" ? `${raw}:${text(`rules.${i}.${field.name}.unit`) || "hours"}` : raw;
    }
    rules.push({ type, onFail: text(`rules.${i}.on_fail`) === "warn" ? "warn" : "block", values });
  }
  return {
    slug: text("slug").trim(),
    name: text("name"),
    mode: form.get("dry_run") ? "dry_run" : "enforce",
    environments: text("environments"),
    teams: text("teams"),
    services: text("services"),
    rules,
  };
}

/**
 * The API names fields by path within the posted gate ("rules.0.max",
 * "rules.1.windows.0.end"); the form shows each under the input it belongs to.
 * Returns messages by form field, plus those no field claims.
 */
export function placeErrors(
  errors: Record<string, string>,
  draft: GateDraft,
): { byField: Record<string, string>; general: string[] } {
  const byField: Record<string, string> = {};
  const general: string[] = [];
  for (const [path, message] of Object.entries(errors)) {
    const rule = path.match(/^rules\.(\d+)\.([a-z_]+)/);
    if (rule) {
      const index = Number(rule[1]);
      const type = draft.rules[index]?.type;
      const name = rule[2] ?? "";
      if (type && RULE_FIELDS[type].some((f) => f.name === name)) {
        const detail = path.slice(`rules.${index}.${name}`.length).replace(/^\./, "");
        byField[`rules.${index}.${name}`] ??= detail ? `${humanPath(detail)}: ${message}` : message;
        continue;
      }
      if (name === "on_fail" || name === "type") {
        byField[`rules.${index}.${name}`] ??= message;
        continue;
      }
    }
    const applies = path.match(/^applies_to\.(environments|teams|services)/);
    if (applies?.[1]) {
      byField[applies[1]] ??= message;
      continue;
    }
    if (path === "slug" || path === "name") {
      byField[path] ??= message;
      continue;
    }
    general.push(path === "(body)" ? message : `${path}: ${message}`);
  }
  return { byField, general };
}

/** "0.end" -> "line 1, end". */
function humanPath(detail: string): string {
  const [index, ...rest] = detail.split(".");
  const line = Number(index);
  return Number.isInteger(line) ? `line ${line + 1}${rest.length ? `, ${rest.join(".")}` : ""}` : detail;
}

/** One sentence per rule, for the gate list and detail pages. */
export function describeRule(rule: GateRule): string {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v));
  const dur = (v: unknown) => {
    const s = n(v);
    return Number.isFinite(s) ? formatDurationText(s).replace(/(\d)([a-z])/, "$1 $2") : "?";
  };
  const days = rule.window_days ? ` over ${rule.window_days} days` : "";
  switch (rule.type) {
    case "change_failure_rate":
      return `change failure rate at most ${Math.round(n(rule.max) * 1000) / 10} %${days} (judged from ${rule.min_deployments ?? 5} deployments)`;
    case "open_incidents":
      return `at most ${rule.max ?? 0} open incidents${rule.min_severity ? ` of severity ${rule.min_severity} or worse` : ""}`;
    case "lead_time":
      return `median lead time at most ${dur(rule.max_seconds)}${days}`;
    case "recovery_time":
      return `median recovery time at most ${dur(rule.max_seconds)}${days}`;
    case "deployment_frequency":
      return `at least ${rule.min_per_week} deployments per week${days}`;
    case "soak":
      return `ran in ${rule.environment ?? "staging"} for at least ${dur(rule.min_seconds)} without an incident`;
    case "freeze": {
      const windows = Array.isArray(rule.windows) ? rule.windows.length : 0;
      const recurring = Array.isArray(rule.recurring) ? rule.recurring.length : 0;
      return `not during ${windows} one-off and ${recurring} recurring freeze windows`;
    }
    case "prometheus":
      return `Prometheus query ${rule.max !== undefined ? `at most ${rule.max}` : ""}${rule.max !== undefined && rule.min !== undefined ? " and " : ""}${rule.min !== undefined ? `at least ${rule.min}` : ""}`;
    default:
      return String(rule.type);
  }
}
