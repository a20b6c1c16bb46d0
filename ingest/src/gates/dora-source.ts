import { type Executor, computeMetrics } from "@sluice/db";
import type { DoraObservation } from "./rules/dora.ts";

/**
 * The service's DORA numbers over [from, to), from the same computeMetrics as the
 * dashboard and reports (definitions: docs/metrics.md), so a gate never disagrees with
 * what people see. Production is the service's production pattern, not the gate's environment.
 */
export function loadDora(db: Executor, input: { serviceId: number; from: Date; to: Date }): Promise<DoraObservation> {
  // Levels are not read by the rules; the benchmark only has to be a valid one. The rules read
  // frequency, lead time, failure rate and recovery: the other statements are skipped.
  return computeMetrics(db, { serviceIds: [input.serviceId], from: input.from, to: input.to, benchmark: "2024", core: true });
}
