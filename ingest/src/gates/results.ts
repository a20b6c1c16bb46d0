import type { RuleType } from "./rule-schemas.ts";

export type RuleStatus = "pass" | "warn" | "fail" | "pending";
export type Decision = RuleStatus;

export type Threshold = number | string | null | { min: number | null; max: number | null };

/** What one rule reports (SPEC 7): a status, what was seen, against what, and one sentence. */
export interface RuleResult {
  type: RuleType;
  status: RuleStatus;
  observed: number | string | null;
  threshold: Threshold;
  message: string;
  retry_after_seconds?: number;
}

/** A rule's verdict before its on_fail applies. */
export type Verdict = Omit<RuleResult, "type">;

/**
 * Applies on_fail. A warn rule never holds a promotion: its failure is a warning, and so
 * is its wait (an advisory freeze or soak warns instead of making the pipeline wait).
 */
export function applyOnFail(type: RuleType, onFail: "block" | "warn", verdict: Verdict): RuleResult {
  if (onFail === "warn" && (verdict.status === "fail" || verdict.status === "pending")) {
    const { retry_after_seconds: _ignored, ...rest } = verdict;
    return { type, ...rest, status: "warn" };
  }
  return { type, ...verdict };
}

/**
 * SPEC 7's precedence: fail if a blocking rule fails; else pending (retry after the
 * shortest wait); else warn if a warn rule failed; else pass. No rules = pass.
 */
export function decide(results: readonly RuleResult[]): { decision: Decision; retry_after_seconds: number | null } {
  if (results.some((r) => r.status === "fail")) return { decision: "fail", retry_after_seconds: null };
  const waits = results.filter((r) => r.status === "pending").map((r) => r.retry_after_seconds ?? 60);
  if (waits.length > 0) return { decision: "pending", retry_after_seconds: Math.max(1, Math.min(...waits)) };
  if (results.some((r) => r.status === "warn")) return { decision: "warn", retry_after_seconds: null };
  return { decision: "pass", retry_after_seconds: null };
}

export const allows = (decision: Decision) => decision === "pass" || decision === "warn";
