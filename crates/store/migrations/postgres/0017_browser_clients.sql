-- Clients that a browser holds: a client created by the Frontend API is reached through a bearer token (the
-- dev-browser token of a development instance, or the __client cookie), stored only as a keyed digest. Clients
-- created through the Backend API have none. A client carries the sign-in and sign-up in progress in it.
ALTER TABLE clients ADD COLUMN token_digest BYTEA;
ALTER TABLE clients ADD COLUMN sign_in_id TEXT;
ALTER TABLE clients ADD COLUMN sign_up_id TEXT;
ALTER TABLE clients ADD COLUMN last_authentication_strategy TEXT;
CREATE UNIQUE INDEX clients_token_digest ON clients(token_digest);

-- The cookie directives of a handshake answered in nonce format, fetched once by the app's backend through
-- GET /v1/clients/handshake_payload. Only the nonce's digest is stored; the directives are sealed (they carry a
-- session token).
CREATE TABLE handshake_nonces (
    nonce_digest      BYTEA PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    directives_sealed BYTEA NOT NULL,
    expire_at         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX handshake_nonces_expire ON handshake_nonces(expire_at);
