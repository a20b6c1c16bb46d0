import { formatNumber } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";
import { type Outbound, boundedGet } from "../outbound-request.ts";
import { originOf } from "./prometheus-headers.ts";

/** What asking Prometheus gave: values, or the reason there are none. Never a throw. */
export type PrometheusOutcome =
  | { kind: "values"; values: number[] }
  | { kind: "no_data" }
  | { kind: "timeout" }
  /** reason: an errno code (ECONNREFUSED), never an error's message, which can carry the URL. */
  | { kind: "unreachable"; reason: string }
  | { kind: "refused"; reason: string }
  /** Prometheus' own `error` string from a JSON error answer: the only text of an answer a message repeats. */
  | { kind: "error"; reason: string }
  /** Anything else that is not a usable answer, as a sentence Sluice wrote (never the answer's text). */
  | { kind: "bad_answer"; reason: string };

/** SPEC 7 v2: bigger answers are an error, whatever they hold. */
export const MAX_ANSWER_BYTES = 5 * 1024 * 1024;
export const MAX_SERIES = 10_000;

const MAX_REASON = 300;
const clip = (text: string) => {
  // One line: an error string with line breaks would read as more than one sentence in a GitHub comment.
  const line = text.replace(/\p{Cc}+/gu, " ");
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}...` : line;
};
const count = (n: number) => n.toLocaleString("en-US");

const RESULT_TYPES = new Set(["matrix", "vector", "scalar", "string"]);

function queryUrl(base: string, query: string): URL {
  return new URL(`${base.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`);
}

function sampleValue(sample: unknown): number | null {
  if (!Array.isArray(sample) || sample.length < 2 || typeof sample[1] !== "string") return null;
  return Number.parseFloat(sample[1]);
}

/** Reads a Prometheus HTTP API answer (https://prometheus.io/docs/prometheus/latest/querying/api/). */
function readAnswer(status: number, body: unknown): PrometheusOutcome {
  const answer = body as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (answer?.status === "error") {
    // errorType is one of Prometheus' few words (bad_data, timeout...); anything else there is not repeated.
    const kind = typeof answer.errorType === "string" && /^[a-z_]{1,40}$/.test(answer.errorType) ? `${answer.errorType}: ` : "";
    return { kind: "error", reason: clip(`${kind}${typeof answer.error === "string" ? answer.error : "no error text"}`) };
  }
  if (status < 200 || status >= 300) return { kind: "bad_answer", reason: `HTTP ${status} without a Prometheus error` };
  if (answer?.status !== "success" || !answer.data) return { kind: "bad_answer", reason: "something that is not a Prometheus query result" };
  const { resultType, result } = answer.data;
  if (resultType === "scalar") {
    const value = sampleValue(result);
    return value === null ? { kind: "bad_answer", reason: "a malformed scalar" } : { kind: "values", values: [value] };
  }
  if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) return { kind: "no_data" };
    if (result.length > MAX_SERIES) {
      return { kind: "bad_answer", reason: `${count(result.length)} series, more than the ${count(MAX_SERIES)} a rule reads` };
    }
    const values: number[] = [];
    for (const series of result) {
      const value = sampleValue((series as { value?: unknown })?.value);
      if (value === null) return { kind: "bad_answer", reason: "a malformed vector sample" };
      values.push(value);
    }
    return { kind: "values", values };
  }
  const named = typeof resultType === "string" && RESULT_TYPES.has(resultType) ? `a ${resultType} result` : "an unknown result type";
  return { kind: "bad_answer", reason: `${named}; the rule needs an instant vector or scalar` };
}

/**
 * Asks Prometheus's instant query endpoint with the rule's headers, through the outbound
 * checks of SPEC 7 v2. Timeouts, refused addresses and connections, HTTP errors and
 * unreadable answers all come back as an outcome, so one bad signal fails its rule with a
 * sentence instead of failing the request.
 */
export async function queryPrometheus(
  rule: Pick<RuleOf<"prometheus">, "url" | "query" | "timeout_ms" | "headers">,
  outbound: Outbound,
): Promise<PrometheusOutcome> {
  let url: URL;
  try {
    url = queryUrl(rule.url, rule.query);
  } catch {
    return { kind: "refused", reason: "its URL cannot be read" };
  }
  const fetched = await boundedGet(url, { headers: rule.headers ?? {}, timeoutMs: rule.timeout_ms, maxBytes: MAX_ANSWER_BYTES, outbound });
  switch (fetched.kind) {
    case "timeout":
    case "refused":
      return fetched;
    case "unreachable":
      return { kind: "unreachable", reason: fetched.code };
    case "redirect":
      return { kind: "bad_answer", reason: `a redirect (HTTP ${fetched.status}); redirects are not followed` };
    case "too_large":
      return { kind: "bad_answer", reason: `more than ${fetched.maxBytes / 1024 / 1024} MB, the most a rule reads` };
    case "answer":
      break;
  }
  let body: unknown;
  try {
    body = JSON.parse(fetched.body);
  } catch {
    return { kind: "bad_answer", reason: `HTTP ${fetched.status} with a body that is not JSON` };
  }
  return readAnswer(fetched.status, body);
}

/** What a message may say about where Prometheus is. */
const origin = (url: string) => originOf(url) ?? "the configured URL";

/** The extremes in one pass: spreading 300,000 values into Math.max overflows the stack. */
function extremes(values: number[]): { highest: number; lowest: number } {
  let highest = Number.NEGATIVE_INFINITY;
  let lowest = Number.POSITIVE_INFINITY;
  for (const value of values) {
    if (value > highest) highest = value;
    if (value < lowest) lowest = value;
  }
  return { highest, lowest };
}

export function prometheus(rule: RuleOf<"prometheus">, outcome: PrometheusOutcome): Verdict {
  const threshold = { min: rule.min ?? null, max: rule.max ?? null };
  const fail = (message: string): Verdict => ({ status: "fail", observed: null, threshold, message });
  switch (outcome.kind) {
    case "timeout":
      return fail(`Prometheus did not answer within ${rule.timeout_ms} ms, so the signal could not be checked.`);
    case "unreachable":
      return fail(`Prometheus at ${origin(rule.url)} could not be reached (${outcome.reason}), so the signal could not be checked.`);
    case "refused":
      return fail(`Prometheus at ${origin(rule.url)} was not asked: ${outcome.reason}, so the signal could not be checked.`);
    case "error":
      return fail(`Prometheus answered with an error (${outcome.reason}), so the signal could not be checked.`);
    case "bad_answer":
      return fail(`Prometheus at ${origin(rule.url)} answered with ${outcome.reason}, so the signal could not be checked.`);
    case "no_data":
      return fail("The Prometheus query returned no data, so the signal could not be checked.");
    case "values":
      break;
  }
  const values = outcome.values;
  if (values.some(Number.isNaN)) return fail("The Prometheus query returned NaN, so the signal could not be checked.");
  const { highest, lowest } = extremes(values);
  const series = values.length > 1 ? ` across ${values.length} series` : "";
  if (rule.max !== undefined && highest > rule.max) {
    return {
      status: "fail",
      observed: highest,
      threshold,
      message: `The Prometheus query returned ${formatNumber(highest)}${series}, above the maximum of ${formatNumber(rule.max)}.`,
    };
  }
  if (rule.min !== undefined && lowest < rule.min) {
    return {
      status: "fail",
      observed: lowest,
      threshold,
      message: `The Prometheus query returned ${formatNumber(lowest)}${series}, below the minimum of ${formatNumber(rule.min)}.`,
    };
  }
  const observed = rule.max !== undefined ? highest : lowest;
  const bounds = [
    rule.min !== undefined ? `at least ${formatNumber(rule.min)}` : null,
    rule.max !== undefined ? `at most ${formatNumber(rule.max)}` : null,
  ]
    .filter(Boolean)
    .join(" and ");
  return {
    status: "pass",
    observed,
    threshold,
    message: `The Prometheus query returned ${formatNumber(observed)}${series}, ${bounds} as required.`,
  };
}
