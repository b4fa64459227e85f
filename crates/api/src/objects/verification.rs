//! The verification answered by `prepare_verification` / `attempt_verification`.

use serde_json::{Value, json};
use tessera_core::users::verification::CodeVerification;

/// `_VerificationResponse`.
pub fn code_verification(v: &CodeVerification) -> Value {
    json!({
        "object": "verification_otp",
        "id": v.id,
        "status": v.status,
        "strategy": v.strategy,
        "attempts": v.attempts,
        "expire_at": v.expire_at,
        "channel": v.channel,
    })
}
