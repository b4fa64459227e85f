//! `sign_up_attempt` objects.

use serde_json::{Value, json};
use tessera_core::enterprise_sso::transfer;
use tessera_core::sign_ups::{ExternalVerification, FieldVerification, SignUp};

/// `SignUpVerification`: Clerk's verification fields, plus what to do next.
fn verification(v: Option<&FieldVerification>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => json!({
            "object": "verification",
            "status": v.status,
            "strategy": v.strategy,
            "attempts": v.attempts,
            "expire_at": v.expire_at,
            "next_action": v.next_action,
            "supported_strategies": [v.strategy],
        }),
    }
}

/// An enterprise SSO sign-up's external-account verification (the spec leaves its shape open: the Frontend API's
/// `verification_saml` fields).
fn external_verification(v: Option<&ExternalVerification>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => {
            let mut o = json!({
                "object": "verification_saml",
                "status": v.status,
                "strategy": v.strategy,
                "attempts": null,
                "expire_at": v.expire_at,
            });
            // Why it is transferable, as the Frontend API shows it.
            if v.status == transfer::TRANSFERABLE {
                let code = transfer::transferable_error(true);
                o["error"] = json!({
                    "code": code.as_str(),
                    "message": code.message(),
                    "long_message": code.long_message(),
                });
            }
            o
        }
    }
}

/// `SignUp`. Web3 wallets are not part of Tessera's sign-ups: always `null`.
pub fn sign_up(s: &SignUp) -> Value {
    json!({
        "object": "sign_up_attempt",
        "id": s.id,
        "status": s.status,
        "required_fields": s.required_fields,
        "optional_fields": s.optional_fields,
        "missing_fields": s.missing_fields,
        "unverified_fields": s.unverified_fields,
        "verifications": {
            "email_address": verification(s.email_verification.as_ref()),
            "phone_number": verification(s.phone_verification.as_ref()),
            "web3_wallet": null,
            "external_account": external_verification(s.external_verification.as_ref()),
        },
        "username": s.username,
        "email_address": s.email_address,
        "phone_number": s.phone_number,
        "web3_wallet": null,
        "password_enabled": s.password_enabled,
        "first_name": s.first_name,
        "last_name": s.last_name,
        "unsafe_metadata": s.unsafe_metadata,
        "public_metadata": s.public_metadata,
        "custom_action": s.custom_action,
        "external_id": s.external_id,
        "created_session_id": s.created_session_id,
        "created_user_id": s.created_user_id,
        "abandon_at": s.abandon_at,
        "legal_accepted_at": s.legal_accepted_at,
        "locale": s.locale,
    })
}
