-- Sign-in attempts (Clerk's `sign_in_attempt`) on a browser's client, created through the Frontend API. Each keeps
-- the state of its current first-factor and second-factor verification inline: the strategy, the identification
-- a code was sent to, a keyed digest of the code (never the code), the attempts made, its expiry and status.
-- `abandoned` is not stored: it follows from `abandon_at` and the clock.
CREATE TABLE sign_ins (
    id                 TEXT PRIMARY KEY,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    -- needs_identifier | needs_first_factor | needs_second_factor | complete
    status             TEXT NOT NULL,
    identifier         TEXT,
    -- Not a foreign key: a complete attempt keeps naming its user after the user is deleted.
    user_id            TEXT,
    ff_strategy        TEXT,
    ff_identification_id TEXT,
    ff_code_digest     BYTEA,
    -- unverified | verified | failed | expired
    ff_status          TEXT,
    ff_attempts        BIGINT NOT NULL DEFAULT 0,
    ff_expire_at       BIGINT,
    sf_strategy        TEXT,
    sf_identification_id TEXT,
    sf_code_digest     BYTEA,
    sf_status          TEXT,
    sf_attempts        BIGINT NOT NULL DEFAULT 0,
    sf_expire_at       BIGINT,
    created_session_id TEXT,
    abandon_at         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX sign_ins_client ON sign_ins(instance_id, client_id);
