//! Email addresses and phone numbers as resources of their own (`/email_addresses`, `/phone_numbers`, and the
//! `PUT /users/{id}/email_address|phone_number` replacements, and the signed-in user's own through the Frontend
//! API): create, get, update, delete, replace. Every change is the user's: it emits `user.updated`.

use tessera_store::identifications as store;
use tessera_store::users::IdentificationRow;

use super::{Identification, identifiers};
use crate::events::EventType;
use crate::ids::new_id;
use crate::{Ctx, Error, Result};

/// Which identification a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `email_address`.
    Email,
    /// `phone_number`.
    Phone,
}

impl Kind {
    /// The `kind` column value (also the body parameter and the object name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => identifiers::EMAIL,
            Self::Phone => identifiers::PHONE,
        }
    }

    /// The user column holding the primary identification of this kind.
    fn primary_column(self) -> &'static str {
        match self {
            Self::Email => "primary_email_address_id",
            Self::Phone => "primary_phone_number_id",
        }
    }

    /// Validates and normalizes a value of this kind.
    pub fn normalize(self, param: &str, value: &str) -> Result<String> {
        match self {
            Self::Email => identifiers::email(param, value),
            Self::Phone => identifiers::phone(param, value),
        }
    }

    /// The 404 of an unknown identification of this kind.
    pub fn not_found(self) -> Error {
        Error::not_found(match self {
            Self::Email => "email address",
            Self::Phone => "phone number",
        })
    }
}

/// Input of [`create`].
#[derive(Debug, Default)]
pub struct NewAddress {
    /// Owner.
    pub user_id: String,
    /// The address or number.
    pub value: String,
    /// Created verified (`admin` strategy); otherwise unverified, without a verification.
    pub verified: bool,
    /// Make it the user's primary of its kind (the first one always is).
    pub primary: bool,
    /// Phone numbers only: a second factor (must be verified).
    pub reserved_for_second_factor: bool,
}

/// Input of [`update`]: absent fields stay.
#[derive(Debug, Default)]
pub struct AddressPatch {
    /// Mark verified (`true`) or unverified (`false`).
    pub verified: Option<bool>,
    /// `true` makes it the primary; `false` is ignored (another must be made primary instead).
    pub primary: Option<bool>,
    /// Phone numbers only.
    pub reserved_for_second_factor: Option<bool>,
    /// Phone numbers only: `true` makes this second-factor phone the default one (`false` is ignored: another
    /// must be made the default instead).
    pub default_second_factor: Option<bool>,
}

fn set_verified(row: &mut IdentificationRow, verified: bool) {
    if verified {
        if row.verification_status.as_deref() != Some("verified") {
            row.verification_status = Some("verified".into());
            row.verification_strategy = Some("admin".into());
            row.verification_attempts = None;
            row.verification_expire_at = None;
        }
    } else {
        row.verification_status = None;
        row.verification_strategy = None;
        row.verification_attempts = None;
        row.verification_expire_at = None;
    }
}

fn is_verified(row: &IdentificationRow) -> bool {
    row.verification_status.as_deref() == Some("verified")
}

fn second_factor_needs_verified() -> Error {
    Error::param_value_invalid(
        "reserved_for_second_factor",
        "A phone number must be verified to be reserved for second factor.",
    )
}

/// Makes `row` a second factor; the default one if the user has no other default.
async fn reserve_second_factor(tx: &mut tessera_store::Tx, row: &mut IdentificationRow) -> Result<()> {
    let others = tessera_store::users::identifications_tx(tx, &row.instance_id, &row.user_id).await?;
    row.reserved_for_second_factor = true;
    row.default_second_factor = !others.iter().any(|o| o.id != row.id && o.default_second_factor);
    Ok(())
}

