import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz, updatedAt } from "./columns.ts";
import { repositories } from "./services.ts";

/**
 * A commit of a repository. A row may exist before its details do (a deployment or a
 * child commit can name a sha first), so everything but the key is nullable and
 * later events fill it in.
 */
export const changes = pgTable(
  "changes",
  {
    id: id(),
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    sha: text("sha").notNull(),
    committedAt: timestamptz("committed_at"),
    authoredAt: timestamptz("authored_at"),
    author: text("author"),
    message: text("message"),
    branch: text("branch"),
    /** Files touched, when the source gives them; null = unknown. */
    files: text("files").array(),
    parents: text("parents")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    prNumber: integer("pr_number"),
    prOpenedAt: timestamptz("pr_opened_at"),
    prMergedAt: timestamptz("pr_merged_at"),
    prFirstCommitAt: timestamptz("pr_first_commit_at"),
    prUrl: text("pr_url"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("changes_repository_sha_key").on(t.repositoryId, t.sha),
    index("changes_sha_idx").on(t.sha),
    index("changes_committed_at_idx").on(t.committedAt),
  ],
);
