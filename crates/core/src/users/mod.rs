//! Users: identities with identifications (email addresses, phone numbers, web3 wallets), metadata, a password,
//! second factors (TOTP, backup codes), ban and lockout state.

pub mod addresses;
pub mod create;
pub mod credentials;
pub mod hashers;
pub mod identifiers;
pub mod images;
pub mod list;
pub mod lockout;
pub mod mfa;
pub mod objects;
pub mod passwords;
pub mod update;
pub mod verification;

use serde_json::{Map, Value};
use tessera_store::Tx;
use tessera_store::users::{IdentificationRow, UserWithIdentifications};

use crate::events::{self, EventType};
use crate::{Ctx, Error, Result};

pub use create::{NewUser, create_user};
pub use list::{UserListQuery, count_users};

/// A verification attached to an identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// `verified`, `unverified`…
    pub status: String,
    /// `admin`, `email_code`…
    pub strategy: String,
    /// Attempts made.
    pub attempts: Option<i64>,
    /// Expiry, Unix ms.
    pub expire_at: Option<i64>,
}

/// An email address, phone number or web3 wallet of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// `idn_…`
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// [`identifiers::EMAIL`], [`identifiers::PHONE`] or [`identifiers::WEB3`].
    pub kind: String,
    /// The value.
    pub value: String,
    /// Reserved (unverified but claimed).
    pub reserved: bool,
    /// The verification, if any.
    pub verification: Option<Verification>,
    /// Phone used as a second factor.
    pub reserved_for_second_factor: bool,
    /// Default second-factor phone.
    pub default_second_factor: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<IdentificationRow> for Identification {
    fn from(r: IdentificationRow) -> Self {
        let verification = match (r.verification_strategy, r.verification_status) {
            (Some(strategy), Some(status)) => Some(Verification {
                status,
                strategy,
                attempts: r.verification_attempts,
                expire_at: r.verification_expire_at,
            }),
            _ => None,
        };
        Self {
            id: r.id,
            user_id: r.user_id,
            kind: r.kind,
            value: r.value,
            reserved: r.reserved,
            verification,
            reserved_for_second_factor: r.reserved_for_second_factor,
            default_second_factor: r.default_second_factor,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A user as the API shows it.
#[derive(Debug, Clone)]
pub struct User {
    /// `user_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// External id.
    pub external_id: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Primary email identification.
    pub primary_email_address_id: Option<String>,
    /// Primary phone identification.
    pub primary_phone_number_id: Option<String>,
    /// Primary wallet identification.
    pub primary_web3_wallet_id: Option<String>,
    /// Public metadata (an object).
    pub public_metadata: Value,
    /// Private metadata (an object).
    pub private_metadata: Value,
    /// Unsafe metadata (an object).
    pub unsafe_metadata: Value,
    /// Email addresses, oldest first.
    pub email_addresses: Vec<Identification>,
    /// Phone numbers, oldest first.
    pub phone_numbers: Vec<Identification>,
    /// Web3 wallets, oldest first.
    pub web3_wallets: Vec<Identification>,
    /// Accounts at enterprise connections' identity providers, oldest first.
    pub enterprise_accounts: Vec<tessera_store::sso::UserEnterpriseAccount>,
    /// Has a password.
    pub password_enabled: bool,
    /// Password marked compromised.
    pub password_compromised: bool,
    /// Has TOTP.
    pub totp_enabled: bool,
    /// Has backup codes.
    pub backup_code_enabled: bool,
    /// Has a second factor (TOTP or a second-factor phone).
    pub two_factor_enabled: bool,
    /// Unix ms.
    pub mfa_enabled_at: Option<i64>,
    /// Unix ms.
    pub mfa_disabled_at: Option<i64>,
    /// Unix ms.
    pub password_last_updated_at: Option<i64>,
    /// Current profile image.
    pub image_id: Option<String>,
    /// Banned.
    pub banned: bool,
    /// Deactivated by its directory (SCIM): may not sign in until reactivated.
    pub deprovisioned: bool,
    /// Lock state at the time of reading.
    pub lock: lockout::LockState,
    /// Flag.
    pub delete_self_enabled: bool,
    /// Flag.
    pub create_organization_enabled: bool,
    /// Limit (0 = unlimited).
    pub create_organizations_limit: Option<i64>,
    /// Flag.
    pub bypass_client_trust: bool,
    /// Unix ms.
    pub legal_accepted_at: Option<i64>,
    /// Unix ms.
    pub last_sign_in_at: Option<i64>,
    /// Unix ms.
    pub last_active_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Parses a stored metadata document (always an object).
pub(crate) fn metadata(text: &str) -> Value {
    serde_json::from_str::<Value>(text).ok().filter(Value::is_object).unwrap_or_else(|| Value::Object(Map::new()))
}

/// A user object from its stored rows (`now` decides whether a lockout still holds).
pub(crate) fn assemble(full: UserWithIdentifications, now: i64) -> Result<User> {
    let UserWithIdentifications { user: row, identifications: idents, backup_code_count, enterprise_accounts } = full;
    let (mut email_addresses, mut phone_numbers, mut web3_wallets) = (Vec::new(), Vec::new(), Vec::new());
    for i in idents {
        match i.kind.as_str() {
            identifiers::EMAIL => email_addresses.push(i.into()),
            identifiers::PHONE => phone_numbers.push(i.into()),
            identifiers::WEB3 => web3_wallets.push(i.into()),
            _ => {}
        }
    }
    let totp_enabled = row.totp_secret_sealed.is_some();
    let two_factor_enabled =
        totp_enabled || phone_numbers.iter().any(|p: &Identification| p.reserved_for_second_factor);
    Ok(User {
        lock: lockout::LockState::of(&row, now),
        email_addresses,
        web3_wallets,
        phone_numbers,
        enterprise_accounts,
        password_enabled: row.password_digest.is_some(),
        password_compromised: row.password_compromised,
        totp_enabled,
        backup_code_enabled: backup_code_count > 0,
        two_factor_enabled,
        public_metadata: metadata(&row.public_metadata),
        private_metadata: metadata(&row.private_metadata),
        unsafe_metadata: metadata(&row.unsafe_metadata),
        id: row.id,
        instance_id: row.instance_id,
        external_id: row.external_id,
        username: row.username,
        first_name: row.first_name,
        last_name: row.last_name,
        locale: row.locale,
        primary_email_address_id: row.primary_email_address_id,
        primary_phone_number_id: row.primary_phone_number_id,
        primary_web3_wallet_id: row.primary_web3_wallet_id,
        mfa_enabled_at: row.mfa_enabled_at,
        mfa_disabled_at: row.mfa_disabled_at,
        password_last_updated_at: row.password_last_updated_at,
        image_id: row.image_id,
        banned: row.banned,
        deprovisioned: row.deprovisioned,
        delete_self_enabled: row.delete_self_enabled,
        create_organization_enabled: row.create_organization_enabled,
        create_organizations_limit: row.create_organizations_limit,
        bypass_client_trust: row.bypass_client_trust,
        legal_accepted_at: row.legal_accepted_at,
        last_sign_in_at: row.last_sign_in_at,
        last_active_at: row.last_active_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Users as read with their identifications and backup-code counts (one statement), keeping their order.
pub(crate) fn assemble_all(ctx: &Ctx, rows: Vec<UserWithIdentifications>) -> Result<Vec<User>> {
    let now = ctx.now_ms();
    rows.into_iter().map(|r| assemble(r, now)).collect()
}

/// The users of the instance among `ids` (unknown ones left out), in no particular order: one round trip.
pub async fn get_users(ctx: &Ctx, instance_id: &str, ids: &[String]) -> Result<Vec<User>> {
    assemble_all(ctx, tessera_store::users::get_many_full(&ctx.db, instance_id, ids).await?)
}

/// 404 for a user.
pub fn not_found() -> Error {
    Error::not_found("user")
}

/// One user, or 404.
pub async fn get_user(ctx: &Ctx, instance_id: &str, id: &str) -> Result<User> {
    let full = tessera_store::users::get_full(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    assemble(full, ctx.now_ms())
}

/// How an operation renders a user object (its JSON), given the base its image URLs are made absolute under (the
/// request's origin, part of what the cache keeps an object under).
pub trait RenderUser: Fn(&User, &str) -> Result<bytes::Bytes> {}
impl<F: Fn(&User, &str) -> Result<bytes::Bytes>> RenderUser for F {}

/// One user's object rendered by `render` under `base`, or 404: from the cache of rendered users while nothing
/// committed since may have changed it (see [`crate::cache`]), else read and rendered (and kept, if its object
/// does not depend on the time of reading).
pub async fn get_user_rendered(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    base: &str,
    render: impl RenderUser,
) -> Result<bytes::Bytes> {
    let now = ctx.now_ms();
    if let Some(hit) = cached_user(ctx, instance_id, id, base, now) {
        return Ok(hit);
    }
    let (changes, epoch) = (ctx.db.changes().users(), ctx.caches.users.epoch());
    let user = get_user(ctx, instance_id, id).await?;
    let body = render(&user, base)?;
    keep_rendered(ctx, &user, base, &body, now, changes, epoch);
    Ok(body)
}

/// Users' objects by id, in the order of `ids`, rendered by `render` under `base`: the cached ones, and the others
/// read in one round trip (and kept). Ids of users that no longer exist are left out.
pub async fn get_users_rendered(
    ctx: &Ctx,
    instance_id: &str,
    ids: &[String],
    base: &str,
    render: impl RenderUser,
) -> Result<Vec<bytes::Bytes>> {
    let now = ctx.now_ms();
    let mut bodies: Vec<Option<bytes::Bytes>> =
        ids.iter().map(|id| cached_user(ctx, instance_id, id, base, now)).collect();
    let missing: Vec<String> = ids.iter().zip(&bodies).filter(|(_, b)| b.is_none()).map(|(id, _)| id.clone()).collect();
    if !missing.is_empty() {
        let (changes, epoch) = (ctx.db.changes().users(), ctx.caches.users.epoch());
        let slots: std::collections::HashMap<&str, usize> =
            ids.iter().enumerate().map(|(slot, id)| (id.as_str(), slot)).collect();
        for user in get_users(ctx, instance_id, &missing).await? {
            let body = render(&user, base)?;
            keep_rendered(ctx, &user, base, &body, now, changes, epoch);
            if let Some(&slot) = slots.get(user.id.as_str()) {
                bodies[slot] = Some(body);
            }
        }
    }
    Ok(bodies.into_iter().flatten().collect())
}

/// The cached object of a user of the instance, rendered under `base`, if nothing committed since it was read.
fn cached_user(ctx: &Ctx, instance_id: &str, id: &str, base: &str, now: i64) -> Option<bytes::Bytes> {
    let changes = ctx.db.changes().users();
    ctx.caches
        .users
        .get_where(id, now, |instance, u| instance == instance_id && u.changes == changes && *u.base == *base)
        .map(|u| u.body)
}

/// Keeps a user's rendered object, read after `changes` and `epoch` were taken, unless it depends on the time of
/// reading: a lock that ends by itself counts down in it. Users with enterprise accounts are not kept either: their
/// objects show their connections, whose changes the cache does not follow.
fn keep_rendered(ctx: &Ctx, user: &User, base: &str, body: &bytes::Bytes, now: i64, changes: u64, epoch: u64) {
    if user.lock.expires_in_seconds.is_some() || !user.enterprise_accounts.is_empty() {
        return;
    }
    let rendered = crate::cache::RenderedUser { changes, base: base.into(), body: body.clone() };
    ctx.caches.users.insert(user.id.clone(), &user.instance_id, rendered, now, epoch);
}

/// 404 unless the user exists in the instance.
pub async fn ensure_exists(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    if tessera_store::users::exists(&ctx.db, instance_id, id).await? { Ok(()) } else { Err(not_found()) }
}

/// Deletes a user with their identifications, backup codes and images.
pub async fn delete_user(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if tessera_store::users::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(not_found());
    }
    let data = objects::DeletedUserObject::event(id, row.external_id.as_deref());
    events::emit(ctx, &mut tx, instance_id, EventType::UserDeleted, &to_value(&data)?).await?;
    tx.commit().await?;
    Ok(())
}

/// A signed-in user deletes their own account (the Frontend API's `DELETE /v1/me`): only when the user's
/// `delete_self_enabled` allows it.
pub async fn delete_self(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    if !get_user(ctx, instance_id, id).await?.delete_self_enabled {
        return Err(Error::with(
            crate::ErrorCode::AuthorizationInvalid,
            "deleting self is not allowed",
            "This user is not allowed to delete their own account (delete_self_enabled is off).",
            None,
        ));
    }
    delete_user(ctx, instance_id, id).await
}

/// A user read inside a write transaction (sees the transaction's own changes), or `None`.
pub async fn get_user_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, id: &str) -> Result<Option<User>> {
    match tessera_store::users::get_full_tx(tx, instance_id, id).await? {
        Some(full) => Ok(Some(assemble(full, ctx.now_ms())?)),
        None => Ok(None),
    }
}

/// Emits `event_type` (`user.created`/`user.updated`) with the user as the transaction leaves it; a user that
/// does not exist (any more) emits nothing.
pub async fn emit_user(ctx: &Ctx, tx: &mut Tx, instance_id: &str, id: &str, event_type: EventType) -> Result<()> {
    emit_user_returning(ctx, tx, instance_id, id, event_type).await.map(drop)
}

/// [`emit_user`], returning the user it read (what a read after the commit would return: a create answers with
/// it instead of reading the user once more).
pub(crate) async fn emit_user_returning(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    event_type: EventType,
) -> Result<Option<User>> {
    let Some(user) = get_user_tx(ctx, tx, instance_id, id).await? else { return Ok(None) };
    emit_user_object(ctx, tx, instance_id, &user, event_type).await?;
    Ok(Some(user))
}

/// Emits `event_type` with `user` as the transaction leaves it (read back by [`emit_user_returning`], or as a
/// create has just written it).
pub(crate) async fn emit_user_object(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    user: &User,
    event_type: EventType,
) -> Result<()> {
    events::emit_object(ctx, tx, instance_id, event_type, &user.id, &objects::UserObject::new(user, "")).await?;
    // Every change that adds or verifies an address reports the user here, in its transaction: the one place that
    // sees each newly verified address, so organization domains enroll the user here too.
    if matches!(event_type, EventType::UserCreated | EventType::UserUpdated)
        && user.email_addresses.iter().any(|e| e.verification.as_ref().is_some_and(|v| v.status == "verified"))
    {
        crate::domain_enrollment::enroll_user_tx(ctx, tx, instance_id, &user.id).await?;
    }
    Ok(())
}

/// An object as the `data` of an event.
pub(crate) fn to_value(object: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(object).map_err(Error::internal)
}
