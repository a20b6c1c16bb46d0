import { gateProtectionRequests, rows, safeErrorText, timestamp } from "@sluice/db";
import { and, eq, sql } from "drizzle-orm";
import type { AppDeps } from "../context.ts";
import {
  type GitHubApp,
  GitHubError,
  callbackRepository,
  installationToken,
  reviewProtectionRule,
} from "./github-client.ts";
import { type ProtectionVerdict, clip, protectionVerdict } from "./protection-verdict.ts";

type Deps = Pick<AppDeps, "database" | "logger" | "clock" | "config" | "telemetry">;
type RequestRow = typeof gateProtectionRequests.$inferSelect;

/** A claimed request is someone's for this long; a replica that dies mid-way loses it then. */
const LEASE_SECONDS = 120;
/** Pending gates are looked at again within these bounds, whatever their own wait. */
const MIN_RECHECK_SECONDS = 10;
const MAX_RECHECK_SECONDS = 300;
/** GitHub lets a protection rule wait 30 days; Sluice stops asking after that too. */
const GIVE_UP_AFTER_MS = 30 * 86_400_000;
const MAX_ANSWER_ATTEMPTS = 10;

const seconds = (from: Date, count: number) => new Date(from.getTime() + count * 1000);

export function githubApp(deps: Pick<AppDeps, "config">): GitHubApp | null {
  const { appId, privateKey, apiUrl } = deps.config.github;
  return appId && privateKey ? { appId, privateKey, apiUrl } : null;
}

/**
 * Answers a `deployment_protection_rule` delivery (SPEC 7). The webhook receiver calls
 * this after it has stored the delivery and answered GitHub. The request is persisted
 * first, so a pending gate is re-evaluated by the scheduler (startGateScheduler) on any
 * replica until it decides. Never rejects: failures are logged and kept on the request.
 */
export async function handleDeploymentProtectionRule(
  deps: Deps,
  request: { serviceId: number; environment: string; sha?: string; deploymentCallbackUrl: string; repository: string; installationId?: number },
): Promise<void> {
  try {
    const now = deps.clock();
    const { db } = deps.database;
    const [inserted] = await db
      .insert(gateProtectionRequests)
      .values({
        serviceId: request.serviceId,
        environment: request.environment,
        sha: request.sha?.toLowerCase() ?? null,
        callbackUrl: request.deploymentCallbackUrl,
        repository: request.repository,
        installationId: request.installationId ?? null,
        nextAttemptAt: now,
        receivedAt: now,
      })
      // The same callback twice (a redelivery under a new id) is one request.
      .onConflictDoNothing()
      .returning({ id: gateProtectionRequests.id });
    if (!inserted) return;
    const claimed = await claim(deps, { id: inserted.id, limit: 1 });
    for (const row of claimed) await processRequest(deps, row);
  } catch (error) {
    deps.logger.error({ msg: "deployment protection rule failed", err: error });
  }
}

/**
 * Claims due pending requests for this process: SKIP LOCKED lets replicas claim disjoint
 * rows at once, and pushing next_attempt_at forward is the lease that hides a row from the
 * others while it is being worked on.
 */
async function claim(deps: Deps, input: { id?: number; limit: number }): Promise<RequestRow[]> {
  const now = deps.clock();
  const claimed = await rows<{ id: number }>(
    deps.database.db,
    sql`update gate_protection_requests set next_attempt_at = ${timestamp(seconds(now, LEASE_SECONDS))}
        where id in (
          select id from gate_protection_requests
          where status = 'pending' and next_attempt_at <= ${timestamp(now)}
            ${input.id === undefined ? sql`` : sql`and id = ${input.id}`}
          order by next_attempt_at, id
          limit ${input.limit}
          for update skip locked)
        returning id::int as id`,
  );
  if (claimed.length === 0) return [];
  const found = await Promise.all(
    claimed.map(({ id }) => deps.database.db.select().from(gateProtectionRequests).where(eq(gateProtectionRequests.id, id))),
  );
  return found.flat();
}

/** Claims and answers up to `limit` due requests; what the scheduler runs on each tick. */
export async function runDueProtectionRequests(deps: Deps, limit = 20): Promise<number> {
  const claimed = await claim(deps, { limit });
  for (const row of claimed) await processRequest(deps, row);
  return claimed.length;
}

async function update(deps: Deps, id: number, values: Partial<typeof gateProtectionRequests.$inferInsert>) {
  await deps.database.db
    .update(gateProtectionRequests)
    .set({ ...values, updatedAt: deps.clock() })
    .where(and(eq(gateProtectionRequests.id, id), eq(gateProtectionRequests.status, "pending")));
}

