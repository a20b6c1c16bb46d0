export * from "./client.ts";
export { rederiveService, WALK_LIMIT } from "./derive/index.ts";
export * from "./events/changes.ts";
export * from "./events/deployments.ts";
export * from "./events/incidents.ts";
export * from "./events/services.ts";
export * from "./schema/index.ts";
export * from "./sql-arrays.ts";
export * from "./transaction.ts";
