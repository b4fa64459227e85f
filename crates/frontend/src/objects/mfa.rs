//! `TOTP` and `BackupCodes`: the second factors a signed-in user sets up (`/v1/me/totp…`, `/v1/me/backup_codes`).

use serde::Serialize;
use tessera_core::users::mfa::{BackupCodes, Totp};

/// `TOTP`: the secret and URI only when just created, the backup codes only when confirming created them.
#[derive(Debug, Serialize)]
pub struct TotpObject<'a> {
    object: &'static str,
    id: &'a str,
    secret: Option<&'a str>,
    uri: Option<&'a str>,
    verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<&'a [String]>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> TotpObject<'a> {
    /// The object of `t`.
    pub fn new(t: &'a Totp) -> Self {
        Self {
            object: "totp",
            id: &t.id,
            secret: t.secret.as_deref(),
            uri: t.uri.as_deref(),
            verified: t.verified,
            backup_codes: t.backup_codes.as_deref(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// `BackupCodes`.
#[derive(Debug, Serialize)]
pub struct BackupCodesObject<'a> {
    object: &'static str,
    id: &'a str,
    codes: &'a [String],
    created_at: i64,
    updated_at: i64,
}

impl<'a> BackupCodesObject<'a> {
    /// The object of `b`.
    pub fn new(b: &'a BackupCodes) -> Self {
        Self { object: "backup_code", id: &b.id, codes: &b.codes, created_at: b.created_at, updated_at: b.created_at }
    }
}
