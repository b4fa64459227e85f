-- Users and their identifications (email addresses, phone numbers, web3 wallets), backup codes and profile images.
-- Uniqueness is enforced only by the unique indexes below, over values normalized by core (lower-cased e-mail
-- addresses, usernames and 0x wallets; E.164 phone numbers), per instance.
CREATE TABLE users (
    id                           TEXT PRIMARY KEY,
    instance_id                  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    external_id                  TEXT,
    username                     TEXT,
    username_normalized          TEXT,
    first_name                   TEXT,
    last_name                    TEXT,
    -- Lower-cased "first last", for name search and ordering identical on both databases.
    name_search                  TEXT NOT NULL,
    locale                       TEXT,
    primary_email_address_id     TEXT,
    primary_phone_number_id      TEXT,
    primary_web3_wallet_id       TEXT,
    public_metadata              TEXT NOT NULL,
    private_metadata             TEXT NOT NULL,
    unsafe_metadata              TEXT NOT NULL,
    -- PHC string (argon2id) for passwords set here; an imported digest keeps its hasher until the first login.
    password_digest              TEXT,
    password_hasher              TEXT,
    password_last_updated_at     BIGINT,
    password_compromised         BOOLEAN NOT NULL,
    totp_secret_sealed           BLOB,
    -- The last TOTP time step accepted: a code is accepted at most once.
    totp_last_step               BIGINT,
    mfa_enabled_at               BIGINT,
    mfa_disabled_at              BIGINT,
    banned                       BOOLEAN NOT NULL,
    -- Lockout: locked while locked_at is set and lockout_expires_at is NULL (forever) or in the future.
    locked_at                    BIGINT,
    lockout_expires_at           BIGINT,
    failed_verification_attempts BIGINT NOT NULL,
    image_id                     TEXT,
    delete_self_enabled          BOOLEAN NOT NULL,
    create_organization_enabled  BOOLEAN NOT NULL,
    create_organizations_limit   BIGINT,
    bypass_client_trust          BOOLEAN NOT NULL,
    legal_accepted_at            BIGINT,
    last_sign_in_at              BIGINT,
    last_active_at               BIGINT,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL
);
CREATE INDEX users_instance_created ON users(instance_id, created_at);
CREATE UNIQUE INDEX users_instance_username ON users(instance_id, username_normalized);
CREATE UNIQUE INDEX users_instance_external_id ON users(instance_id, external_id);

-- kind: email_address | phone_number | web3_wallet. verification_strategy NULL means no verification object.
CREATE TABLE identifications (
    id                         TEXT PRIMARY KEY,
    instance_id                TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id                    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind                       TEXT NOT NULL,
    value                      TEXT NOT NULL,
    value_normalized           TEXT NOT NULL,
    reserved                   BOOLEAN NOT NULL,
    verification_status        TEXT,
    verification_strategy      TEXT,
    verification_attempts      BIGINT,
    verification_expire_at     BIGINT,
    reserved_for_second_factor BOOLEAN NOT NULL,
    default_second_factor      BOOLEAN NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE UNIQUE INDEX identifications_instance_value ON identifications(instance_id, kind, value_normalized);
CREATE INDEX identifications_user ON identifications(user_id, created_at);

-- Backup codes: scheme 'hmac' (keyed lookup digest of a plain code) or 'bcrypt' (an imported bcrypt digest).
CREATE TABLE user_backup_codes (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scheme      TEXT NOT NULL,
    digest      BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX user_backup_codes_user ON user_backup_codes(user_id);

-- Uploaded profile images, served back at the user's image_url.
CREATE TABLE user_images (
    id           TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX user_images_user ON user_images(user_id);
