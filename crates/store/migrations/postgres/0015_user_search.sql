-- Substring search for the users list's `query` (and users/count): trigram GIN indexes (pg_trgm) on what `query`
-- matches by substring — the normalized username, the lower-cased name and every identification value — so that a
-- LIKE '%…%' among a million users reads the indexes instead of every row. pg_trgm ships with PostgreSQL's contrib
-- modules and is a trusted extension (PostgreSQL 13+). Where it is not available, or the role may not create it, the
-- search stays correct and scans, and the migration says so in a notice rather than failing the start-up.
-- The extension is per database while Tessera's tables may live in any schema (the tests use one per test), so the
-- operator class is named with the schema the extension actually lives in.
DO $$
DECLARE
    ext_schema text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        RAISE NOTICE 'pg_trgm is not available: user search scans';
        RETURN;
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION
        -- Another migration created it at the same moment: it exists now.
        WHEN unique_violation OR duplicate_object THEN NULL;
        WHEN insufficient_privilege THEN
            RAISE NOTICE 'not allowed to create pg_trgm: user search scans';
            RETURN;
    END;
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX users_username_trgm ON users USING gin (username_normalized %I.gin_trgm_ops)', ext_schema);
    EXECUTE format('CREATE INDEX users_name_trgm ON users USING gin (name_search %I.gin_trgm_ops)', ext_schema);
    EXECUTE format('CREATE INDEX identifications_value_trgm ON identifications USING gin (value_normalized %I.gin_trgm_ops)',
                   ext_schema);
END
$$;
