import { formatNumber } from "../durations.ts";
import type { Verdict } from "../results.ts";
import type { RuleOf } from "../rule-schemas.ts";

/** What asking Prometheus gave: values, or the reason there are none. Never a throw. */
export type PrometheusOutcome =
  | { kind: "values"; values: number[] }
  | { kind: "no_data" }
  | { kind: "timeout" }
  | { kind: "unreachable"; reason: string }
  | { kind: "error"; reason: string };

const MAX_REASON = 300;
const clip = (text: string) => (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}...` : text);

function queryUrl(base: string, query: string): string {
  return `${base.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
}

function sampleValue(sample: unknown): number | null {
  if (!Array.isArray(sample) || sample.length < 2 || typeof sample[1] !== "string") return null;
  return Number.parseFloat(sample[1]);
}

/** Reads a Prometheus HTTP API answer (https://prometheus.io/docs/prometheus/latest/querying/api/). */
function readAnswer(status: number, body: unknown): PrometheusOutcome {
  const answer = body as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (answer?.status === "error") {
    const kind = typeof answer.errorType === "string" ? `${answer.errorType}: ` : "";
    return { kind: "error", reason: clip(`${kind}${String(answer.error ?? "unknown error")}`) };
  }
  if (status < 200 || status >= 300) return { kind: "error", reason: `HTTP ${status}` };
  if (answer?.status !== "success" || !answer.data) return { kind: "error", reason: "the answer is not a Prometheus query result" };
  const { resultType, result } = answer.data;
  if (resultType === "scalar") {
    const value = sampleValue(result);
    return value === null ? { kind: "error", reason: "a malformed scalar" } : { kind: "values", values: [value] };
  }
  if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) return { kind: "no_data" };
    const values = result.map((series) => sampleValue((series as { value?: unknown })?.value));
    if (values.some((v) => v === null)) return { kind: "error", reason: "a malformed vector sample" };
    return { kind: "values", values: values as number[] };
  }
  return { kind: "error", reason: `a ${String(resultType)} result; the rule needs an instant vector or scalar` };
}

/**
 * Asks Prometheus's instant query endpoint. Timeouts, refused connections, HTTP errors
 * and unreadable answers all come back as an outcome, so one bad signal fails its rule
 * with a sentence instead of failing the request.
 */
export async function queryPrometheus(
  rule: Pick<RuleOf<"prometheus">, "url" | "query" | "timeout_ms">,
  fetcher: typeof fetch = fetch,
): Promise<PrometheusOutcome> {
  const signal = AbortSignal.timeout(rule.timeout_ms);
  try {
    const response = await fetcher(queryUrl(rule.url, rule.query), {
      headers: { accept: "application/json" },
      signal,
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { kind: "error", reason: `HTTP ${response.status} with a body that is not JSON` };
    }
    return readAnswer(response.status, body);
  } catch (error) {
    if (signal.aborted) return { kind: "timeout" };
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const reason = typeof cause?.code === "string" ? cause.code : String(cause?.message ?? (error as Error).message);
    return { kind: "unreachable", reason: clip(reason) };
  }
}

export function prometheus(rule: RuleOf<"prometheus">, outcome: PrometheusOutcome): Verdict {
  const threshold = { min: rule.min ?? null, max: rule.max ?? null };
  const fail = (message: string): Verdict => ({ status: "fail", observed: null, threshold, message });
  switch (outcome.kind) {
    case "timeout":
      return fail(`Prometheus did not answer within ${rule.timeout_ms} ms, so the signal could not be checked.`);
    case "unreachable":
      return fail(`Prometheus at ${rule.url} could not be reached (${outcome.reason}), so the signal could not be checked.`);
    case "error":
      return fail(`Prometheus answered with an error (${outcome.reason}), so the signal could not be checked.`);
    case "no_data":
      return fail("The Prometheus query returned no data, so the signal could not be checked.");
    case "values":
      break;
  }
  const values = outcome.values;
  if (values.some(Number.isNaN)) return fail("The Prometheus query returned NaN, so the signal could not be checked.");
  const highest = Math.max(...values);
  const lowest = Math.min(...values);
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
