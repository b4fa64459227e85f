-- Enrollment by verified organization domains (issue 12): a user with a verified e-mail address at an
-- organization's verified domain is invited to it (`automatic_invitation`) or offered it (`automatic_suggestion`);
-- accepting a suggestion asks the organization's managers to let the user in (a membership request).

-- The domain an automatic invitation came from (NULL: invited by a person). No foreign key: the invitation outlives
-- its domain. One automatic invitation per organization and address, ever, so that no address is invited twice.
ALTER TABLE organization_invitations ADD COLUMN organization_domain_id TEXT;
CREATE UNIQUE INDEX organization_invitations_by_domain ON organization_invitations(organization_id, email_normalized)
    WHERE organization_domain_id IS NOT NULL;
CREATE INDEX organization_invitations_domain ON organization_invitations(organization_domain_id, status);

-- status: pending | accepted. One per organization and user (never suggested twice).
CREATE TABLE organization_suggestions (
    id                     TEXT PRIMARY KEY,
    instance_id            TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id                TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The domain that made it (no foreign key: an accepted suggestion outlives its domain).
    organization_domain_id TEXT NOT NULL,
    status                 TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_suggestions_member ON organization_suggestions(organization_id, user_id);
CREATE INDEX organization_suggestions_user ON organization_suggestions(instance_id, user_id, created_at);
CREATE INDEX organization_suggestions_domain ON organization_suggestions(organization_domain_id, status);

-- status: pending | accepted | rejected. Made by accepting a suggestion, so also one per organization and user.
CREATE TABLE organization_membership_requests (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX organization_membership_requests_member ON organization_membership_requests(organization_id, user_id);
CREATE INDEX organization_membership_requests_org ON organization_membership_requests(organization_id, status, created_at);
