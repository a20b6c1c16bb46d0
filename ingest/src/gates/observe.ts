import { type Executor, rows, timestamp } from "@sluice/db";
import { sql } from "drizzle-orm";
import type { OpenIncident } from "./rules/incidents.ts";
import type { SoakObservation } from "./rules/soak.ts";

/**
 * Data loading for the rules, kept apart from their judgement (gates/rules/*) so that the
 * judgement is testable without a database. Every query is bounded by the injected "now":
 * events stamped after it have not happened yet as far as an evaluation is concerned.
 */

/** A sha as pipelines pass it: full, or abbreviated (at least 7 hex digits). */
function shaMatches(column: string, sha: string) {
  const col = sql.raw(column);
  return sha.length >= 40 ? sql`${col} = ${sha}` : sql`left(${col}, ${sha.length}) = ${sha}`;
}

export async function loadOpenIncidents(db: Executor, serviceId: number, now: Date): Promise<OpenIncident[]> {
  const found = await rows<{ external_id: string; title: string | null; severity: string | null; started_at: string }>(
    db,
    sql`select external_id, title, severity, to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as started_at
        from incidents
        where service_id = ${serviceId} and started_at <= ${timestamp(now)}
          and (resolved_at is null or resolved_at > ${timestamp(now)})
        order by started_at, id
        limit 1000`,
  );
  return found.map((r) => ({
    externalId: r.external_id,
    title: r.title,
    severity: r.severity,
    startedAt: new Date(r.started_at),
  }));
}

const isoText = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export async function loadSoak(
  db: Executor,
  input: { serviceId: number; environment: string; sha: string; now: Date },
): Promise<SoakObservation> {
  const { serviceId, environment, sha, now } = input;
  const [latest] = await rows<{ finished_at: string; full_sha: string }>(
    db,
    sql`select ${isoText("finished_at")} as finished_at, sha as full_sha from deployments
        where service_id = ${serviceId} and environment = ${environment} and ${shaMatches("sha", sha)}
          and status = 'success' and finished_at <= ${timestamp(now)}
        order by finished_at desc, id desc limit 1`,
  );
  if (!latest) {
    const [deploying] = await rows<{ id: number }>(
      db,
      sql`select id::int from deployments
          where service_id = ${serviceId} and environment = ${environment} and ${shaMatches("sha", sha)}
            and (status in ('queued', 'in_progress') or (status = 'success' and finished_at > ${timestamp(now)}))
          limit 1`,
    );
    return { deployedAt: null, deploying: deploying !== undefined, replaced: null, incident: null };
  }
  const deployedAt = new Date(latest.finished_at);
  const [replaced] = await rows<{ sha: string; at: string }>(
    db,
    sql`select sha, ${isoText("finished_at")} as at from deployments
        where service_id = ${serviceId} and environment = ${environment} and sha <> ${latest.full_sha}
          and status = 'success' and finished_at > ${timestamp(deployedAt)} and finished_at <= ${timestamp(now)}
        order by finished_at, id limit 1`,
  );
  const [incident] = await rows<{ external_id: string; title: string | null; started_at: string }>(
    db,
    sql`select external_id, title, ${isoText("started_at")} as started_at from incidents
        where service_id = ${serviceId} and started_at >= ${timestamp(deployedAt)} and started_at <= ${timestamp(now)}
        order by started_at, id limit 1`,
  );
  return {
    deployedAt,
    deploying: false,
    replaced: replaced ? { sha: replaced.sha, at: new Date(replaced.at) } : null,
    incident: incident
      ? { externalId: incident.external_id, title: incident.title, startedAt: new Date(incident.started_at) }
      : null,
  };
}

/** Incidents opened on the service at or after `since` (Flagger's rollback hook). */
export async function loadIncidentsSince(
  db: Executor,
  input: { serviceId: number; since: Date; now: Date },
): Promise<OpenIncident[]> {
  const found = await rows<{ external_id: string; title: string | null; severity: string | null; started_at: string }>(
    db,
    sql`select external_id, title, severity, ${isoText("started_at")} as started_at from incidents
        where service_id = ${input.serviceId} and started_at >= ${timestamp(input.since)} and started_at <= ${timestamp(input.now)}
        order by started_at, id limit 1000`,
  );
  return found.map((r) => ({
    externalId: r.external_id,
    title: r.title,
    severity: r.severity,
    startedAt: new Date(r.started_at),
  }));
}

/** The deployment a rollback hook asks about: the latest of the sha (or of any sha) in the environment. */
export async function loadDeploymentUnderEvaluation(
  db: Executor,
  input: { serviceId: number; environment: string; sha: string | null; now: Date },
): Promise<{ id: number; sha: string; startedAt: Date } | null> {
  const [found] = await rows<{ id: number; sha: string; started_at: string }>(
    db,
    sql`select id::int as id, sha, ${isoText("coalesce(started_at, finished_at, created_at)")} as started_at
        from deployments
        where service_id = ${input.serviceId} and environment = ${input.environment}
          ${input.sha ? sql`and ${shaMatches("sha", input.sha)}` : sql``}
          and coalesce(started_at, finished_at, created_at) <= ${timestamp(input.now)}
        order by coalesce(started_at, finished_at, created_at) desc, id desc limit 1`,
  );
  return found ? { id: found.id, sha: found.sha, startedAt: new Date(found.started_at) } : null;
}
