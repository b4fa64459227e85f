-- Most users have no external id or username, and each of them still wrote an entry for its NULL into the unique
-- external-id index and the username's trigram index (GIN indexes NULLs too): two index inserts per created user
-- that no query reads. Only users with a value need the entry (NULL never conflicts); every lookup by external id
-- (`= $n`, `IN (…)`) and every username match (`LIKE`, a strict operator) implies the value is not NULL, so the
-- planner still uses both indexes.
DROP INDEX users_instance_external_id;
CREATE UNIQUE INDEX users_instance_external_id ON users(instance_id, external_id) WHERE external_id IS NOT NULL;
-- The trigram index exists only where migration 0015 could create pg_trgm; its operator class is named with the
-- schema the extension lives in, as there.
DO $$
DECLARE
    ext_schema text;
BEGIN
    IF to_regclass('users_username_trgm') IS NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    DROP INDEX users_username_trgm;
    EXECUTE format('CREATE INDEX users_username_trgm ON users USING gin (username_normalized %I.gin_trgm_ops) '
                   'WHERE username_normalized IS NOT NULL', ext_schema);
END
$$;
