-- Enterprise SSO configuration: enterprise connections (SAML or OIDC) with their domains, directories (SCIM) with
-- their group → role mappings, and admin portal link tokens. The deprecated SAML-connections API is a view of the
-- SAML-type connections (its id is `saml_connection_id`); `/directories` and `/scim_directories` are two views of
-- `directories`. Secrets: the OIDC client secret is sealed (it is presented to the IdP), directory API keys and
-- admin portal tokens are stored as keyed digests only.

CREATE TABLE enterprise_connections (
    id                                 TEXT PRIMARY KEY,
    instance_id                        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name                               TEXT NOT NULL,
    provider                           TEXT NOT NULL,
    active                             BOOLEAN NOT NULL,
    organization_id                    TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    sync_user_attributes               BOOLEAN NOT NULL,
    disable_additional_identifications BOOLEAN NOT NULL,
    allow_organization_account_linking BOOLEAN NOT NULL,
    disable_jit_provisioning           BOOLEAN NOT NULL,
    authenticatable                    BOOLEAN NOT NULL,
    -- JSON array of {name, key, sso_path?, directory_path?, multi_valued}.
    custom_attributes                  TEXT NOT NULL,
    -- SAML (saml_* providers): samlc_… id of the deprecated view, IdP settings as resolved from the metadata or the
    -- individual fields, the certificate's validity window (X.509 NotBefore/NotAfter, Unix ms).
    saml_connection_id                 TEXT UNIQUE,
    idp_entity_id                      TEXT,
    idp_sso_url                        TEXT,
    idp_certificate                    TEXT,
    idp_certificate_issued_at          BIGINT,
    idp_certificate_expires_at         BIGINT,
    idp_metadata_url                   TEXT,
    idp_metadata                       TEXT,
    -- JSON {user_id, email_address, first_name, last_name}.
    attribute_mapping                  TEXT NOT NULL,
    allow_subdomains                   BOOLEAN NOT NULL,
    allow_idp_initiated                BOOLEAN NOT NULL,
    force_authn                        BOOLEAN NOT NULL,
    login_hint_mode                    TEXT NOT NULL,
    login_hint_source                  TEXT,
    -- OIDC (oidc_* providers): oac_… id of the OAuth config, the client secret sealed.
    oauth_config_id                    TEXT UNIQUE,
    oidc_client_id                     TEXT,
    oidc_client_secret                 BYTEA,
    oidc_discovery_url                 TEXT,
    oidc_auth_url                      TEXT,
    oidc_token_url                     TEXT,
    oidc_user_info_url                 TEXT,
    oidc_requires_pkce                 BOOLEAN NOT NULL,
    created_at                         BIGINT NOT NULL,
    updated_at                         BIGINT NOT NULL
);
CREATE INDEX enterprise_connections_instance ON enterprise_connections(instance_id, created_at);

-- A domain routes sign-ins to one connection of the instance at most.
CREATE TABLE enterprise_connection_domains (
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES enterprise_connections(id) ON DELETE CASCADE,
    domain        TEXT NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, domain)
);
CREATE UNIQUE INDEX enterprise_connection_domains_name ON enterprise_connection_domains(instance_id, domain);

CREATE TABLE directories (
    id                         TEXT PRIMARY KEY,
    instance_id                TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    enterprise_connection_id   TEXT REFERENCES enterprise_connections(id) ON DELETE SET NULL,
    name                       TEXT NOT NULL,
    provider                   TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    group_role_mapping_enabled BOOLEAN NOT NULL,
    -- JSON object: user attribute → directory (SCIM) path.
    attribute_mapping          TEXT NOT NULL,
    api_key_hash               BYTEA NOT NULL UNIQUE,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX directories_instance ON directories(instance_id, created_at);

CREATE TABLE directory_group_role_mappings (
    id                 TEXT PRIMARY KEY,
    instance_id        TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    directory_id       TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    group_id           TEXT NOT NULL,
    group_display_name TEXT,
    role_id            TEXT NOT NULL REFERENCES organization_roles(id) ON DELETE CASCADE,
    precedence         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX directory_group_role_mappings_group ON directory_group_role_mappings(directory_id, group_id);

-- The origin-level admin portal link of an instance (one per instance), and the single-use tokens issued for it.
CREATE TABLE admin_portal_links (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE REFERENCES instances(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE admin_portal_link_tokens (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    admin_portal_link_id TEXT NOT NULL REFERENCES admin_portal_links(id) ON DELETE CASCADE,
    organization_id      TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    it_contact_id        TEXT,
    -- JSON array, or NULL when none were given.
    scopes               TEXT,
    token_hash           BYTEA NOT NULL UNIQUE,
    revoked              BOOLEAN NOT NULL,
    revocation_reason    TEXT,
    expiration           BIGINT NOT NULL,
    used_at              BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX admin_portal_link_tokens_instance ON admin_portal_link_tokens(instance_id, created_at);
