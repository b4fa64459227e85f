//! One-time-code verification of a sign-up attempt's email address or phone number (the Frontend API's
//! `prepare_verification` / `attempt_verification`). Codes work as they do for users' email
//! addresses and phone numbers ([`crate::users::verification`]): six digits, ten minutes, at most
//! [`MAX_ATTEMPTS`] attempts, only a keyed digest stored, delivered through [`crate::sender`] (the development
//! outbox captures it). As in the Frontend API, a wrong code is `form_code_incorrect`, the attempt that uses up the
//! last try and any later one `verification_failed`, an expired code `verification_expired` — each after the
//! attempt has been recorded. A correct code that leaves the attempt lacking nothing converts it.
//!
//! Test mode follows the one rule of [`crate::users::verification::test_code_applies`].

use serde_json::json;
use tessera_store::sign_ups::{self as store, SignUpVerificationRow};

use super::{SignUp, assess, ensure_open, get_sign_up, on_client, verification_of};
use crate::crypto::constant_time_eq;
use crate::instances::Instance;
use crate::sender::{self, Channel, TemplatedMessage};
use crate::users::identifiers;
use crate::users::verification::{self, CODE_TTL_MS, MAX_ATTEMPTS, TEST_CODE, code_digest, new_code};
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// The strategy that verifies a field.
pub(super) fn strategy_of(field: &str) -> &'static str {
    if field == identifiers::PHONE { "phone_code" } else { "email_code" }
}

/// The field a strategy verifies and the channel its code travels by.
fn parse_strategy(strategy: Option<&str>) -> Result<(&'static str, Channel)> {
    match strategy.filter(|s| !s.is_empty()) {
        None => Err(Error::param_missing("strategy")),
        Some("email_code") => Ok((identifiers::EMAIL, Channel::Email)),
        Some("phone_code") => Ok((identifiers::PHONE, Channel::Sms)),
        Some(_) => Err(Error::param_value_invalid("strategy", "strategy must be email_code or phone_code.")),
    }
}

fn not_given(field: &str) -> Error {
    Error::param_value_invalid("strategy", format!("This sign-up has no {} to verify.", field.replace('_', " ")))
}

/// `POST /v1/client/sign_ups/{id}/prepare_verification`: sends a new code to the email address or phone number of
/// an attempt of the browser's client (it replaces any earlier code). An already verified field is
/// `verification_already_verified`.
pub async fn prepare(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    strategy: Option<&str>,
) -> Result<SignUp> {
    let (field, channel) = parse_strategy(strategy)?;
    let row = on_client(store::get(&ctx.db, &instance.id, id).await?, client_id)?;
    ensure_open(&row, ctx.now_ms())?;
    let to = match field {
        identifiers::EMAIL => row.email_address.clone(),
        _ => row.phone_number.clone(),
    }
    .ok_or_else(|| not_given(field))?;
    let verifs = store::verifications(&ctx.db, &instance.id, id).await?;
    if verification_of(&verifs, field).is_some_and(|v| v.status == "verified") {
        return Err(Error::new(ErrorCode::VerificationAlreadyVerified));
    }
    let now = ctx.now_ms();
    let test = verification::test_code_applies(ctx, &instance.id, &to).await?;
    let code = if test { TEST_CODE.to_owned() } else { new_code() };
    let ver_id = ids::new_id("ver");
    let v = SignUpVerificationRow {
        sign_up_id: id.to_owned(),
        field: field.to_owned(),
        code_digest: code_digest(ctx, &ver_id, &code),
        id: ver_id,
        instance_id: instance.id.clone(),
        strategy: strategy_of(field).to_owned(),
        status: "unverified".into(),
        attempts: 0,
        expire_at: now + CODE_TTL_MS,
        created_at: now,
        updated_at: now,
    };
    let msg = TemplatedMessage {
        channel,
        slug: "verification_code",
        to,
        user_id: None,
        identification_id: None,
        data: json!({ "otp_code": code, "requested_at": sender::format_time(now) }),
    };
    // Rendering and any SMTP exchange happen before the transaction (they must not hold the writer). Test
    // identifiers get no message.
    let prepared = if test { None } else { Some(sender::prepare(ctx, instance, msg).await?) };
    let mut tx = ctx.db.begin().await?;
    let mut row = on_client(store::lock(&mut tx, &instance.id, id).await?, client_id)?;
    ensure_open(&row, now)?;
    store::replace_verification(&mut tx, &v).await?;
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    if let Some(prepared) = &prepared {
        sender::record(ctx, &mut tx, instance, prepared).await?;
    }
    tx.commit().await?;
    get_sign_up(ctx, &instance.id, id).await
}

/// `POST /v1/client/sign_ups/{id}/attempt_verification`: checks a code. A correct one verifies the field and, if
/// the attempt then lacks nothing, converts it (the answer is the complete attempt, and the browser's client has
/// the new session).
pub async fn attempt(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    id: &str,
    strategy: Option<&str>,
    code: Option<&str>,
) -> Result<SignUp> {
    let (field, _) = parse_strategy(strategy)?;
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    {
        // A correct code may convert the attempt: the allow/block lists are read now, outside the transaction.
        let row = on_client(store::get(&ctx.db, instance_id, id).await?, client_id)?;
        ensure_open(&row, ctx.now_ms())?;
        let mut verifs = store::verifications(&ctx.db, instance_id, id).await?;
        verifs.iter_mut().filter(|v| v.field == field).for_each(|v| v.status = "verified".into());
        if assess(&row, &verifs, &settings).ready {
            super::enforce_restrictions(ctx, instance_id, &row).await?;
        }
    }

    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = on_client(store::lock(&mut tx, instance_id, id).await?, client_id)?;
    ensure_open(&row, now)?;
    let mut verifs = store::verifications_tx(&mut tx, instance_id, id).await?;
    let Some(v) = verifs.iter_mut().find(|v| v.field == field) else {
        return Err(if row_has(&row, field) {
            Error::param_value_invalid("strategy", "No code was sent yet: call prepare_verification first.")
        } else {
            not_given(field)
        });
    };
    match v.status.as_str() {
        "verified" => return Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        "failed" => return Err(Error::new(ErrorCode::VerificationFailed)),
        "expired" => return Err(Error::new(ErrorCode::VerificationExpired)),
        _ => {}
    }
    if now >= v.expire_at {
        v.status = "expired".into();
    } else {
        v.attempts += 1;
        if constant_time_eq(&code_digest(ctx, &v.id, code), &v.code_digest) {
            v.status = "verified".into();
        } else if v.attempts >= MAX_ATTEMPTS {
            v.status = "failed".into();
        }
    }
    v.updated_at = now;
    store::update_verification(&mut tx, v).await?;
    let outcome = match v.status.as_str() {
        "verified" => None,
        "expired" => Some(Error::new(ErrorCode::VerificationExpired)),
        "failed" => Some(Error::new(ErrorCode::VerificationFailed)),
        _ => Some(Error::with(ErrorCode::FormCodeIncorrect, "is incorrect", "Incorrect code", Some("code"))),
    };
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    if let Some(refused) = outcome {
        // The attempt counts even though it failed.
        tx.commit().await?;
        return Err(refused);
    }
    let strategy = strategy_of(field);
    super::convert_if_ready(ctx, &mut tx, &mut row, &verifs, &settings, strategy, now).await?;
    tx.commit().await?;
    get_sign_up(ctx, instance_id, id).await
}

fn row_has(row: &tessera_store::sign_ups::SignUpRow, field: &str) -> bool {
    if field == identifiers::EMAIL { row.email_address.is_some() } else { row.phone_number.is_some() }
}
