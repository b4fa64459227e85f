-- API keys (Clerk's "API Keys" tag). The secret is never stored in plaintext: secret_hash is its keyed HMAC digest
-- (the verify lookup), secret_sealed its AES-256-GCM encryption (for GET /api_keys/{id}/secret).
CREATE TABLE api_keys (
    id                TEXT PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    key_type          TEXT NOT NULL,
    subject           TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    claims            TEXT,
    scopes            TEXT NOT NULL,
    secret_hash       BYTEA NOT NULL,
    secret_sealed     BYTEA NOT NULL,
    revoked           BOOLEAN NOT NULL,
    revocation_reason TEXT,
    expiration        BIGINT,
    created_by        TEXT,
    last_used_at      BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys(secret_hash);
-- Lists always filter on the owner and type and sort newest first.
CREATE INDEX api_keys_subject ON api_keys(instance_id, subject, key_type, created_at);
