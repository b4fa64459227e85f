//! `PATCH /users/{id}`, the metadata merge and replace, ban and lock.

use serde_json::{Map, Value};

use super::create::{imported_digest, metadata_text, parse_rfc3339, seal_totp, user_unique_error};
use super::hashers::Hasher;
use super::{User, get_user, identifiers, lockout, metadata, not_found, passwords};
use crate::events::EventType;
use crate::{Ctx, Error, Result};

/// A field of a PATCH: absent (`None`), `null` (`Some(None)`) or a value.
pub type Patch<T> = Option<Option<T>>;

/// Input of [`update_user`]; absent fields do not change.
#[derive(Debug, Default)]
pub struct UserUpdate {
    /// External id (`null`/"" clears).
    pub external_id: Patch<String>,
    /// First name.
    pub first_name: Patch<String>,
    /// Last name.
    pub last_name: Patch<String>,
    /// Locale.
    pub locale: Patch<String>,
    /// Must be a verified email of the user.
    pub primary_email_address_id: Option<String>,
    /// Must be a verified phone of the user.
    pub primary_phone_number_id: Option<String>,
    /// Must be a verified wallet of the user.
    pub primary_web3_wallet_id: Option<String>,
    /// Username (`null`/"" removes it).
    pub username: Patch<String>,
    /// New password.
    pub password: Option<String>,
    /// Imported digest.
    pub password_digest: Option<String>,
    /// Its hasher.
    pub password_hasher: Option<String>,
    /// Skip the policy for `password`.
    pub skip_password_checks: bool,
    /// TOTP secret (`null` removes TOTP).
    pub totp_secret: Patch<String>,
    /// Replaces the backup codes.
    pub backup_codes: Option<Vec<String>>,
    /// Replaces public metadata (deprecated here; `null` = `{}`).
    pub public_metadata: Patch<Map<String, Value>>,
    /// Replaces private metadata.
    pub private_metadata: Patch<Map<String, Value>>,
    /// Replaces unsafe metadata.
    pub unsafe_metadata: Patch<Map<String, Value>>,
    /// Flag.
    pub delete_self_enabled: Option<bool>,
    /// Flag.
    pub create_organization_enabled: Option<bool>,
    /// Limit (`null` clears).
    pub create_organizations_limit: Patch<i64>,
    /// RFC 3339 (`null` clears).
    pub legal_accepted_at: Patch<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// Flag.
    pub bypass_client_trust: Option<bool>,
}

fn text(p: Patch<String>) -> Option<Option<String>> {
    p.map(|v| v.filter(|s| !s.is_empty()))
}

