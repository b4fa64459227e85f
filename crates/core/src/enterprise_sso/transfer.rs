//! Transfers between the two kinds of enterprise SSO attempt, as Clerk makes them. With enterprise SSO a sign-in
//! and a sign-up are the same flow, so the IdP's verified answer may reach the wrong kind of attempt:
//!
//! - a **sign-up** for a person who already has an account: the attempt's external-account verification becomes
//!   `transferable` with the error `external_account_exists`; clerk-js's `sso-callback` then calls
//!   `signIn.create({transfer: true})`, which signs the existing user in ([`to_sign_in`]);
//! - a **sign-in** for a person who has none (where the connection provisions just in time): the first-factor
//!   verification becomes `transferable` with `external_account_not_found`; clerk-js calls
//!   `signUp.create({transfer: true})` (unless the app told it `transferable: false`), which creates the user
//!   ([`to_sign_up`]).
//!
//! Between the two, the verified identity waits in `sso_transfers` for the attempt it answered, on the browser's
//! client that started it: only that client's next attempt can take it, once, within [`TRANSFER_TTL_MS`].

use serde_json::{Map, Value};
use tessera_store::Tx;
use tessera_store::sign_ins::SignInRow;
use tessera_store::sign_ups::{self as store, SignUpRow, TransferRow};

use super::finish::{self, Identity};
use crate::enterprise_connections::{self as connections, By, EnterpriseConnection};
use crate::instances::Instance;
use crate::sign_ins::SignIn;
use crate::sign_ups::SignUp;
use crate::{Ctx, Error, ErrorCode, Result, browser_clients, ids};

/// How long a transferable identity waits for the other attempt (clerk-js continues at once, from its callback).
pub const TRANSFER_TTL_MS: i64 = super::REQUEST_TTL_MS;
/// The verification status that asks for a transfer.
pub const TRANSFERABLE: &str = "transferable";

/// The `error` of a transferable verification of a sign-up (`true`) or a sign-in: what clerk-js reads to continue
/// with the other kind of attempt.
pub fn transferable_error(sign_up: bool) -> ErrorCode {
    if sign_up { ErrorCode::ExternalAccountExists } else { ErrorCode::ExternalAccountNotFound }
}

fn nothing_to_transfer() -> Error {
    Error::param_value_invalid("transfer", "This client has no enterprise SSO attempt to transfer.")
}

/// Keeps `who`, verified by `c`'s IdP for the attempt `attempt_id` of `client_id`, for the other kind of attempt;
/// inside the caller's transaction.
pub(crate) async fn record_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    (instance_id, client_id, attempt_id): (&str, &str, &str),
    c: &EnterpriseConnection,
    who: &Identity,
) -> Result<()> {
    let now = ctx.now_ms();
    let row = TransferRow {
        instance_id: instance_id.to_owned(),
        attempt_id: attempt_id.to_owned(),
        client_id: client_id.to_owned(),
        connection_id: c.row.id.clone(),
        identity: serde_json::to_string(who).map_err(Error::internal)?,
        expires_at: now + TRANSFER_TTL_MS,
        created_at: now,
    };
    store::put_transfer(tx, &row).await?;
    Ok(())
}

/// The identity waiting for the attempt `attempt_id` of `client_id`, with its connection (which must still sign
/// people in). Read before the transaction that takes it.
async fn waiting(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    attempt_id: Option<&str>,
) -> Result<(EnterpriseConnection, Identity)> {
    let attempt_id = attempt_id.ok_or_else(nothing_to_transfer)?;
    let row = store::transfer(&ctx.db, &instance.id, attempt_id).await?;
    let row =
        row.filter(|r| r.client_id == client_id && r.expires_at > ctx.now_ms()).ok_or_else(nothing_to_transfer)?;
    let c = connections::get(ctx, &instance.id, By::Id, &row.connection_id).await?;
    super::ensure_usable(&c)?;
    let who: Identity = serde_json::from_str(&row.identity).map_err(Error::internal)?;
    Ok((c, who))
}

/// Takes the identity of the attempt inside the transaction (two transfers of one answer: one wins).
async fn take_tx(tx: &mut Tx, instance_id: &str, client_id: &str, attempt_id: &str) -> Result<()> {
    if store::take_transfer(tx, instance_id, client_id, attempt_id).await? {
        Ok(())
    } else {
        Err(nothing_to_transfer())
    }
}

fn refused(why: &str) -> Error {
    Error::with(ErrorCode::SamlResponseInvalid, ErrorCode::SamlResponseInvalid.message(), why, None)
}

