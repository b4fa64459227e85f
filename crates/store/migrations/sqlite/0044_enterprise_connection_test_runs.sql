-- Enterprise connection test runs: `POST /enterprise_connections/{id}/test_runs` issues a short-lived one-time URL
-- (its token stored as a keyed digest) that runs the connection's IdP flow in test mode; the ACS or the OIDC
-- callback then records what happened (logs, the parsed user, the raw exchange sealed) and creates no user and no
-- session. A SAML request made for a test run names it (and no sign-in: `sign_in_id`, `client_id` and
-- `redirect_url` are empty for it).

CREATE TABLE enterprise_connection_test_runs (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    connection_id    TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    token_hash       BLOB NOT NULL UNIQUE,
    connection_type  TEXT NOT NULL,
    status           TEXT NOT NULL,
    parsed_user_info TEXT,
    logs             TEXT NOT NULL,
    artifacts        BLOB,
    opened_at        BIGINT,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX enterprise_connection_test_runs_connection
    ON enterprise_connection_test_runs(instance_id, connection_id, created_at);

ALTER TABLE saml_requests ADD COLUMN test_run_id TEXT;