async function evaluate(deps: Deps, row: RequestRow): Promise<ProtectionVerdict> {
  try {
    return await protectionVerdict(deps, {
      requestId: row.id,
      serviceId: row.serviceId,
      environment: row.environment,
      sha: row.sha,
    });
  } catch (error) {
    // An internal error still answers GitHub, so a deployment is never left waiting on Sluice.
    deps.logger.error({ msg: "deployment protection rule could not be evaluated", protection_request_id: row.id, err: error });
    return {
      state: "rejected",
      comment: clip(`Sluice could not evaluate its gates because of an internal error (${safeErrorText(error)}); rejected to be safe. Re-run the job to try again.`),
      retryAfterSeconds: null,
      evaluationIds: [],
    };
  }
}

/** Why a request's callback may not be answered, or null when it may. */
function refuseCallback(app: GitHubApp, row: RequestRow): string | null {
  const repository = callbackRepository(app, row.callbackUrl);
  if (!repository) return "deployment_callback_url is not under SLUICE_GITHUB_API_URL";
  if (!row.repository || row.repository.toLowerCase() !== repository.toLowerCase()) {
    return `deployment_callback_url belongs to ${repository}, not the delivery's repository ${row.repository ?? "(none)"}`;
  }
  if (row.installationId === null) return "the delivery names no installation";
  return null;
}

async function processRequest(deps: Deps, row: RequestRow): Promise<void> {
  const now = deps.clock();
  const log = { protection_request_id: row.id, environment: row.environment };
  if (now.getTime() - row.receivedAt.getTime() > GIVE_UP_AFTER_MS) {
    await update(deps, row.id, { status: "expired", decidedAt: now, lastError: "still pending after 30 days" });
    return;
  }
  const app = githubApp(deps);
  if (!app) {
    deps.logger.error({ msg: "a deployment protection rule arrived, but SLUICE_GITHUB_APP_ID and SLUICE_GITHUB_APP_PRIVATE_KEY are not set", ...log });
    await update(deps, row.id, { status: "failed", lastError: "the GitHub App is not configured" });
    return;
  }
  const refusal = refuseCallback(app, row);
  if (refusal) {
    // A signed delivery may still be forged by whoever holds any GitHub integration's secret:
    // it may only ever answer for the repository it names (SPEC 7 v2).
    deps.logger.error({ msg: `refused a deployment protection rule: ${refusal}`, ...log, repository: row.repository });
    await update(deps, row.id, { status: "failed", decidedAt: now, lastError: refusal });
    return;
  }
  const installationId = row.installationId as number;
  const repositoryName = (row.repository as string).split("/")[1] as string;

  const verdict = await evaluate(deps, row);
  // A pending verdict is reported once (GitHub shows it on the run), then re-evaluated quietly.
  const report = verdict.state !== "pending" || row.lastComment === null;
  try {
    if (report) {
      const token = await installationToken(app, { installationId, repository: repositoryName, now });
      await reviewProtectionRule(token, row.callbackUrl, {
        environment_name: row.environment,
        ...(verdict.state === "pending" ? {} : { state: verdict.state }),
        comment: verdict.comment,
      });
    }
  } catch (error) {
    const attempts = row.attempts + 1;
    const permanent = error instanceof GitHubError && error.permanent;
    const giveUp = permanent || attempts >= MAX_ANSWER_ATTEMPTS;
    deps.logger.error({ msg: "could not answer GitHub", ...log, attempts, giving_up: giveUp, err: error });
    await update(deps, row.id, {
      attempts,
      lastError: safeErrorText(error),
      ...(giveUp
        ? { status: "failed" as const, decidedAt: now }
        : { nextAttemptAt: seconds(now, Math.min(600, 10 * 2 ** (attempts - 1))) }),
    });
    return;
  }

  const evaluationIds = [...row.evaluationIds, ...verdict.evaluationIds].slice(-100);
  if (verdict.state === "pending") {
    const wait = Math.min(MAX_RECHECK_SECONDS, Math.max(MIN_RECHECK_SECONDS, verdict.retryAfterSeconds ?? 60));
    await update(deps, row.id, {
      nextAttemptAt: seconds(now, wait),
      evaluationIds,
      ...(report ? { lastComment: verdict.comment } : {}),
    });
    return;
  }
  deps.logger.info({ msg: "answered a deployment protection rule", ...log, state: verdict.state });
  await update(deps, row.id, { status: verdict.state, decidedAt: now, lastComment: verdict.comment, evaluationIds, lastError: null });
}
