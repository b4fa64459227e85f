//! The `api_key` object.

use serde::Serialize;
use serde_json::Value;
use tessera_core::api_keys::ApiKey;

/// Clerk's `api_key` object. Every field the spec requires is always present (`null` when empty); `secret` only
/// in the answer to create.
#[derive(Debug, Serialize)]
pub struct ApiKeyObject {
    object: &'static str,
    id: String,
    #[serde(rename = "type")]
    key_type: String,
    subject: String,
    name: String,
    description: Option<String>,
    claims: Option<Value>,
    scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    revoked: bool,
    revocation_reason: Option<String>,
    expired: bool,
    expiration: Option<i64>,
    created_by: Option<String>,
    last_used_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ApiKeyObject {
    /// The object as every operation but create shows it.
    pub fn new(key: ApiKey) -> Self {
        Self {
            object: "api_key",
            id: key.id,
            key_type: key.key_type,
            subject: key.subject,
            name: key.name,
            description: key.description,
            claims: key.claims,
            scopes: key.scopes,
            secret: None,
            revoked: key.revoked,
            revocation_reason: key.revocation_reason,
            expired: key.expired,
            expiration: key.expiration,
            created_by: key.created_by,
            last_used_at: key.last_used_at,
            created_at: key.created_at,
            updated_at: key.updated_at,
        }
    }

    /// The object with its secret, as create answers it.
    pub fn with_secret(key: ApiKey, secret: String) -> Self {
        Self { secret: Some(secret), ..Self::new(key) }
    }
}
