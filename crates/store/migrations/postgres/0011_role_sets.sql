-- Role sets: named groups of organization roles with a default and a creator role. An organization uses the role
-- set named by its `role_set_key` (new organizations get the instance's `initial` one); its members' roles must
-- belong to that set. Roles are referenced by id (keys can be renamed), the default and creator roles by key.
CREATE TABLE role_sets (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    key              TEXT NOT NULL,
    description      TEXT,
    -- `initial` (at most one per instance) or `custom`.
    type             TEXT NOT NULL,
    default_role_key TEXT NOT NULL,
    creator_role_key TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX role_sets_key ON role_sets(instance_id, key);

CREATE TABLE role_set_roles (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    role_set_id TEXT NOT NULL REFERENCES role_sets(id) ON DELETE CASCADE,
    role_id     TEXT NOT NULL REFERENCES organization_roles(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (role_set_id, role_id)
);
CREATE INDEX role_set_roles_role ON role_set_roles(role_id);
