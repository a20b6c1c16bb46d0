export * from "./changes.ts";
export * from "./deployments.ts";
export * from "./derivation.ts";
export * from "./gates.ts";
export * from "./incidents.ts";
export * from "./integrations.ts";
export * from "./services.ts";
export * from "./teams.ts";
