-- Clients (a browser/device), the sessions of users on them, JWT templates and actor tokens.
CREATE TABLE clients (
    id                     TEXT PRIMARY KEY,
    instance_id            TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    last_active_session_id TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX clients_instance_created ON clients(instance_id, created_at);

-- status holds the state changes that happen (active, revoked, ended, removed, replaced); `expired` and
-- `abandoned` are derived from expire_at / abandon_at at read time, so they need no background job.
-- Deleting a user deletes their sessions.
CREATE TABLE sessions (
    id                          TEXT PRIMARY KEY,
    instance_id                 TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    client_id                   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_id                     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status                      TEXT NOT NULL,
    -- The impersonator payload (JSON object) of an actor session.
    actor                       TEXT,
    last_active_organization_id TEXT,
    last_active_at              BIGINT NOT NULL,
    expire_at                   BIGINT NOT NULL,
    abandon_at                  BIGINT NOT NULL,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX sessions_instance_created ON sessions(instance_id, created_at);
CREATE INDEX sessions_user ON sessions(user_id, created_at);
CREATE INDEX sessions_client ON sessions(client_id, created_at);

-- claims is the JSON template; a custom signing key is sealed, never stored in plaintext.
CREATE TABLE jwt_templates (
    id                 TEXT PRIMARY KEY,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    claims             TEXT NOT NULL,
    lifetime           BIGINT NOT NULL,
    allowed_clock_skew BIGINT NOT NULL,
    custom_signing_key BOOLEAN NOT NULL,
    signing_algorithm  TEXT NOT NULL,
    signing_key_sealed BLOB,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX jwt_templates_instance_name ON jwt_templates(instance_id, name);
CREATE INDEX jwt_templates_instance_created ON jwt_templates(instance_id, created_at);

-- The token itself is only stored as a digest (lookup) and sealed (the creation answer shows it).
CREATE TABLE actor_tokens (
    id                           TEXT PRIMARY KEY,
    instance_id                  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id                      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    actor                        TEXT NOT NULL,
    status                       TEXT NOT NULL,
    token_hash                   BLOB NOT NULL UNIQUE,
    expire_at                    BIGINT NOT NULL,
    session_max_duration_seconds BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL
);
CREATE INDEX actor_tokens_instance ON actor_tokens(instance_id, created_at);
