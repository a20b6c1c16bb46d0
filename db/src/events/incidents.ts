import { and, eq } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { enqueueIncident } from "../derive/queue.ts";
import { incidents } from "../schema/index.ts";

export interface IncidentInput {
  serviceId: number;
  externalId: string;
  source: string;
  title?: string | undefined;
  severity?: string | undefined;
  url?: string | undefined;
  startedAt: Date;
  /** A date resolves, null reopens, undefined leaves it as it is. */
  resolvedAt?: Date | null | undefined;
  causeDeploymentId?: number | undefined;
  causeSha?: string | undefined;
}

export type IncidentRow = typeof incidents.$inferSelect;

/** Upserts by (service, external id); posting again with resolved_at resolves it (SPEC 5). Its attribution is queued. */
export async function recordIncident(
  tx: Executor,
  input: IncidentInput,
  now: Date,
): Promise<{ incident: IncidentRow; created: boolean }> {
  // The row lock serializes writers of one incident; a first insert racing another is retried
  // by inTransaction (unique violation), and then finds the row.
  const [existing] = await tx
    .select()
    .from(incidents)
    .where(and(eq(incidents.serviceId, input.serviceId), eq(incidents.externalId, input.externalId)))
    .for("update");
  const values = {
    serviceId: input.serviceId,
    externalId: input.externalId,
    source: existing?.source ?? input.source,
    title: input.title ?? existing?.title ?? null,
    severity: input.severity ?? existing?.severity ?? null,
    url: input.url ?? existing?.url ?? null,
    // The earliest start wins: a resolve event may carry only its own time (CDEvents), and
    // keeping the minimum makes the result independent of arrival order.
    startedAt: existing && existing.startedAt < input.startedAt ? existing.startedAt : input.startedAt,
    resolvedAt: input.resolvedAt === undefined ? (existing?.resolvedAt ?? null) : input.resolvedAt,
    causeDeploymentId: input.causeDeploymentId ?? existing?.causeDeploymentId ?? null,
    causeSha: input.causeSha ?? existing?.causeSha ?? null,
    updatedAt: now,
  };
  const [row] = existing
    ? await tx.update(incidents).set(values).where(eq(incidents.id, existing.id)).returning()
    : await tx.insert(incidents).values(values).returning();
  if (!row) throw new Error("incident write returned no row");
  await enqueueIncident(tx, { id: row.id, serviceId: row.serviceId, previousDeploymentId: existing?.deploymentId ?? null });
  return { incident: row, created: !existing };
}
