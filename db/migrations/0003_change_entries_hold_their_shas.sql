-- A commit's derivation entry becomes an entry for the commits of one repository written
-- together: a push of n commits queues one row per service instead of n. Entries still queued
-- keep their commit.
ALTER TABLE "derivation_queue" ADD COLUMN "shas" text[];--> statement-breakpoint
UPDATE "derivation_queue" SET "shas" = ARRAY["sha"] WHERE "sha" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "derivation_queue" DROP COLUMN "sha";
