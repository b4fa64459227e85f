//! `phone_number` objects.

use crate::users::Identification;
use serde_json::{Value, json};

use super::email_address::verification;

/// `PhoneNumber`.
pub fn phone_number(p: &Identification) -> Value {
    json!({
        "id": p.id,
        "object": "phone_number",
        "phone_number": p.value,
        "reserved_for_second_factor": p.reserved_for_second_factor,
        "default_second_factor": p.default_second_factor,
        "reserved": p.reserved,
        "verification": verification(p.verification.as_ref()),
        "linked_to": [],
        "backup_codes": null,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}
