//! `JWTTemplate` and its deletion object. The signing key is never part of it.

use serde_json::{Value, json};
use tessera_core::jwt_templates::JwtTemplate;

/// `JWTTemplate`.
pub fn jwt_template(t: &JwtTemplate) -> Value {
    json!({
        "object": "jwt_template",
        "id": t.id,
        "name": t.name,
        "claims": t.claims,
        "lifetime": t.lifetime,
        "allowed_clock_skew": t.allowed_clock_skew,
        "custom_signing_key": t.custom_signing_key,
        "signing_algorithm": t.signing_algorithm,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

/// `DeletedObject` for a template.
pub fn deleted(id: &str) -> Value {
    json!({ "object": "jwt_template", "id": id, "deleted": true })
}
