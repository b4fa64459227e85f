-- Most users have no external id, and each of them still wrote an (instance_id, NULL) entry into this unique index:
-- a b-tree insert, and a page in the commit, per created user. Only users with an external id need the entry (NULL
-- never conflicts); every lookup by external id (`= ?`, `IN (…)`) implies it is not NULL, so still uses the index.
DROP INDEX users_instance_external_id;
CREATE UNIQUE INDEX users_instance_external_id ON users(instance_id, external_id) WHERE external_id IS NOT NULL;
