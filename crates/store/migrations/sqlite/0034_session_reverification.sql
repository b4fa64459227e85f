-- Session reverification (issue 12). When the session's user last verified a first and a second factor (the
-- `fva` claim of session tokens and the session's `factor_verification_age`): a sign-in sets the first (and the
-- second, when it went through one), a reverification moves them on. A first factor time of NULL is the session's
-- creation (sessions opened before this migration); a second factor time of NULL is "never".
ALTER TABLE sessions ADD COLUMN first_factor_verified_at BIGINT;
ALTER TABLE sessions ADD COLUMN second_factor_verified_at BIGINT;

-- The reverification in progress on a session (at most one: starting again replaces it), with the state of its
-- first- and second-factor verifications as on sign-ins (codes only as keyed digests).
CREATE TABLE session_reverifications (
    session_id           TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    level                TEXT NOT NULL,
    status               TEXT NOT NULL,
    ff_strategy          TEXT,
    ff_identification_id TEXT,
    ff_code_digest       BLOB,
    ff_status            TEXT,
    ff_attempts          BIGINT NOT NULL,
    ff_expire_at         BIGINT,
    sf_strategy          TEXT,
    sf_identification_id TEXT,
    sf_code_digest       BLOB,
    sf_status            TEXT,
    sf_attempts          BIGINT NOT NULL,
    sf_expire_at         BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX session_reverifications_instance ON session_reverifications(instance_id, created_at);
