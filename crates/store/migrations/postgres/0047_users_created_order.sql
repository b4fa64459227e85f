-- The user list's default order is (created_at, id): with the id in the index a page is read in order, where the
-- (instance_id, created_at) index left every page's rows to be sorted again by id.
CREATE INDEX users_instance_created_id ON users(instance_id, created_at, id);
DROP INDEX users_instance_created;
