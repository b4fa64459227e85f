-- Caches on every node (crates/core/src/cache.rs) learn of another node's changes to the tables they follow: a
-- statement that changes one of them queues a notification on the channel the nodes listen on, which PostgreSQL
-- delivers when, and only if, its transaction commits (the same payload twice in one transaction arrives once).
-- Triggers rather than application code, so that every writer is covered: the API on any node, the CLI, and SQL
-- run by hand. Per statement, not per row: a bulk change notifies once. The node that made the change has already
-- invalidated its own caches when its COMMIT returned (crates/store/src/changes.rs, which lists the same tables).
-- The trigger's argument is the payload: the topic whose entries every node drops.
CREATE FUNCTION tessera_cache_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tessera_cache', TG_ARGV[0]);
    RETURN NULL;
END;
$$;

-- The tables a user object is read from: cached users and pages of users.
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('users:*');
CREATE TRIGGER identifications_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON identifications
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('users:*');
CREATE TRIGGER user_backup_codes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_backup_codes
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('users:*');
CREATE TRIGGER enterprise_accounts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON enterprise_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('users:*');

-- An instance's configuration (settings groups, billing switches).
CREATE TRIGGER instance_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON instance_settings
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('settings:*');
CREATE TRIGGER billing_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_config
    FOR EACH STATEMENT EXECUTE FUNCTION tessera_cache_changed('settings:*');
