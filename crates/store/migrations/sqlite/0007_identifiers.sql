-- Identifiers, part 2: one-time verification codes, the development outbox of captured messages, instance
-- invitations and the allow/block lists.

-- An identification is claimed (no other user of the instance may hold the same value) once it is verified or
-- reserved; an unverified one is not, so two users may hold it until one of them verifies it.
DROP INDEX identifications_instance_value;
CREATE UNIQUE INDEX identifications_instance_claimed ON identifications(instance_id, kind, value_normalized)
    WHERE reserved OR verification_status = 'verified';
CREATE INDEX identifications_instance_value ON identifications(instance_id, kind, value_normalized);

-- Codes sent by prepare_verification. Only a keyed digest of the code is stored.
CREATE TABLE identification_verifications (
    id                TEXT PRIMARY KEY,
    instance_id       TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    identification_id TEXT NOT NULL REFERENCES identifications(id) ON DELETE CASCADE,
    strategy          TEXT NOT NULL,
    code_digest       BLOB NOT NULL,
    -- unverified | verified | failed | expired
    status            TEXT NOT NULL,
    attempts          BIGINT NOT NULL,
    expire_at         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX identification_verifications_identification ON identification_verifications(identification_id);

-- Messages of development instances, captured instead of (or besides) being sent: `tessera outbox` prints them.
CREATE TABLE outbox_messages (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    -- email | sms
    channel     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX outbox_messages_instance ON outbox_messages(instance_id, created_at);

-- Instance invitations. Status is derived: revoked, accepted, expired (by the clock) or pending.
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    email_address    TEXT NOT NULL,
    public_metadata  TEXT NOT NULL,
    redirect_url     TEXT,
    template_slug    TEXT NOT NULL,
    revoked          BOOLEAN NOT NULL,
    accepted_at      BIGINT,
    expires_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX invitations_instance_created ON invitations(instance_id, created_at);
CREATE INDEX invitations_instance_email ON invitations(instance_id, email_address);

-- Allow-list and block-list entries. identifier_type: email_address | phone_number | web3_wallet; an e-mail
-- entry without a local part (`example.com`, stored as `*@example.com`) matches the whole domain.
CREATE TABLE restriction_identifiers (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    -- allowlist | blocklist
    list            TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    identifier_type TEXT NOT NULL,
    invitation_id   TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX restriction_identifiers_value ON restriction_identifiers(instance_id, list, identifier);
CREATE INDEX restriction_identifiers_created ON restriction_identifiers(instance_id, list, created_at);
