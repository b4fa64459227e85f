//! `email_address` objects, and the verification sub-objects every identification carries.

use crate::users::{Identification, Verification};
use serde_json::{Value, json};

/// The `object` of a verification, from its strategy (the SDKs pick the verification's type from it).
pub fn verification_object(strategy: &str) -> &'static str {
    match strategy {
        "admin" => "verification_admin",
        "email_code" | "phone_code" | "reset_password_email_code" => "verification_otp",
        "email_link" => "verification_email_link",
        "ticket" => "verification_ticket",
        "saml" => "verification_saml",
        "scim" => "verification_scim",
        s if s.starts_with("web3_") => "verification_web3",
        _ => "verification_from_oauth",
    }
}

/// A verification object, or `null`.
pub fn verification(v: Option<&Verification>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => json!({
            "object": verification_object(&v.strategy),
            "status": v.status,
            "strategy": v.strategy,
            "attempts": v.attempts,
            "expire_at": v.expire_at,
        }),
    }
}

/// `EmailAddress`. `linked_to` is always an array (`@clerk/backend` maps over it).
pub fn email_address(e: &Identification) -> Value {
    json!({
        "id": e.id,
        "object": "email_address",
        "email_address": e.value,
        "reserved": e.reserved,
        "verification": verification(e.verification.as_ref()),
        "linked_to": [],
        "matches_sso_connection": false,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    })
}
