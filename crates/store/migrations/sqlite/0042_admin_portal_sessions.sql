-- Sessions of the admin portal: a redeemed admin portal link token opens one (only its keyed digest is stored). A
-- session lasts while its token is not revoked; revoking the token ends it.
CREATE TABLE admin_portal_sessions (
    digest      BLOB PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    token_id    TEXT NOT NULL REFERENCES admin_portal_link_tokens(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX admin_portal_sessions_token ON admin_portal_sessions(token_id);
