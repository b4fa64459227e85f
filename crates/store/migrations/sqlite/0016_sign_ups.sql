-- Sign-up attempts (Clerk's `sign_up_attempt`). Clerk creates them in its Frontend API; Tessera creates them
-- through its stand-in endpoints (POST /v1/sign_ups…) and serves GetSignUp / UpdateSignUp. A complete attempt
-- names the user and session it became. `abandoned` is not stored: it follows from `abandon_at` and the clock.
CREATE TABLE sign_ups (
    id                 TEXT PRIMARY KEY,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    -- missing_requirements | complete
    status             TEXT NOT NULL,
    email_address      TEXT,
    phone_number       TEXT,
    username           TEXT,
    first_name         TEXT,
    last_name          TEXT,
    -- argon2id PHC string; never the password.
    password_digest    TEXT,
    unsafe_metadata    TEXT NOT NULL,
    public_metadata    TEXT NOT NULL,
    external_id        TEXT,
    custom_action      BOOLEAN NOT NULL,
    legal_accepted_at  BIGINT,
    locale             TEXT,
    -- Not foreign keys: like Clerk, a complete attempt keeps naming the user and session after they are deleted.
    created_user_id    TEXT,
    created_session_id TEXT,
    abandon_at         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX sign_ups_instance ON sign_ups(instance_id, created_at);

-- The current one-time-code verification of an attempt's email address or phone number (one per field; a new
-- prepare_verification replaces it). Only a keyed digest of the code is stored.
CREATE TABLE sign_up_verifications (
    sign_up_id  TEXT NOT NULL REFERENCES sign_ups(id) ON DELETE CASCADE,
    -- email_address | phone_number
    field       TEXT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    strategy    TEXT NOT NULL,
    code_digest BLOB NOT NULL,
    -- unverified | verified | failed | expired
    status      TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    expire_at   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (sign_up_id, field)
);
