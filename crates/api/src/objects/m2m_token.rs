//! `machine_to_machine_token` objects.

use serde::Serialize;
use serde_json::Value;
use tessera_core::m2m_tokens::M2mToken;

/// An M2M token; `token` (the secret) only in the answer to its creation.
#[derive(Debug, Serialize)]
pub struct M2mTokenObject<'a> {
    object: &'static str,
    id: &'a str,
    subject: &'a str,
    claims: &'a Value,
    scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    revoked: bool,
    revocation_reason: Option<&'a str>,
    expired: bool,
    expiration: i64,
    last_used_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> M2mTokenObject<'a> {
    /// The token without its secret (list, verify, revoke).
    pub fn new(t: &'a M2mToken) -> Self {
        Self {
            object: "machine_to_machine_token",
            id: &t.id,
            subject: &t.subject,
            claims: &t.claims,
            scopes: &t.scopes,
            token: None,
            revoked: t.revoked,
            revocation_reason: t.revocation_reason.as_deref(),
            expired: t.expired,
            expiration: t.expiration,
            last_used_at: t.last_used_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }

    /// The token with its secret (create).
    pub fn with_secret(t: &'a M2mToken, secret: &'a str) -> Self {
        Self { token: Some(secret), ..Self::new(t) }
    }
}
