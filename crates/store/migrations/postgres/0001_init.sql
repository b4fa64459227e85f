-- Instances, their secret keys (hashed only), signing keyring, settings and domains.
CREATE TABLE instances (
    id               TEXT PRIMARY KEY,
    environment_type TEXT NOT NULL,
    publishable_key  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE instance_secret_keys (
    id           TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    secret_hash  BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX instance_secret_keys_instance ON instance_secret_keys(instance_id);

CREATE TABLE signing_keys (
    id                 TEXT PRIMARY KEY,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    algorithm          TEXT NOT NULL,
    private_key_sealed BYTEA NOT NULL,
    public_n           TEXT NOT NULL,
    public_e           TEXT NOT NULL,
    active             BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT
);
CREATE INDEX signing_keys_instance ON signing_keys(instance_id);

CREATE TABLE instance_settings (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    grp         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (instance_id, grp)
);

CREATE TABLE domains (
    id                  TEXT PRIMARY KEY,
    instance_id         TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    is_satellite        BOOLEAN NOT NULL,
    is_primary          BOOLEAN NOT NULL,
    is_secondary        BOOLEAN NOT NULL,
    frontend_api_url    TEXT NOT NULL,
    accounts_portal_url TEXT,
    proxy_url           TEXT,
    development_origin  TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX domains_instance_name ON domains(instance_id, name);

-- Server-wide facts, e.g. the check value that proves the master key matches this database.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
