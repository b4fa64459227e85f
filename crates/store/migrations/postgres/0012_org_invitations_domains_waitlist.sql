-- Organization invitations and domains (the columns 0008 lacks), and the waitlist.

CREATE INDEX organization_invitations_created ON organization_invitations(instance_id, created_at);

-- Byte order for names, as on SQLite.
ALTER TABLE organization_domains ALTER COLUMN name TYPE TEXT COLLATE "C";
-- A domain name belongs to one organization of the instance at most.
CREATE UNIQUE INDEX organization_domains_instance_name_unique ON organization_domains(instance_id, name);
CREATE INDEX organization_domains_created ON organization_domains(instance_id, created_at);
-- Affiliation verification (verification_status / verification_strategy of 0008): attempts, expiry.
ALTER TABLE organization_domains ADD COLUMN verification_attempts BIGINT;
ALTER TABLE organization_domains ADD COLUMN verification_expire_at BIGINT;
-- Ownership verification (DNS TXT or the manual override): status, strategy, when verified.
ALTER TABLE organization_domains ADD COLUMN ownership_status TEXT;
ALTER TABLE organization_domains ADD COLUMN ownership_strategy TEXT;
ALTER TABLE organization_domains ADD COLUMN ownership_verified_at BIGINT;

-- Waitlist entries: one per (lower-cased) address. status: pending | invited | rejected | completed.
CREATE TABLE waitlist_entries (
    id            TEXT PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    email_address TEXT COLLATE "C" NOT NULL,
    status        TEXT NOT NULL,
    -- The instance invitation sent when the entry was invited.
    invitation_id TEXT REFERENCES invitations(id) ON DELETE SET NULL,
    invited_at    BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX waitlist_entries_email ON waitlist_entries(instance_id, email_address);
CREATE INDEX waitlist_entries_created ON waitlist_entries(instance_id, created_at);
