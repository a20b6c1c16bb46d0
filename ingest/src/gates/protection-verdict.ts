import { type Executor, gates, services, teams } from "@sluice/db";
import { asc, eq } from "drizzle-orm";
import type { AppDeps } from "../context.ts";
import { appliesTo } from "./applies.ts";
import { formatDuration } from "./durations.ts";
import { type EvaluationView, evaluateGate } from "./evaluate.ts";

export type ProtectionState = "approved" | "rejected" | "pending";

export interface ProtectionVerdict {
  state: ProtectionState;
  comment: string;
  retryAfterSeconds: number | null;
  evaluationIds: number[];
}

/** GitHub shows the comment on the run; long reasons are cut rather than refused. */
const MAX_COMMENT = 1000;

export const CALLER = "GitHub deployment protection rule";

async function serviceWithTeam(db: Executor, serviceId: number) {
  const [row] = await db
    .select({ id: services.id, slug: services.slug, team: teams.slug })
    .from(services)
    .leftJoin(teams, eq(teams.id, services.teamId))
    .where(eq(services.id, serviceId));
  return row;
}

function describeGate(view: EvaluationView): string {
  const verdict = view.enforced ? view.decision : `${view.decision}, dry run`;
  const reasons = view.rules.filter((rule) => rule.status !== "pass");
  const lines = (reasons.length > 0 ? reasons : view.rules).map((rule) => `- ${rule.status}: ${rule.message}`);
  const override = view.override ? [`- overridden: ${view.override.reason} (until ${view.override.expires_at})`] : [];
  return [`Gate ${view.gate} (${verdict}):`, ...override, ...lines].join("\n");
}

export function clip(comment: string): string {
  return comment.length > MAX_COMMENT ? `${comment.slice(0, MAX_COMMENT - 3)}...` : comment;
}

/**
 * Evaluates every gate that covers the service in the environment and folds them into one
 * answer for GitHub: rejected if an enforced gate fails, pending while one waits,
 * otherwise approved (also when no gate applies: Sluice has nothing against it).
 */
export async function protectionVerdict(
  deps: Pick<AppDeps, "database" | "logger" | "clock" | "telemetry" | "config">,
  input: { requestId: number; serviceId: number; environment: string; sha: string | null },
): Promise<ProtectionVerdict> {
  const { db } = deps.database;
  const service = await serviceWithTeam(db, input.serviceId);
  if (!service) return { state: "rejected", comment: "Sluice: the service of this deployment no longer exists.", retryAfterSeconds: null, evaluationIds: [] };
  const target = `${service.slug}${input.sha ? `@${input.sha.slice(0, 12)}` : ""} to ${input.environment}`;
  const candidates = await db.select().from(gates).orderBy(asc(gates.id));
  const covering = candidates.filter(
    (gate) => appliesTo(gate.appliesTo, { service: service.slug, team: service.team, environment: input.environment }).applies,
  );
  if (covering.length === 0) {
    return { state: "approved", comment: `Sluice: no gate applies to ${target}.`, retryAfterSeconds: null, evaluationIds: [] };
  }
  const views: EvaluationView[] = [];
  for (const gate of covering) {
    views.push(
      await evaluateGate(deps, {
        target: { gate, service: { id: service.id, slug: service.slug }, environment: input.environment, sha: input.sha },
        caller: { name: CALLER, tokenId: null },
        inputs: { source: "github", protection_request_id: input.requestId },
      }),
    );
  }
  const blocked = views.filter((view) => !view.allow);
  const failed = blocked.filter((view) => view.decision === "fail");
  const waiting = blocked.filter((view) => view.decision === "pending");
  const details = views.map(describeGate).join("\n\n");
  const evaluationIds = views.map((view) => view.evaluation_id);
  if (failed.length > 0) {
    return { state: "rejected", comment: clip(`Sluice rejected ${target}.\n\n${details}`), retryAfterSeconds: null, evaluationIds };
  }
  if (waiting.length > 0) {
    const retry = Math.min(...waiting.map((view) => view.retry_after_seconds ?? 60));
    return {
      state: "pending",
      comment: clip(`Sluice is waiting before ${target} (about ${formatDuration(retry)}).\n\n${details}`),
      retryAfterSeconds: retry,
      evaluationIds,
    };
  }
  return { state: "approved", comment: clip(`Sluice approved ${target}.\n\n${details}`), retryAfterSeconds: null, evaluationIds };
}
