//! `user` objects (and the user-related answers: deleted user, total count).

use crate::users::User;
use serde_json::{Value, json};

use super::email_address::email_address;
use super::phone_number::phone_number;
use super::web3_wallet::web3_wallet;

/// Path under which profile images are served (outside the spec): `{base}/v1/user_images/{image_id}`.
pub const IMAGE_PATH: &str = "/v1/user_images";

/// The URL of a user's image, absolute when the request's origin is known (`base`, e.g. `http://host:port`).
/// A user without an image has an empty `image_url`: there is no default avatar service.
pub fn image_url(base: &str, image_id: Option<&str>) -> String {
    image_id.map(|id| format!("{base}{IMAGE_PATH}/{id}")).unwrap_or_default()
}

/// `User`: every required field present (nullable ones as `null`).
pub fn user(u: &User, base: &str) -> Value {
    let image = image_url(base, u.image_id.as_deref());
    let mut out = json!({
        "id": u.id,
        "object": "user",
        "external_id": u.external_id,
        "primary_email_address_id": u.primary_email_address_id,
        "primary_phone_number_id": u.primary_phone_number_id,
        "primary_web3_wallet_id": u.primary_web3_wallet_id,
        "username": u.username,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "locale": u.locale,
        "profile_image_url": image,
        "image_url": image,
        "has_image": u.image_id.is_some(),
        "public_metadata": u.public_metadata,
        "private_metadata": u.private_metadata,
        "unsafe_metadata": u.unsafe_metadata,
    });
    // Two literals: one would exceed `json!`'s macro recursion limit.
    let more = json!({
        "email_addresses": u.email_addresses.iter().map(email_address).collect::<Vec<_>>(),
        "phone_numbers": u.phone_numbers.iter().map(phone_number).collect::<Vec<_>>(),
        "web3_wallets": u.web3_wallets.iter().map(web3_wallet).collect::<Vec<_>>(),
        "passkeys": [],
        "password_enabled": u.password_enabled,
        "two_factor_enabled": u.two_factor_enabled,
        "totp_enabled": u.totp_enabled,
        "backup_code_enabled": u.backup_code_enabled,
        "mfa_enabled_at": u.mfa_enabled_at,
        "mfa_disabled_at": u.mfa_disabled_at,
        "password_last_updated_at": u.password_last_updated_at,
        "external_accounts": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "last_sign_in_at": u.last_sign_in_at,
        "banned": u.banned,
        "locked": u.lock.locked,
        "deprovisioned": false,
        "lockout_expires_in_seconds": u.lock.expires_in_seconds,
        "verification_attempts_remaining": u.lock.attempts_remaining,
        "updated_at": u.updated_at,
        "created_at": u.created_at,
        "delete_self_enabled": u.delete_self_enabled,
        "create_organization_enabled": u.create_organization_enabled,
        "create_organizations_limit": u.create_organizations_limit,
        "last_active_at": u.last_active_at,
        "legal_accepted_at": u.legal_accepted_at,
        "bypass_client_trust": u.bypass_client_trust,
    });
    if let (Value::Object(obj), Value::Object(more)) = (&mut out, more) {
        obj.extend(more);
    }
    out
}

/// `DeletedObject` for a user.
pub fn deleted_user(id: &str) -> Value {
    json!({ "object": "user", "id": id, "deleted": true })
}

/// `TotalCount`.
pub fn total_count(n: i64) -> Value {
    json!({ "object": "total_count", "total_count": n })
}
