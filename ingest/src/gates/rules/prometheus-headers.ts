import type { Rule } from "../rule-schemas.ts";

/**
 * A prometheus rule's header values are secrets (SPEC 7 v2): stored, sent to that
 * Prometheus, never shown. Every answer that shows rules shows this instead, and a client
 * that sends it back (an edit in the dashboard, an exported gates file applied again)
 * means "keep what is stored", so round trips neither wipe nor leak a secret.
 */
export const REDACTED = "[redacted]";

type Headers = Record<string, string>;

const isPrometheusRule = (rule: unknown): rule is { type: "prometheus"; url: string; headers?: Headers } =>
  typeof rule === "object" && rule !== null && (rule as { type?: unknown }).type === "prometheus";

/** Rules as they may be shown: every header value of a prometheus rule replaced by "[redacted]". */
export function redactRules<T>(rules: readonly T[]): T[] {
  return rules.map((rule) => {
    if (!isPrometheusRule(rule) || !rule.headers || typeof rule.headers !== "object") return rule;
    const headers = Object.fromEntries(Object.keys(rule.headers).map((name) => [name, REDACTED]));
    return { ...rule, headers };
  });
}

/** A gate's inputs snapshot (evaluations keep the gate as it was) with its rules redacted. */
export function redactInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  const gate = inputs.gate as { rules?: unknown } | undefined;
  if (!gate || typeof gate !== "object" || !Array.isArray(gate.rules)) return inputs;
  return { ...inputs, gate: { ...gate, rules: redactRules(gate.rules) } };
}

/** The scheme, host and port of a URL (no credentials, path or query), or null when it is not one. */
export const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
};

export interface HeaderProblem {
  field: string;
  message: string;
}

/**
 * Puts the stored values back where `incoming` says "[redacted]". A value is only taken from
 * a stored prometheus rule at the same origin (scheme, host, port), so pointing a rule at
 * another server never carries a secret along; the rule at the same position is preferred
 * when several match. Without a match the "[redacted]" is a mistake, not a value.
 */
export function restoreRedacted(incoming: Rule[], stored: readonly unknown[]): { rules: Rule[]; problems: HeaderProblem[] } {
  const problems: HeaderProblem[] = [];
  const candidates = stored.flatMap((rule, index) =>
    isPrometheusRule(rule) && rule.headers ? [{ index, origin: originOf(rule.url), headers: rule.headers }] : [],
  );
  const rules = incoming.map((rule, index): Rule => {
    if (rule.type !== "prometheus" || !rule.headers) return rule;
    const origin = originOf(rule.url);
    const headers: Headers = {};
    for (const [name, value] of Object.entries(rule.headers)) {
      if (value !== REDACTED) {
        headers[name] = value;
        continue;
      }
      const lower = name.toLowerCase();
      const holding = candidates
        .filter((c) => c.origin !== null && c.origin === origin)
        .map((c) => ({ index: c.index, value: Object.entries(c.headers).find(([n]) => n.toLowerCase() === lower)?.[1] }))
        .filter((c): c is { index: number; value: string } => typeof c.value === "string" && c.value !== REDACTED);
      const found = holding.find((c) => c.index === index) ?? holding[0];
      if (found) headers[name] = found.value;
      else {
        problems.push({
          field: `rules.${index}.headers.${name}`,
          message: `is "${REDACTED}", which keeps a stored value, but no stored rule for ${origin ?? "this URL"} has this header`,
        });
      }
    }
    return { ...rule, headers };
  });
  return { rules, problems };
}