/// Updates a user's attributes.
pub async fn update_user(ctx: &Ctx, instance_id: &str, id: &str, u: UserUpdate) -> Result<User> {
    let username = match text(u.username) {
        Some(Some(name)) => Some(Some(identifiers::username("username", &name)?)),
        Some(None) => Some(None),
        None => None,
    };
    let legal = match u.legal_accepted_at {
        Some(Some(t)) => Some(Some(parse_rfc3339(&t).ok_or_else(|| rfc3339("legal_accepted_at"))?)),
        Some(None) => Some(None),
        None => None,
    };
    let created_at = u.created_at.map(|t| parse_rfc3339(&t).ok_or_else(|| rfc3339("created_at"))).transpose()?;
    if u.create_organizations_limit.flatten().is_some_and(|l| l < 0) {
        return Err(Error::param_value_invalid(
            "create_organizations_limit",
            "create_organizations_limit must be 0 or more.",
        ));
    }
    let totp = match u.totp_secret {
        Some(Some(s)) => Some(Some(seal_totp(ctx, "totp_secret", &s)?)),
        Some(None) => Some(None),
        None => None,
    };
    let backup_codes = u.backup_codes.map(|c| super::create::backup_code_digests(ctx, &c)).transpose()?;
    // Slow work before the transaction.
    let password = match (u.password, u.password_digest) {
        (Some(_), Some(_)) => {
            return Err(Error::param_value_invalid(
                "password_digest",
                "password and password_digest cannot be combined.",
            ));
        }
        (Some(pw), None) => {
            let hibp = crate::settings::instance_config(ctx, instance_id).await?.hibp;
            passwords::check_policy("password", &pw, hibp, u.skip_password_checks)?;
            Some((passwords::hash(pw).await?, Hasher::Argon2id))
        }
        (None, Some(d)) => Some((d.clone(), imported_digest(&d, u.password_hasher.as_deref())?)),
        (None, None) if u.password_hasher.is_some() => return Err(Error::param_missing("password_digest")),
        (None, None) => None,
    };

    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let idents = tessera_store::users::identifications_tx(&mut tx, instance_id, id).await?;
    let primary = |param: &str, kind: &str, want: &str| -> Result<String> {
        idents
            .iter()
            .find(|i| i.id == want && i.kind == kind && i.verification_status.as_deref() == Some("verified"))
            .map(|i| i.id.clone())
            .ok_or_else(|| {
                Error::param_value_invalid(param, format!("{param} must be a verified identification of this user."))
            })
    };
    if let Some(want) = &u.primary_email_address_id {
        row.primary_email_address_id = Some(primary("primary_email_address_id", identifiers::EMAIL, want)?);
    }
    if let Some(want) = &u.primary_phone_number_id {
        row.primary_phone_number_id = Some(primary("primary_phone_number_id", identifiers::PHONE, want)?);
    }
    if let Some(want) = &u.primary_web3_wallet_id {
        row.primary_web3_wallet_id = Some(primary("primary_web3_wallet_id", identifiers::WEB3, want)?);
    }
    if let Some(v) = text(u.external_id) {
        row.external_id = v;
    }
    if let Some(v) = u.first_name {
        row.first_name = v;
    }
    if let Some(v) = u.last_name {
        row.last_name = v;
    }
    if let Some(v) = u.locale {
        row.locale = v;
    }
    if let Some(v) = username {
        row.username_normalized = v.as_ref().map(|n| n.1.clone());
        row.username = v.map(|n| n.0);
    }
    for (patch, field) in [
        (u.public_metadata, &mut row.public_metadata),
        (u.private_metadata, &mut row.private_metadata),
        (u.unsafe_metadata, &mut row.unsafe_metadata),
    ] {
        if let Some(m) = patch {
            *field = metadata_text(m);
        }
    }
    if let Some(v) = u.delete_self_enabled {
        row.delete_self_enabled = v;
    }
    if let Some(v) = u.create_organization_enabled {
        row.create_organization_enabled = v;
    }
    if let Some(v) = u.create_organizations_limit {
        row.create_organizations_limit = v;
    }
    if let Some(v) = legal {
        row.legal_accepted_at = v;
    }
    if let Some(v) = created_at {
        row.created_at = v;
    }
    if let Some(v) = u.bypass_client_trust {
        row.bypass_client_trust = v;
    }
    row.name_search = format!("{} {}", row.first_name.as_deref().unwrap_or(""), row.last_name.as_deref().unwrap_or(""))
        .trim()
        .to_lowercase();
    row.updated_at = now;
    tessera_store::users::update_profile(&mut tx, &row).await.map_err(user_unique_error)?;
    if let Some((digest, hasher)) = &password {
        tessera_store::user_mfa::set_password(&mut tx, instance_id, id, Some((digest, hasher.as_str())), now).await?;
    }
    if let Some(sealed) = &totp {
        tessera_store::user_mfa::set_totp(&mut tx, instance_id, id, sealed.as_deref(), now).await?;
    }
    if let Some(codes) = &backup_codes {
        tessera_store::user_mfa::delete_backup_codes(&mut tx, instance_id, id).await?;
        for (scheme, digest) in codes {
            let code_id = crate::ids::new_id("bkc");
            tessera_store::user_mfa::insert_backup_code(&mut tx, instance_id, id, &code_id, scheme, digest, now)
                .await?;
        }
    }
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

fn rfc3339(param: &str) -> Error {
    Error::param_format_invalid(param, format!("{param} must be an RFC 3339 date-time, e.g. 2012-10-20T07:15:20.902Z."))
}

/// Deep merge: objects merge key by key, `null` deletes, anything else replaces.
pub fn deep_merge(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        match v {
            Value::Null => {
                target.remove(&k);
            }
            Value::Object(p) => match target.get_mut(&k) {
                Some(Value::Object(t)) => deep_merge(t, p),
                _ => {
                    let mut fresh = Map::new();
                    deep_merge(&mut fresh, p);
                    target.insert(k, Value::Object(fresh));
                }
            },
            other => {
                target.insert(k, other);
            }
        }
    }
}

