//! `web3_wallet` objects.

use crate::users::Identification;
use serde_json::{Value, json};

use super::email_address::verification;

/// `Web3Wallet`.
pub fn web3_wallet(w: &Identification) -> Value {
    json!({
        "id": w.id,
        "object": "web3_wallet",
        "web3_wallet": w.value,
        "verification": verification(w.verification.as_ref()),
        "created_at": w.created_at,
        "updated_at": w.updated_at,
    })
}