/// Creates an email address or phone number for a user.
pub async fn create(ctx: &Ctx, instance_id: &str, kind: Kind, input: NewAddress) -> Result<Identification> {
    let value = kind.normalize(kind.as_str(), &input.value)?;
    crate::restriction_lists::enforce(ctx, instance_id, kind.as_str(), &value).await?;
    if input.reserved_for_second_factor && !input.verified {
        return Err(second_factor_needs_verified());
    }
    let now = ctx.now_ms();
    let mut row = IdentificationRow {
        id: new_id("idn"),
        instance_id: instance_id.to_owned(),
        user_id: input.user_id.clone(),
        kind: kind.as_str().to_owned(),
        value: value.clone(),
        value_normalized: value,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    set_verified(&mut row, input.verified);
    let mut tx = ctx.db.begin().await?;
    let user = tessera_store::users::lock(&mut tx, instance_id, &input.user_id).await?.ok_or_else(super::not_found)?;
    if input.reserved_for_second_factor {
        reserve_second_factor(&mut tx, &mut row).await?;
    }
    super::identifiers::check_gmail_dots_tx(&mut tx, &row).await?;
    tessera_store::users::insert_identification(&mut tx, &row)
        .await
        .map_err(|e| if e.is_unique_violation() { Error::identifier_exists(kind.as_str()) } else { e.into() })?;
    let current = match kind {
        Kind::Email => user.primary_email_address_id,
        Kind::Phone => user.primary_phone_number_id,
    };
    if input.primary || current.is_none() {
        store::set_primary(&mut tx, instance_id, &input.user_id, kind.primary_column(), Some(&row.id), now).await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, &input.user_id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// A signed-in user adds an email address or phone number to their own account (the Frontend API's
/// `POST /v1/me/email_addresses|phone_numbers`): the instance must let users have one (its sign-up settings name
/// the attribute), the value must be allowed by the restriction lists, and neither claimed by another user nor
/// already the user's own. It starts unverified; `prepare_verification` / `attempt_verification` verify it.
pub async fn add_own(
    ctx: &Ctx,
    instance_id: &str,
    kind: Kind,
    user_id: &str,
    value: &str,
    reserved_for_second_factor: bool,
) -> Result<Identification> {
    let param = kind.as_str();
    if !crate::settings::sign_up_settings(ctx, instance_id).await?.allows(param) {
        return Err(Error::param_unknown(param));
    }
    let normalized = kind.normalize(param, value)?;
    let user = super::get_user(ctx, instance_id, user_id).await?;
    let own = match kind {
        Kind::Email => &user.email_addresses,
        Kind::Phone => &user.phone_numbers,
    };
    if own.iter().any(|i| i.value == normalized)
        || super::identifiers::claimed(ctx, instance_id, param, &normalized).await?
    {
        return Err(Error::identifier_exists(param));
    }
    let input = NewAddress {
        user_id: user_id.to_owned(),
        value: normalized,
        reserved_for_second_factor,
        ..NewAddress::default()
    };
    create(ctx, instance_id, kind, input).await
}

/// One email address or phone number.
pub async fn get(ctx: &Ctx, instance_id: &str, kind: Kind, id: &str) -> Result<Identification> {
    store::get(&ctx.db, instance_id, kind.as_str(), id).await?.map(Into::into).ok_or_else(|| kind.not_found())
}

/// Updates verification, primary and (phones) second-factor state.
pub async fn update(ctx: &Ctx, instance_id: &str, kind: Kind, id: &str, patch: AddressPatch) -> Result<Identification> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, kind.as_str(), id).await?.ok_or_else(|| kind.not_found())?;
    if let Some(v) = patch.verified {
        set_verified(&mut row, v);
    }
    match patch.reserved_for_second_factor {
        Some(true) if !row.reserved_for_second_factor => {
            if !is_verified(&row) {
                return Err(second_factor_needs_verified());
            }
            reserve_second_factor(&mut tx, &mut row).await?;
        }
        Some(false) => {
            row.reserved_for_second_factor = false;
            row.default_second_factor = false;
        }
        _ => {}
    }
    if row.reserved_for_second_factor && !is_verified(&row) {
        // Unverifying a second-factor phone stops it being one.
        row.reserved_for_second_factor = false;
        row.default_second_factor = false;
    }
    if patch.default_second_factor == Some(true) && !row.default_second_factor {
        if !row.reserved_for_second_factor {
            return Err(Error::param_value_invalid(
                "default_second_factor",
                "Only a phone number reserved for second factor can be the default one.",
            ));
        }
        store::clear_default_second_factor(&mut tx, instance_id, &row.user_id).await?;
        row.default_second_factor = true;
    }
    row.updated_at = now;
    if patch.verified == Some(true) {
        super::identifiers::check_gmail_dots_tx(&mut tx, &row).await?;
    }
    store::update_state(&mut tx, &row).await.map_err(|e| {
        if e.is_unique_violation() {
            Error::with(
                crate::ErrorCode::Conflict,
                "already verified by another user",
                format!("This {} is already claimed by another user.", kind.as_str().replace('_', " ")),
                Some("verified"),
            )
        } else {
            e.into()
        }
    })?;
    if patch.primary == Some(true) {
        store::set_primary(&mut tx, instance_id, &row.user_id, kind.primary_column(), Some(&row.id), now).await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, &row.user_id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// After identifications of a kind went away: the primary moves to the oldest remaining one (or none).
async fn repair_primary(
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    user_id: &str,
    kind: Kind,
    removed: &[String],
    now: i64,
) -> Result<()> {
    let user = tessera_store::users::lock(tx, instance_id, user_id).await?.ok_or_else(super::not_found)?;
    let current = match kind {
        Kind::Email => user.primary_email_address_id,
        Kind::Phone => user.primary_phone_number_id,
    };
    if current.as_ref().is_some_and(|c| removed.contains(c)) {
        let rest = tessera_store::users::identifications_tx(tx, instance_id, user_id).await?;
        let next = rest.iter().find(|i| i.kind == kind.as_str()).map(|i| i.id.as_str());
        store::set_primary(tx, instance_id, user_id, kind.primary_column(), next, now).await?;
    }
    Ok(())
}

/// Deletes an email address or phone number; a deleted primary is replaced by the oldest remaining one.
pub async fn delete(ctx: &Ctx, instance_id: &str, kind: Kind, id: &str) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, kind.as_str(), id).await?.ok_or_else(|| kind.not_found())?;
    tessera_store::users::delete_identification(&mut tx, instance_id, &row.user_id, id).await?;
    repair_primary(&mut tx, instance_id, &row.user_id, kind, std::slice::from_ref(&row.id), now).await?;
    if row.reserved_for_second_factor {
        promote_default_second_factor(&mut tx, instance_id, &row.user_id, now).await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, &row.user_id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(())
}

/// When a default second-factor phone went away: another second-factor phone becomes the default, or, with
/// none left, the user's MFA is recorded as disabled.
async fn promote_default_second_factor(
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    user_id: &str,
    now: i64,
) -> Result<()> {
    let rest = tessera_store::users::identifications_tx(tx, instance_id, user_id).await?;
    let reserved: Vec<&IdentificationRow> = rest.iter().filter(|i| i.reserved_for_second_factor).collect();
    if reserved.is_empty() {
        store::set_mfa_disabled(tx, instance_id, user_id, now).await?;
    } else if !reserved.iter().any(|i| i.default_second_factor) {
        let mut first = reserved[0].clone();
        first.default_second_factor = true;
        first.updated_at = now;
        store::update_state(tx, &first).await?;
    }
    Ok(())
}

/// `identification_status` of a replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplaceStatus {
    /// Verified (`admin`).
    #[default]
    Verified,
    /// Reserved: unverified but claimed.
    Reserved,
    /// Unverified and unclaimed.
    Unverified,
}

/// Replaces all of a user's identifications of a kind with one primary.
pub async fn replace(
    ctx: &Ctx,
    instance_id: &str,
    kind: Kind,
    user_id: &str,
    value: &str,
    status: ReplaceStatus,
) -> Result<Identification> {
    // An unknown user is a 404 before any judgement of the body (another instance's user must not leak a 422).
    super::ensure_exists(ctx, instance_id, user_id).await?;
    let value = kind.normalize(kind.as_str(), value)?;
    crate::restriction_lists::enforce(ctx, instance_id, kind.as_str(), &value).await?;
    let now = ctx.now_ms();
    let mut row = IdentificationRow {
        id: new_id("idn"),
        instance_id: instance_id.to_owned(),
        user_id: user_id.to_owned(),
        kind: kind.as_str().to_owned(),
        value: value.clone(),
        value_normalized: value,
        reserved: status == ReplaceStatus::Reserved,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    set_verified(&mut row, status == ReplaceStatus::Verified);
    let mut tx = ctx.db.begin().await?;
    tessera_store::users::lock(&mut tx, instance_id, user_id).await?.ok_or_else(super::not_found)?;
    let old = tessera_store::users::identifications_tx(&mut tx, instance_id, user_id).await?;
    let had_second_factor = old.iter().any(|i| i.kind == kind.as_str() && i.reserved_for_second_factor);
    store::delete_all_of_kind(&mut tx, instance_id, user_id, kind.as_str()).await?;
    super::identifiers::check_gmail_dots_tx(&mut tx, &row).await?;
    tessera_store::users::insert_identification(&mut tx, &row)
        .await
        .map_err(|e| if e.is_unique_violation() { Error::identifier_exists(kind.as_str()) } else { e.into() })?;
    store::set_primary(&mut tx, instance_id, user_id, kind.primary_column(), Some(&row.id), now).await?;
    if had_second_factor {
        promote_default_second_factor(&mut tx, instance_id, user_id, now).await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, user_id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(row.into())
}
