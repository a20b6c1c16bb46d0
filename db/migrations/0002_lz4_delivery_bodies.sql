-- Raw delivery bodies (a GitHub push is 7-10 kB of JSON) are compressed when stored. lz4 costs
-- a fraction of the default pglz's CPU for a similar size: the webhook benchmark's PostgreSQL
-- time per delivery fell by about a tenth. PGlite and PostgreSQL servers built without lz4
-- keep pglz. Only values written from now on are affected.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE "deliveries"
      ALTER COLUMN "body" SET COMPRESSION lz4,
      ALTER COLUMN "headers" SET COMPRESSION lz4,
      ALTER COLUMN "events" SET COMPRESSION lz4;
  END IF;
END
$$;
