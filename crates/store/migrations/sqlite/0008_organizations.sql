-- Organizations, their logos, memberships, invitations and verified domains; the instance's organization roles
-- and permissions. Memberships and invitations name their role by key (roles are addressed by key on the wire).
-- The membership limit is enforced by locking the organization row in the membership transaction.
CREATE TABLE organizations (
    id                      TEXT PRIMARY KEY,
    instance_id             TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    -- Lower-cased name, for search and ordering identical on both databases.
    name_search             TEXT NOT NULL,
    slug                    TEXT NOT NULL,
    image_id                TEXT,
    -- 0 = unlimited.
    max_allowed_memberships BIGINT NOT NULL,
    admin_delete_enabled    BOOLEAN NOT NULL,
    public_metadata         TEXT NOT NULL,
    private_metadata        TEXT NOT NULL,
    created_by              TEXT,
    role_set_key            TEXT,
    last_active_at          BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug ON organizations(instance_id, slug);
CREATE INDEX organizations_created ON organizations(instance_id, created_at);

-- Uploaded logos, served back at the organization's image_url.
CREATE TABLE organization_images (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    content_type    TEXT NOT NULL,
    data            BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX organization_images_org ON organization_images(organization_id);

CREATE TABLE organization_memberships (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    public_metadata  TEXT NOT NULL,
    private_metadata TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_memberships_member ON organization_memberships(organization_id, user_id);
CREATE INDEX organization_memberships_user ON organization_memberships(instance_id, user_id);
CREATE INDEX organization_memberships_role ON organization_memberships(instance_id, role);

CREATE TABLE organization_permissions (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    description TEXT NOT NULL,
    -- `system` (built in, immutable) or `user`.
    type        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_permissions_key ON organization_permissions(instance_id, key);

CREATE TABLE organization_roles (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_roles_key ON organization_roles(instance_id, key);

CREATE TABLE organization_role_permissions (
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    role_id       TEXT NOT NULL REFERENCES organization_roles(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES organization_permissions(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX organization_role_permissions_permission ON organization_role_permissions(permission_id);

CREATE TABLE organization_invitations (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email_address    TEXT NOT NULL,
    -- Lower-cased address, for lookups and the one-pending-invitation-per-address rule.
    email_normalized TEXT NOT NULL,
    role             TEXT NOT NULL,
    inviter_id       TEXT,
    public_metadata  TEXT NOT NULL,
    private_metadata TEXT NOT NULL,
    redirect_url     TEXT,
    -- `pending`, `accepted` or `revoked`; a pending invitation past expires_at reads as `expired`.
    status           TEXT NOT NULL,
    expires_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX organization_invitations_org ON organization_invitations(organization_id, status);
CREATE INDEX organization_invitations_email ON organization_invitations(instance_id, email_normalized);

CREATE TABLE organization_domains (
    id                        TEXT PRIMARY KEY,
    instance_id               TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id           TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    enrollment_mode           TEXT NOT NULL,
    verification_status       TEXT,
    verification_strategy     TEXT,
    affiliation_email_address TEXT,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_domains_name ON organization_domains(organization_id, name);
CREATE INDEX organization_domains_instance ON organization_domains(instance_id, name);
