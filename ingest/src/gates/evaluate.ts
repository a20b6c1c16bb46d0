import { createHash } from "node:crypto";
import { type Executor, gateEvaluations, type gates, settleDerivation } from "@sluice/db";
import type { AppDeps } from "../context.ts";
import { loadDora } from "./dora-source.ts";
import { loadOpenIncidents, loadSoak } from "./observe.ts";
import { findOverride, type OverrideView } from "./overrides.ts";
import { type Decision, type RuleResult, type Verdict, allows, applyOnFail, decide } from "./results.ts";
import { type Rule, storedRules } from "./rule-schemas.ts";
import { type DoraObservation, changeFailureRate, deploymentFrequency, leadTime, recoveryTime } from "./rules/dora.ts";
import { freeze } from "./rules/freeze.ts";
import { type OpenIncident, openIncidents } from "./rules/incidents.ts";
import { prometheus, queryPrometheus } from "./rules/prometheus.ts";
import { redactRules } from "./rules/prometheus-headers.ts";
import { soak } from "./rules/soak.ts";

export type GateRow = typeof gates.$inferSelect;

export interface GateTarget {
  gate: GateRow;
  service: { id: number; slug: string };
  environment: string;
  sha: string | null;
}

export interface Caller {
  name: string;
  tokenId: number | null;
}

/** The evaluation as SPEC 7 answers it, plus the override that decided it, if any. */
export interface EvaluationView {
  evaluation_id: number;
  gate: string;
  service: string;
  environment: string;
  sha: string | null;
  decision: Decision;
  allow: boolean;
  enforced: boolean;
  rules: RuleResult[];
  retry_after_seconds: number | null;
  evaluated_at: string;
  override: OverrideView | null;
}

const DAY_MS = 86_400_000;

/**
 * A gate version's rules, parsed, and the copy of them each evaluation records. A gate at its
 * limits (50 rules of 500 windows) is 2 MB of JSON: parsing it again and storing it whole with
 * every evaluation cost tens of milliseconds of CPU (SPEC 7 v2: one evaluation under 50 ms),
 * and listing evaluations returned it once per row. Above SNAPSHOT_BYTES the evaluation records
 * the version (updated_at) and a digest of the rules instead of the rules.
 */
interface GateVersion {
  rules: Rule[];
  snapshot: unknown;
}

/** Kept per gate id and updated_at, per database handle; every edit moves updated_at forward (routes/gates.ts). */
const versions = new WeakMap<object, Map<string, GateVersion>>();
const VERSIONS_KEPT = 256;
const SNAPSHOT_BYTES = 64 * 1024;

function gateVersion(db: Executor, gate: GateRow): GateVersion {
  let cache = versions.get(db);
  if (!cache) {
    cache = new Map();
    versions.set(db, cache);
  }
  const key = `${gate.id}@${gate.updatedAt.getTime()}`;
  let version = cache.get(key);
  if (!version) {
    const rules = storedRules(gate.rules);
    // Header values are secrets (SPEC 7 v2): the audit trail records that there were some, not what.
    const redacted = redactRules(gate.rules);
    const text = JSON.stringify(redacted);
    const snapshot =
      text.length <= SNAPSHOT_BYTES
        ? redacted
        : { omitted: `${rules.length} rules, ${text.length} bytes`, sha256: createHash("sha256").update(text).digest("hex") };
    version = { rules, snapshot };
    if (cache.size >= VERSIONS_KEPT) cache.delete(cache.keys().next().value as string);
    cache.set(key, version);
  }
  return version;
}