/// Applies a metadata change to a stored JSON object text: a deep merge (`merge`, `null` deletes) or a
/// replacement. Users, organizations and memberships share it.
pub fn apply_metadata(field: &mut String, patch: Map<String, Value>, merge: bool) {
    let next = if merge {
        let mut current = match metadata(field) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        deep_merge(&mut current, patch);
        current
    } else {
        patch
    };
    *field = Value::Object(next).to_string();
}

/// The three metadata fields of a metadata request (absent = unchanged).
#[derive(Debug, Default)]
pub struct MetadataChange {
    /// Public.
    pub public_metadata: Option<Map<String, Value>>,
    /// Private.
    pub private_metadata: Option<Map<String, Value>>,
    /// Unsafe.
    pub unsafe_metadata: Option<Map<String, Value>>,
}

/// `PATCH …/metadata` (`merge = true`: deep merge, `null` deletes) or `PUT …/metadata` (replace each given field).
pub async fn change_metadata(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    change: MetadataChange,
    merge: bool,
) -> Result<User> {
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    for (patch, field) in [
        (change.public_metadata, &mut row.public_metadata),
        (change.private_metadata, &mut row.private_metadata),
        (change.unsafe_metadata, &mut row.unsafe_metadata),
    ] {
        if let Some(p) = patch {
            apply_metadata(field, p, merge);
        }
    }
    row.updated_at = ctx.now_ms();
    tessera_store::users::update_profile(&mut tx, &row).await?;
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

/// Bans or unbans one user.
pub async fn set_banned(ctx: &Ctx, instance_id: &str, id: &str, banned: bool) -> Result<User> {
    let mut tx = ctx.db.begin().await?;
    let ids = [id.to_owned()];
    if tessera_store::user_mfa::set_banned(&mut tx, instance_id, &ids, banned, ctx.now_ms()).await? == 0 {
        return Err(not_found());
    }
    if banned {
        // Banning revokes all of the user's sessions (Clerk's BanUser).
        crate::sessions::end_sessions_of_users(
            ctx,
            &mut tx,
            instance_id,
            &ids,
            crate::sessions::status::REVOKED,
            ctx.now_ms(),
        )
        .await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

/// Most users one bulk ban/unban takes.
pub const MAX_BULK: usize = 50;

/// Bans or unbans several users; ids that are not users of the instance are ignored. Returns the users changed.
pub async fn set_banned_bulk(ctx: &Ctx, instance_id: &str, ids: Vec<String>, banned: bool) -> Result<Vec<User>> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(Error::param_value_invalid(
            "user_ids",
            format!("user_ids must contain between 1 and {MAX_BULK} ids."),
        ));
    }
    let mut ids = ids;
    ids.sort();
    ids.dedup();
    let mut tx = ctx.db.begin().await?;
    tessera_store::user_mfa::set_banned(&mut tx, instance_id, &ids, banned, ctx.now_ms()).await?;
    if banned {
        crate::sessions::end_sessions_of_users(
            ctx,
            &mut tx,
            instance_id,
            &ids,
            crate::sessions::status::REVOKED,
            ctx.now_ms(),
        )
        .await?;
    }
    for id in &ids {
        super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    }
    tx.commit().await?;
    super::get_users(ctx, instance_id, &ids).await
}

/// Locks (for the instance's lockout duration) or unlocks a user; unlocking also resets the failed attempts.
pub async fn set_locked(ctx: &Ctx, instance_id: &str, id: &str, locked: bool) -> Result<User> {
    let now = ctx.now_ms();
    let lock = locked.then_some(Some(now + lockout::LOCKOUT_SECONDS * 1000));
    let mut tx = ctx.db.begin().await?;
    if tessera_store::user_mfa::set_lock(&mut tx, instance_id, id, lock, now).await? == 0 {
        return Err(not_found());
    }
    if locked {
        // A locked user is signed out of every session.
        crate::sessions::end_sessions_of_users(
            ctx,
            &mut tx,
            instance_id,
            &[id.to_owned()],
            crate::sessions::status::ENDED,
            now,
        )
        .await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_merge_merges_objects_and_deletes_nulls() {
        let mut t = json!({ "a": 1, "b": { "c": 2, "d": 3 }, "e": [1] }).as_object().unwrap().clone();
        let p = json!({ "a": null, "b": { "c": null, "x": { "y": null, "z": 1 } }, "e": [2], "n": "new" });
        deep_merge(&mut t, p.as_object().unwrap().clone());
        assert_eq!(Value::Object(t), json!({ "b": { "d": 3, "x": { "z": 1 } }, "e": [2], "n": "new" }));
    }
}
