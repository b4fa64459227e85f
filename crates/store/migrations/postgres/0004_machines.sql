-- Machines, their secret keys (digest + sealed), their scopes (which machines each may call) and their M2M tokens.
CREATE TABLE machines (
    id                TEXT PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    -- Lower-cased name, computed by core, for case-insensitive search and ordering identical on both databases.
    name_search       TEXT COLLATE "C" NOT NULL,
    default_token_ttl BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX machines_instance_created ON machines(instance_id, created_at);

-- The current key has expires_at NULL; a rotated-out key keeps working until expires_at (Unix ms).
CREATE TABLE machine_secret_keys (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    machine_id    TEXT NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    secret_hash   BYTEA NOT NULL UNIQUE,
    secret_sealed BYTEA,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT
);
CREATE INDEX machine_secret_keys_machine ON machine_secret_keys(machine_id);
CREATE UNIQUE INDEX machine_secret_keys_current ON machine_secret_keys(machine_id) WHERE expires_at IS NULL;

CREATE TABLE machine_scopes (
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    from_machine_id TEXT NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    to_machine_id   TEXT NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (from_machine_id, to_machine_id)
);
CREATE INDEX machine_scopes_to ON machine_scopes(to_machine_id);

-- Opaque M2M tokens (JWT-format tokens are stateless and not stored).
CREATE TABLE m2m_tokens (
    id                TEXT PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    machine_id        TEXT NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
    token_hash        BYTEA NOT NULL UNIQUE,
    token_sealed      BYTEA NOT NULL,
    claims            TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    reuse_key         BYTEA NOT NULL,
    revoked           BOOLEAN NOT NULL,
    revocation_reason TEXT,
    expiration        BIGINT NOT NULL,
    last_used_at      BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX m2m_tokens_machine_created ON m2m_tokens(machine_id, created_at);
CREATE INDEX m2m_tokens_machine_reuse ON m2m_tokens(machine_id, reuse_key);
