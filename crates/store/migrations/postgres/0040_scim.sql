-- SCIM 2.0 provisioning (RFC 7643/7644) behind each directory. A directory's key can be rotated: the previous key's
-- digest is kept with the end of its grace period, so an IdP mid-update keeps working until then. Users a directory
-- provisions are ordinary users linked to it here (their SCIM resource as last written, its userName normalized for
-- filtering and uniqueness); deactivation sets users.deprovisioned. Groups are the directory's SCIM groups with their
-- members; group → role mappings (0033) name a group by its SCIM id or its externalId.

ALTER TABLE directories ADD COLUMN previous_api_key_hash BYTEA;
ALTER TABLE directories ADD COLUMN previous_api_key_expires_at BIGINT;
CREATE UNIQUE INDEX directories_previous_api_key ON directories(previous_api_key_hash);

ALTER TABLE users ADD COLUMN deprovisioned BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE directory_users (
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    directory_id         TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    -- The SCIM id of the resource is the user's id.
    user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- userName lower-cased (SCIM compares it case-insensitively).
    user_name_normalized TEXT NOT NULL,
    external_id          TEXT,
    active               BOOLEAN NOT NULL,
    -- JSON: the SCIM attributes as the IdP last wrote them (id and meta are added when read).
    resource             TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (directory_id, user_id)
);
CREATE UNIQUE INDEX directory_users_user_name ON directory_users(directory_id, user_name_normalized);
CREATE INDEX directory_users_user ON directory_users(instance_id, user_id);

CREATE TABLE directory_groups (
    id                      TEXT PRIMARY KEY,
    instance_id             TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    directory_id            TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    display_name            TEXT NOT NULL,
    display_name_normalized TEXT NOT NULL,
    external_id             TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX directory_groups_directory ON directory_groups(directory_id, created_at);

CREATE TABLE directory_group_members (
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    group_id     TEXT NOT NULL REFERENCES directory_groups(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX directory_group_members_user ON directory_group_members(directory_id, user_id);
