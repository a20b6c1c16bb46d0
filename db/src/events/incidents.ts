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
  /**
   * The start of the rebuild (POST /api/v1/admin/reprocess) applying this event again: the row
   * is stamped with it, and an application that changes nothing leaves the row otherwise as it is.
   */
  rebuiltAt?: Date | undefined;
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
    // Webhook events never name a deployment id: one named through the API stays.
    causeDeploymentId: input.causeDeploymentId ?? existing?.causeDeploymentId ?? null,
    causeSha: input.causeSha ?? existing?.causeSha ?? null,
  };
  const { rebuiltAt } = input;
  // A rebuild applies every event again: one that changes nothing only stamps the row, so
  // readers meanwhile see the same rows (updated_at included) and nothing is queued.
  if (existing && rebuiltAt && unchanged(existing, values)) {
    const [row] = await tx.update(incidents).set({ rebuiltAt }).where(eq(incidents.id, existing.id)).returning();
    if (!row) throw new Error("incident write returned no row");
    return { incident: row, created: false };
  }
  const stamp = { updatedAt: now, ...(rebuiltAt ? { rebuiltAt } : {}) };
  const [row] = existing
    ? await tx.update(incidents).set({ ...values, ...stamp }).where(eq(incidents.id, existing.id)).returning()
    : // created_at on the injected clock like updated_at: a rebuild compares it with its start.
      await tx.insert(incidents).values({ ...values, ...stamp, createdAt: now }).returning();
  if (!row) throw new Error("incident write returned no row");
  await enqueueIncident(tx, { id: row.id, serviceId: row.serviceId, previousDeploymentId: existing?.deploymentId ?? null });
  return { incident: row, created: !existing };
}

/** Whether writing `values` would leave the row as it is. */
function unchanged(existing: IncidentRow, values: Partial<IncidentRow>): boolean {
  return Object.entries(values).every(([key, value]) => {
    const current = existing[key as keyof IncidentRow];
    return current instanceof Date && value instanceof Date ? current.getTime() === value.getTime() : current === value;
  });
}