/** Loads what each rule needs and judges it; shared loads (metrics per window, open incidents) run once. */
export async function evaluateRules(
  deps: Pick<AppDeps, "logger" | "config">,
  db: Executor,
  target: GateTarget,
  now: Date,
): Promise<RuleResult[]> {
  const { rules } = gateVersion(db, target.gate);
  const metrics = new Map<number, Promise<DoraObservation>>();
  const dora = (windowDays: number) => {
    let loading = metrics.get(windowDays);
    if (!loading) {
      loading = loadDora(db, { serviceId: target.service.id, from: new Date(now.getTime() - windowDays * DAY_MS), to: now });
      metrics.set(windowDays, loading);
    }
    return loading;
  };
  let incidents: Promise<OpenIncident[]> | undefined;

  const judge = async (rule: Rule): Promise<Verdict> => {
    switch (rule.type) {
      case "change_failure_rate":
        return changeFailureRate(rule, await dora(rule.window_days));
      case "lead_time":
        return leadTime(rule, await dora(rule.window_days));
      case "recovery_time":
        return recoveryTime(rule, await dora(rule.window_days));
      case "deployment_frequency":
        return deploymentFrequency(rule, await dora(rule.window_days));
      case "open_incidents":
        incidents ??= loadOpenIncidents(db, target.service.id, now);
        return openIncidents(rule, target.service.slug, await incidents);
      case "soak": {
        const observed = target.sha
          ? await loadSoak(db, { serviceId: target.service.id, environment: rule.environment, sha: target.sha, now })
          : { deployedAt: null, deploying: false, replaced: null, incident: null };
        return soak(rule, target.sha, observed, now);
      }
      case "freeze":
        return freeze(rule, now);
      case "prometheus":
        return prometheus(rule, await queryPrometheus(rule, { allow: deps.config.prometheusAllow }));
    }
  };

  return Promise.all(
    rules.map(async (rule) => {
      try {
        return applyOnFail(rule.type, rule.on_fail, await judge(rule));
      } catch (error) {
        // One rule's internal failure fails that rule with a sentence; the evaluation still answers.
        deps.logger.error({ msg: "gate rule could not be evaluated", gate: target.gate.slug, rule: rule.type, err: error });
        return applyOnFail(rule.type, rule.on_fail, {
          status: "fail",
          observed: null,
          threshold: null,
          message: `The ${rule.type.replaceAll("_", " ")} rule could not be evaluated because of an internal error.`,
        });
      }
    }),
  );
}

/**
 * Evaluates a gate for a service, applies dry run and overrides (SPEC 7), and stores the
 * evaluation with its inputs and caller, so every answer Sluice gave can be audited.
 */
export async function evaluateGate(
  deps: Pick<AppDeps, "database" | "logger" | "clock" | "telemetry" | "config">,
  input: { target: GateTarget; caller: Caller; inputs: Record<string, unknown> },
): Promise<EvaluationView> {
  const { db } = deps.database;
  const { target } = input;
  const now = deps.clock();
  // A gate decides on every event of its service acknowledged before it was asked (docs/operations.md "Derivation").
  await settleDerivation(db, [target.service.id]);
  // The override is looked up alongside the rules: an overridden evaluation still records them.
  const [results, override] = await Promise.all([
    evaluateRules(deps, db, target, now),
    findOverride(db, { gateId: target.gate.id, serviceId: target.service.id, sha: target.sha, now }),
  ]);
  const judged = decide(results);
  const decision: Decision = override ? "pass" : judged.decision;
  const retryAfter = decision === "pending" ? judged.retry_after_seconds : null;
  const enforced = target.gate.mode === "enforce";
  const allow = !enforced || allows(decision);
  const [row] = await db
    .insert(gateEvaluations)
    .values({
      gateId: target.gate.id,
      serviceId: target.service.id,
      environment: target.environment,
      sha: target.sha,
      decision,
      allow,
      enforced,
      rules: results,
      inputs: {
        ...input.inputs,
        service: target.service.slug,
        environment: target.environment,
        sha: target.sha,
        // The gate as it was, so a later edit does not rewrite what this answer was based on.
        gate: {
          mode: target.gate.mode,
          applies_to: target.gate.appliesTo,
          updated_at: target.gate.updatedAt.toISOString(),
          rules: gateVersion(db, target.gate).snapshot,
        },
        ...(override ? { judged_decision: judged.decision } : {}),
      },
      overrideId: override?.id ?? null,
      caller: input.caller.name,
      callerTokenId: input.caller.tokenId,
      retryAfterSeconds: retryAfter,
      evaluatedAt: now,
    })
    .returning({ id: gateEvaluations.id });
  if (!row) throw new Error("evaluation insert returned no row");
  deps.telemetry?.gateEvaluation(target.gate.slug, decision);
  return {
    evaluation_id: row.id,
    gate: target.gate.slug,
    service: target.service.slug,
    environment: target.environment,
    sha: target.sha,
    decision,
    allow,
    enforced,
    rules: results,
    retry_after_seconds: retryAfter,
    evaluated_at: now.toISOString(),
    override,
  };
}
