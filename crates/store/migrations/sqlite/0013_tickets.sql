-- Sign-in tokens and testing tokens. Like actor tokens (0006), a token is shown once and only its digest is
-- stored. Sign-in tokens and actor tokens are redeemed into sessions through Tessera's ticket endpoint.
CREATE TABLE sign_in_tokens (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The organization to activate on sign-in.
    organization_id TEXT,
    status          TEXT NOT NULL,
    token_hash      BLOB NOT NULL UNIQUE,
    expire_at       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX sign_in_tokens_instance ON sign_in_tokens(instance_id, created_at);

CREATE TABLE testing_tokens (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    expire_at   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX testing_tokens_instance ON testing_tokens(instance_id, expire_at);

-- The refresh token of a session created by redeeming a ticket (what the Frontend API keeps in the __refresh
-- cookie): RefreshSession accepts an expired session token only together with it.
CREATE TABLE session_refresh_tokens (
    session_id  TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
