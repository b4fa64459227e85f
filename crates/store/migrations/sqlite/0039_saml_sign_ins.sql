-- SAML sign-ins through enterprise connections.
--
-- `saml_requests`: the AuthnRequests Tessera sent (SP-initiated), so that a response is accepted only as the answer
-- to a request it made (`InResponseTo`), once, for the sign-in and client that asked, within the request's life.
-- `saml_assertions`: the ids of the assertions already consumed, kept until they could no longer be valid, so that
-- a replayed assertion is refused even after a restart.
-- `enterprise_accounts`: a user's identity at a connection's IdP (the `enterprise_accounts` / `saml_accounts` of
-- the user object), keyed by the IdP's subject.

CREATE TABLE saml_requests (
    id                           TEXT PRIMARY KEY,
    instance_id                  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    connection_id                TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    sign_in_id                   TEXT NOT NULL,
    client_id                    TEXT NOT NULL,
    acs_url                      TEXT NOT NULL,
    external_url                 TEXT NOT NULL,
    redirect_url                 TEXT NOT NULL,
    action_complete_redirect_url TEXT,
    used_at                      BIGINT,
    expires_at                   BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL
);
CREATE INDEX saml_requests_sign_in ON saml_requests(instance_id, sign_in_id, created_at);

CREATE TABLE saml_assertions (
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL,
    assertion_id  TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (instance_id, connection_id, assertion_id)
);

CREATE TABLE enterprise_accounts (
    id                    TEXT PRIMARY KEY,
    instance_id           TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id               TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    connection_id         TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    provider_user_id      TEXT NOT NULL,
    email_address         TEXT NOT NULL,
    first_name            TEXT,
    last_name             TEXT,
    -- JSON object.
    public_metadata       TEXT NOT NULL,
    last_authenticated_at BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX enterprise_accounts_subject ON enterprise_accounts(connection_id, provider_user_id);
CREATE INDEX enterprise_accounts_user ON enterprise_accounts(instance_id, user_id, created_at);
