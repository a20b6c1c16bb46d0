import { type Executor, gateOverrides } from "@sluice/db";
import { and, desc, eq, gt } from "drizzle-orm";

export interface OverrideView {
  id: number;
  reason: string;
  sha: string | null;
  expires_at: string;
  created_by: string;
}

/** Both may be abbreviated: the same commit when one is a prefix of the other. */
const sameCommit = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

/**
 * The break-glass override that applies now: unexpired, for this gate and service, and
 * either for any sha or for this one. A sha-specific override wins over a general one.
 */
export async function findOverride(
  db: Executor,
  input: { gateId: number; serviceId: number; sha: string | null; now: Date },
): Promise<OverrideView | null> {
  const candidates = await db
    .select()
    .from(gateOverrides)
    .where(
      and(
        eq(gateOverrides.gateId, input.gateId),
        eq(gateOverrides.serviceId, input.serviceId),
        gt(gateOverrides.expiresAt, input.now),
      ),
    )
    .orderBy(desc(gateOverrides.id))
    .limit(100);
  const matching = candidates.filter((o) => o.sha === null || (input.sha !== null && sameCommit(o.sha, input.sha)));
  const chosen = matching.find((o) => o.sha !== null) ?? matching[0];
  if (!chosen) return null;
  return {
    id: chosen.id,
    reason: chosen.reason,
    sha: chosen.sha,
    expires_at: chosen.expiresAt.toISOString(),
    created_by: chosen.createdBy,
  };
}
