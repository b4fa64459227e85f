-- Tessera as an OAuth 2.1 / OpenID Connect provider: OAuth applications (clients), the people's consents, grants,
-- authorization codes and tokens. Client secrets, codes and tokens are stored only as keyed digests.

-- An OAuth application. client_secret_hash is NULL for public clients (PKCE, no secret). redirect_uris is a JSON
-- array of strings; scopes is space-separated, as the API shows it.
CREATE TABLE oauth_applications (
    id                     TEXT PRIMARY KEY,
    instance_id            TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    client_id              TEXT NOT NULL UNIQUE,
    client_secret_hash     BYTEA,
    client_uri             TEXT,
    image_id               TEXT,
    dynamically_registered BOOLEAN NOT NULL,
    consent_screen_enabled BOOLEAN NOT NULL,
    pkce_required          BOOLEAN NOT NULL,
    public                 BOOLEAN NOT NULL,
    scopes                 TEXT NOT NULL,
    redirect_uris          TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX oauth_applications_instance ON oauth_applications(instance_id, created_at);

-- An application's uploaded logo (at most one), served publicly at its client_image_url.
CREATE TABLE oauth_application_images (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    oauth_application_id TEXT NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    content_type         TEXT NOT NULL,
    data                 BYTEA NOT NULL,
    created_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_application_images_app ON oauth_application_images(oauth_application_id);

-- A person's remembered consent to an application, for the scopes listed (space-separated). Deleting the row
-- revokes the consent: the consent screen shows again.
CREATE TABLE oauth_consents (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    oauth_application_id TEXT NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    scopes               TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_consents_user_app ON oauth_consents(instance_id, user_id, oauth_application_id);

-- A grant: what one authorization gave one application for one person. Its codes and tokens hang off it; revoking
-- the grant revokes every token of the family (refresh-token reuse, a replayed code, revoke_token).
CREATE TABLE oauth_grants (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    oauth_application_id TEXT NOT NULL REFERENCES oauth_applications(id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id           TEXT,
    scopes               TEXT NOT NULL,
    resource             TEXT,
    org_id               TEXT,
    revoked              BOOLEAN NOT NULL,
    revocation_reason    TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX oauth_grants_app ON oauth_grants(instance_id, oauth_application_id);

-- An authorization code: single use, minutes long, bound to its redirect_uri, PKCE challenge (S256) and nonce.
CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY,
    instance_id    TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    grant_id       TEXT NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    code_hash      BYTEA NOT NULL UNIQUE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    expire_at      BIGINT NOT NULL,
    used_at        BIGINT,
    created_at     BIGINT NOT NULL
);

-- Access (oat_…) and refresh tokens. A refresh token is single use (used_at): presenting it again revokes the
-- grant. expiration is NULL for tokens that never expire.
CREATE TABLE oauth_tokens (
    id                TEXT PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    grant_id          TEXT NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    token_hash        BYTEA NOT NULL UNIQUE,
    scopes            TEXT NOT NULL,
    expiration        BIGINT,
    used_at           BIGINT,
    revoked           BOOLEAN NOT NULL,
    revocation_reason TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens(grant_id);