/// `POST /v1/client/sign_ins` with `transfer=true`: the client's enterprise SSO sign-up found an existing account;
/// a sign-in completes for it (the enterprise account linked, as any SSO sign-in does) and the sign-up leaves the
/// client.
pub async fn to_sign_in(ctx: &Ctx, instance: &Instance, client_id: &str) -> Result<SignIn> {
    let client = browser_clients::get(ctx, &instance.id, client_id).await?;
    let sign_up_id = client.sign_up_id.clone();
    let (c, who) = waiting(ctx, instance, client_id, sign_up_id.as_deref()).await?;
    let sign_up_id = sign_up_id.unwrap_or_default();
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    take_tx(&mut tx, &instance.id, client_id, &sign_up_id).await?;
    let user_id = finish::account_tx(ctx, &mut tx, (instance, &c), &who, None, refused).await?;
    let mut row = SignInRow {
        id: ids::new_id("sia"),
        instance_id: instance.id.clone(),
        client_id: client_id.to_owned(),
        status: crate::sign_ins::status::NEEDS_FIRST_FACTOR.into(),
        identifier: Some(who.email.clone()),
        user_id: Some(user_id.clone()),
        ff_strategy: Some(super::VERIFICATION_STRATEGY.into()),
        ff_status: Some("verified".into()),
        abandon_at: now + crate::sign_ins::ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
        ..SignInRow::default()
    };
    tessera_store::sign_ins::insert(&mut tx, &row).await?;
    let mut client = browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    crate::sign_ins::complete_sso_tx(ctx, &mut tx, &mut client, &mut row, now).await?;
    let mut client = browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    if client.sign_up_id.as_deref() == Some(sign_up_id.as_str()) {
        client.sign_up_id = None;
        browser_clients::save(&mut tx, &mut client, now).await?;
    }
    crate::users::emit_user(ctx, &mut tx, &instance.id, &user_id, crate::events::EventType::UserUpdated).await?;
    tx.commit().await?;
    crate::sign_ins::get(ctx, &instance.id, client_id, &row.id).await
}

/// `POST /v1/client/sign_ups` with `transfer=true`: the client's enterprise SSO sign-in found no account; the user
/// is created from the IdP's answer (as just-in-time provisioning does), with clerk-js's `unsafe_metadata`, and the
/// sign-up completes with a session; the sign-in leaves the client.
pub async fn to_sign_up(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    unsafe_metadata: Option<Map<String, Value>>,
) -> Result<SignUp> {
    let client = browser_clients::get(ctx, &instance.id, client_id).await?;
    let sign_in_id = client.sign_in_id.clone();
    let (c, who) = waiting(ctx, instance, client_id, sign_in_id.as_deref()).await?;
    let sign_in_id = sign_in_id.unwrap_or_default();
    if c.row.disable_jit_provisioning {
        return Err(Error::new(ErrorCode::SamlJitProvisioningDisabled));
    }
    let now = ctx.now_ms();
    let row = SignUpRow {
        id: ids::new_id("sua"),
        instance_id: instance.id.clone(),
        status: crate::sign_ups::status::MISSING_REQUIREMENTS.into(),
        email_address: Some(who.email.clone()),
        first_name: who.first_name.clone(),
        last_name: who.last_name.clone(),
        unsafe_metadata: crate::users::create::metadata_text(unsafe_metadata.clone()),
        public_metadata: crate::users::create::metadata_text(None),
        client_id: Some(client_id.to_owned()),
        abandon_at: now + crate::sign_ups::ABANDON_AFTER_MS,
        created_at: now,
        updated_at: now,
        ..SignUpRow::default()
    };
    let mut tx = ctx.db.begin().await?;
    take_tx(&mut tx, &instance.id, client_id, &sign_in_id).await?;
    tessera_store::sign_ups::insert(&mut tx, &row).await?;
    let user_id = finish::account_tx(ctx, &mut tx, (instance, &c), &who, unsafe_metadata, refused).await?;
    let id = row.id.clone();
    crate::sign_ups::sso::complete_tx(ctx, &mut tx, row, &user_id).await?;
    let mut client = browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    if client.sign_in_id.as_deref() == Some(sign_in_id.as_str()) {
        client.sign_in_id = None;
        browser_clients::save(&mut tx, &mut client, now).await?;
    }
    crate::users::emit_user(ctx, &mut tx, &instance.id, &user_id, crate::events::EventType::UserUpdated).await?;
    tx.commit().await?;
    crate::sign_ups::get_sign_up(ctx, &instance.id, &id).await
}
