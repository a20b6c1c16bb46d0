import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, updatedAt } from "./columns.ts";
import { teams } from "./teams.ts";

export const DEFAULT_PRODUCTION_PATTERN = "^(prod|production)$";
export const DEFAULT_DEPLOYMENT_PATTERN = "deploy";
export const DEFAULT_ATTRIBUTION_WINDOW_SECONDS = 604_800;

export const services = pgTable(
  "services",
  {
    id: id(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    teamId: bigint("team_id", { mode: "number" }).references(() => teams.id, { onDelete: "set null" }),
    productionPattern: text("production_pattern").notNull().default(DEFAULT_PRODUCTION_PATTERN),
    deploymentPattern: text("deployment_pattern").notNull().default(DEFAULT_DEPLOYMENT_PATTERN),
    attributionWindowSeconds: integer("attribution_window_seconds")
      .notNull()
      .default(DEFAULT_ATTRIBUTION_WINDOW_SECONDS),
    /** Names by which incident tools and alerts refer to the service. */
    aliases: text("aliases")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /**
     * Who created the service by naming an unknown repository or service: "integration:<id>" or
     * "token:<id>"; null for services created by an admin. Counted against SLUICE_AUTO_SERVICE_QUOTA.
     */
    autoCreatedBy: text("auto_created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("services_slug_key").on(t.slug),
    index("services_auto_created_by_idx").on(t.autoCreatedBy).where(sql`${t.autoCreatedBy} is not null`),
    index("services_team_idx").on(t.teamId),
    index("services_aliases_idx").using("gin", t.aliases),
  ],
);

/**
 * A source repository, by its full path ("octo/checkout", "group/sub/project").
 * The name is unique across providers: the generic API names repositories without one.
 */
export const repositories = pgTable(
  "repositories",
  {
    id: id(),
    name: text("name").notNull(),
    provider: text("provider").notNull().default("git"),
    url: text("url"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("repositories_name_key").on(t.name)],
);

/** Which repositories a service is built from; path_prefix '' = the whole repository. */
export const serviceRepositories = pgTable(
  "service_repositories",
  {
    serviceId: bigint("service_id", { mode: "number" })
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    pathPrefix: text("path_prefix").notNull().default(""),
  },
  (t) => [
    primaryKey({ columns: [t.serviceId, t.repositoryId, t.pathPrefix] }),
    index("service_repositories_repository_idx").on(t.repositoryId),
  ],
);
