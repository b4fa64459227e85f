-- OIDC sign-ins through enterprise connections (Tessera as the relying party): the authorization requests Tessera
-- sent, so that a callback is accepted only as the answer to one of them, once, within its life.
--
-- The `state` the IdP hands back is looked up by its keyed digest (`state_hash`); the `nonce` the ID token must
-- carry is kept as a digest too; the PKCE code verifier is sealed (it is presented to the IdP's token endpoint).
-- `callback_url` is the redirect URI the request named (the token request must repeat it). A request continues a
-- sign-in of a client; `test_run_id` is for the connection test runs of a later migration.

CREATE TABLE oidc_requests (
    id                           TEXT PRIMARY KEY,
    instance_id                  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    connection_id                TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    state_hash                   BLOB NOT NULL UNIQUE,
    nonce_hash                   BLOB NOT NULL,
    code_verifier                BLOB NOT NULL,
    sign_in_id                   TEXT,
    client_id                    TEXT,
    test_run_id                  TEXT,
    callback_url                 TEXT NOT NULL,
    redirect_url                 TEXT,
    action_complete_redirect_url TEXT,
    used_at                      BIGINT,
    expires_at                   BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL
);
CREATE INDEX oidc_requests_sign_in ON oidc_requests(instance_id, sign_in_id, created_at);
