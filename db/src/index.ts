export * from "./client.ts";
export { rederiveService, WALK_LIMIT } from "./derive/index.ts";
export {
  MAX_DERIVATION_ATTEMPTS,
  type OnDerivationFailure,
  derivationBacklog,
  deriveServiceNow,
  deriveSome,
  retrySetAside,
  settleDerivation,
  stillQueued,
} from "./derive/queue.ts";
export * from "./events/changes.ts";
export * from "./events/deployments.ts";
export * from "./events/incidents.ts";
export * from "./events/services.ts";
export { MAX_MATCHED_LENGTH, matchesPattern, patternProblem } from "./patterns.ts";
export * from "./queries/data-quality.ts";
export * from "./queries/levels.ts";
export * from "./queries/metrics.ts";
export { type Interval, bucketCount, yearsBefore } from "./queries/windows.ts";
export * from "./safe-error.ts";
export * from "./schema/index.ts";
export * from "./sql-arrays.ts";
export * from "./transaction.ts";
