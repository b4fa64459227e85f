-- A TOTP secret a signed-in user created through the Frontend API (POST /v1/me/totp) and has not yet confirmed with
-- a code from their authenticator app. At most one per user: creating another replaces it. Confirming moves the
-- secret to users.totp_secret_sealed (what sign-ins check) and deletes the row. The secret is sealed, never stored
-- in plaintext.
CREATE TABLE totp_enrollments (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed BLOB NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX totp_enrollments_user ON totp_enrollments(instance_id, user_id);
