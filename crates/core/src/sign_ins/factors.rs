//! The factors of a sign-in: `prepare_first_factor` / `attempt_first_factor` (`password`, `email_code`,
//! `phone_code`) and `prepare_second_factor` / `attempt_second_factor` (`totp`, `backup_code`, `phone_code`).
//!
//! A code attempt is one transaction: the attempt counter, the verification's new status, the user's failed
//! verification count (wrong codes count toward the lockout like wrong passwords) and, for the factor that
//! finishes the sign-in, the session. A wrong code is `form_code_incorrect`, the attempt that uses up the last try
//! and any later one `verification_failed`, an expired code `verification_expired`; a verified code cannot be used
//! again.

use serde_json::json;
use tessera_store::sign_ins::{self as store, SignInRow};
use tessera_store::user_mfa;

pub use super::reset_password::reset_password;
pub use super::second_factor::{attempt_second_factor, prepare_second_factor};
use super::{SignIn, TEST_CODE, complete_tx, gate, not_found, status, view};
use crate::crypto::constant_time_eq;
use crate::instances::Instance;
use crate::sender::{self, Channel, TemplatedMessage};
use crate::sessions::SessionOptions;
use crate::users::credentials;
use crate::users::verification::{CODE_TTL_MS, MAX_ATTEMPTS, code_digest, new_code};
use crate::users::{Identification, User, lockout};
use crate::{Ctx, Error, ErrorCode, Result};

/// Strategies Clerk knows for sign-in factors that Tessera does not offer: asking for one is
/// `strategy_for_user_invalid`, any other value `form_param_value_invalid`.
const OTHER_CLERK_STRATEGIES: &[&str] = &[
    "email_link",
    "passkey",
    "saml",
    "enterprise_sso",
    "reset_password_email_code",
    "reset_password_phone_code",
    "web3_metamask_signature",
    "web3_base_signature",
    "web3_coinbase_wallet_signature",
    "web3_okx_wallet_signature",
    "web3_solana_signature",
    "google_one_tap",
    "trusted_device",
    "ticket",
    "totp",
    "backup_code",
    "password",
    "email_code",
    "phone_code",
];

/// The first factors Tessera offers.
const FIRST_FACTORS: &[&str] =
    &["password", "email_code", "phone_code", "reset_password_email_code", "reset_password_phone_code"];

/// Which verification of the attempt a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// The first factor.
    First,
    /// The second factor.
    Second,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::First => "first",
            Slot::Second => "second",
        }
    }

    /// The status the attempt must be in for this factor.
    fn due(self) -> &'static str {
        match self {
            Slot::First => status::NEEDS_FIRST_FACTOR,
            Slot::Second => status::NEEDS_SECOND_FACTOR,
        }
    }
}

/// The verification columns of one slot.
pub(crate) struct Code<'a> {
    pub(crate) strategy: &'a mut Option<String>,
    pub(crate) identification_id: &'a mut Option<String>,
    pub(crate) digest: &'a mut Option<Vec<u8>>,
    pub(crate) status: &'a mut Option<String>,
    pub(crate) attempts: &'a mut i64,
    pub(crate) expire_at: &'a mut Option<i64>,
}

pub(super) fn slot(row: &mut SignInRow, s: Slot) -> Code<'_> {
    match s {
        Slot::First => Code {
            strategy: &mut row.ff_strategy,
            identification_id: &mut row.ff_identification_id,
            digest: &mut row.ff_code_digest,
            status: &mut row.ff_status,
            attempts: &mut row.ff_attempts,
            expire_at: &mut row.ff_expire_at,
        },
        Slot::Second => Code {
            strategy: &mut row.sf_strategy,
            identification_id: &mut row.sf_identification_id,
            digest: &mut row.sf_code_digest,
            status: &mut row.sf_status,
            attempts: &mut row.sf_attempts,
            expire_at: &mut row.sf_expire_at,
        },
    }
}

/// The strategy parameter: missing, unknown to Clerk, or not one this factor offers.
pub(crate) fn parse_strategy(strategy: Option<&str>, offered: &[&'static str]) -> Result<&'static str> {
    let s = strategy.filter(|s| !s.is_empty()).ok_or_else(|| Error::param_missing("strategy"))?;
    if let Some(found) = offered.iter().find(|o| **o == s) {
        return Ok(found);
    }
    if OTHER_CLERK_STRATEGIES.contains(&s) || s.starts_with("oauth_") {
        return Err(strategy_invalid());
    }
    Err(Error::param_value_invalid("strategy", format!("strategy must be one of {}.", offered.join(", "))))
}

pub(crate) fn strategy_invalid() -> Error {
    Error::with(
        ErrorCode::StrategyForUserInvalid,
        ErrorCode::StrategyForUserInvalid.message(),
        ErrorCode::StrategyForUserInvalid.long_message(),
        Some("strategy"),
    )
}

pub(crate) fn code_incorrect() -> Error {
    Error::with(ErrorCode::FormCodeIncorrect, "Incorrect code", "Incorrect code", Some("code"))
}

/// Refuses a factor on an attempt that is not waiting for it.
pub(super) fn ensure_due(row: &SignInRow, s: Slot, now: i64) -> Result<()> {
    let current = super::effective_status(row, now);
    if current == s.due() {
        return Ok(());
    }
    Err(match current {
        status::COMPLETE | status::ABANDONED => Error::new(ErrorCode::SignInCannotBeUpdated),
        status::NEEDS_SECOND_FACTOR | status::NEEDS_NEW_PASSWORD => Error::new(ErrorCode::VerificationAlreadyVerified),
        _ => strategy_invalid(),
    })
}

pub(crate) fn is_verified(i: &Identification) -> bool {
    i.verification.as_ref().is_some_and(|v| v.status == "verified")
}

/// Checks a user's password for a sign-in (counting a failure toward the lockout).
pub(crate) async fn check_password(ctx: &Ctx, instance: &Instance, user: &User, password: String) -> Result<()> {
    if !user.password_enabled {
        return Err(strategy_invalid());
    }
    let incorrect = || {
        Error::with(
            ErrorCode::FormPasswordIncorrect,
            ErrorCode::FormPasswordIncorrect.message(),
            ErrorCode::FormPasswordIncorrect.long_message(),
            Some("password"),
        )
    };
    if password.len() > super::MAX_PASSWORD {
        return Err(incorrect());
    }
    match credentials::verify_password(ctx, &instance.id, &user.id, password).await {
        Ok(()) => Ok(()),
        Err(e) if e.code() == ErrorCode::FormPasswordIncorrect => Err(incorrect()),
        Err(e) if e.code() == ErrorCode::PasswordNotSet => Err(strategy_invalid()),
        Err(e) => Err(e),
    }
}

pub(super) async fn load(ctx: &Ctx, instance_id: &str, client_id: &str, id: &str) -> Result<(SignInRow, User)> {
    if id.len() > 64 {
        return Err(not_found());
    }
    let row = store::get(&ctx.db, instance_id, client_id, id).await?.ok_or_else(not_found)?;
    let uid = row.user_id.clone().ok_or_else(strategy_invalid)?;
    let user = crate::users::get_user(ctx, instance_id, &uid).await.map_err(|_| strategy_invalid())?;
    Ok((row, user))
}

/// Input of `prepare_first_factor` / `prepare_second_factor`.
#[derive(Debug, Default)]
pub struct Prepare {
    /// The strategy.
    pub strategy: Option<String>,
    /// For `email_code`: which address (default: the one typed, else the primary one).
    pub email_address_id: Option<String>,
    /// For `phone_code`: which number.
    pub phone_number_id: Option<String>,
    /// For `enterprise_sso` / `saml`: where the browser returns, and the Frontend API base URL.
    pub sso: Option<crate::enterprise_sso::Start>,
}

/// Input of `attempt_first_factor` / `attempt_second_factor`.
#[derive(Debug, Default)]
pub struct Attempt {
    /// The strategy.
    pub strategy: Option<String>,
    /// For code strategies.
    pub code: Option<String>,
    /// For `password`.
    pub password: Option<String>,
}

/// Picks the identification a code goes to: the one asked for (which must be one the factor offers), else the
/// one typed, else the primary one, else the first.
pub(crate) fn pick<'u>(
    candidates: Vec<&'u Identification>,
    asked: Option<&str>,
    param: &str,
    typed: Option<&str>,
    primary: Option<&str>,
) -> Result<&'u Identification> {
    if let Some(asked) = asked.filter(|a| !a.is_empty()) {
        return candidates.into_iter().find(|i| i.id == asked).ok_or_else(|| {
            Error::param_value_invalid(param, format!("{param} is not one of this account's factors."))
        });
    }
    let typed_key = typed.map(|t| t.trim().to_lowercase());
    candidates
        .iter()
        .find(|i| {
            typed_key.as_deref().is_some_and(|t| t == i.value || crate::users::identifiers::phone_key(t) == i.value)
        })
        .or_else(|| candidates.iter().find(|i| Some(i.id.as_str()) == primary))
        .or_else(|| candidates.first())
        .copied()
        .ok_or_else(strategy_invalid)
}

/// Sends a new code for a slot (replacing any earlier one) and records it on the attempt.
pub(super) async fn send_code(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    s: Slot,
    strategy: &'static str,
    to: &Identification,
) -> Result<SignIn> {
    let now = ctx.now_ms();
    let test = crate::users::verification::test_code_applies(ctx, &instance.id, &to.value).await?;
    let code = if test { TEST_CODE.to_owned() } else { new_code() };
    let prepared = if test {
        None
    } else {
        let msg = TemplatedMessage {
            channel: if strategy.ends_with("phone_code") { Channel::Sms } else { Channel::Email },
            slug: "verification_code",
            to: to.value.clone(),
            user_id: Some(to.user_id.clone()),
            identification_id: Some(to.id.clone()),
            data: json!({ "otp_code": code, "requested_at": sender::format_time(now) }),
        };
        // Rendering and any SMTP exchange happen before the transaction (they must not hold the writer).
        Some(sender::prepare(ctx, instance, msg).await?)
    };
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    ensure_due(&row, s, now)?;
    let c = slot(&mut row, s);
    *c.strategy = Some(strategy.to_owned());
    *c.identification_id = Some(to.id.clone());
    *c.digest = Some(code_digest(ctx, &format!("sign-in:{id}:{}", s.name()), &code));
    *c.status = Some("unverified".into());
    *c.attempts = 0;
    *c.expire_at = Some(now + CODE_TTL_MS);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    if let Some(p) = &prepared {
        sender::record(ctx, &mut tx, instance, p).await?;
    }
    tx.commit().await?;
    view(ctx, row).await
}

/// `POST /v1/client/sign_ins/{id}/prepare_first_factor`.
pub async fn prepare_first_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    input: Prepare,
) -> Result<SignIn> {
    if let Some(s) = input.strategy.as_deref().filter(|s| crate::enterprise_sso::STRATEGIES.contains(s)) {
        let start = input.sso.ok_or_else(|| Error::param_missing("redirect_url"))?;
        return super::prepare_sso(ctx, instance, client_id, id, s, start).await;
    }
    let strategy = parse_strategy(input.strategy.as_deref(), FIRST_FACTORS)?;
    let (row, user) = load(ctx, &instance.id, client_id, id).await?;
    ensure_due(&row, Slot::First, ctx.now_ms())?;
    gate(&user)?;
    if strategy.starts_with("reset_password") && !user.password_enabled {
        return Err(strategy_invalid());
    }
    let typed = row.identifier.as_deref();
    match strategy {
        "email_code" | "reset_password_email_code" => {
            let candidates = user.email_addresses.iter().filter(|i| is_verified(i)).collect();
            let asked = input.email_address_id.as_deref();
            let to = pick(candidates, asked, "email_address_id", typed, user.primary_email_address_id.as_deref())?;
            send_code(ctx, instance, client_id, id, Slot::First, strategy, to).await
        }
        "phone_code" | "reset_password_phone_code" => {
            let candidates = user.phone_numbers.iter().filter(|i| is_verified(i)).collect();
            let asked = input.phone_number_id.as_deref();
            let to = pick(candidates, asked, "phone_number_id", typed, user.primary_phone_number_id.as_deref())?;
            send_code(ctx, instance, client_id, id, Slot::First, strategy, to).await
        }
        _ => {
            if !user.password_enabled {
                return Err(strategy_invalid());
            }
            let now = ctx.now_ms();
            let mut tx = ctx.db.begin().await?;
            let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
            ensure_due(&row, Slot::First, now)?;
            let c = slot(&mut row, Slot::First);
            *c.strategy = Some("password".into());
            *c.identification_id = None;
            *c.digest = None;
            *c.status = Some("unverified".into());
            *c.attempts = 0;
            *c.expire_at = None;
            row.updated_at = now;
            store::update(&mut tx, &row).await?;
            tx.commit().await?;
            view(ctx, row).await
        }
    }
}

/// `POST /v1/client/sign_ins/{id}/attempt_first_factor`.
pub async fn attempt_first_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    input: Attempt,
) -> Result<SignIn> {
    let strategy = parse_strategy(input.strategy.as_deref(), FIRST_FACTORS)?;
    let (row, user) = load(ctx, &instance.id, client_id, id).await?;
    ensure_due(&row, Slot::First, ctx.now_ms())?;
    gate(&user)?;
    if strategy != "password" {
        return attempt_code(ctx, instance, client_id, id, Slot::First, strategy, input.code, &user).await;
    }
    let password = input.password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("password"))?;
    check_password(ctx, instance, &user, password).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    ensure_due(&row, Slot::First, now)?;
    let c = slot(&mut row, Slot::First);
    *c.strategy = Some("password".into());
    *c.identification_id = None;
    *c.digest = None;
    *c.status = Some("verified".into());
    *c.expire_at = None;
    finish_first_tx(ctx, &mut tx, &mut client, &mut row, &user, "password", now).await?;
    tx.commit().await?;
    view(ctx, row).await
}

/// After a verified first factor: the second factor is due, or the attempt completes.
async fn finish_first_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    client: &mut tessera_store::browser_clients::BrowserClientRow,
    row: &mut SignInRow,
    user: &User,
    strategy: &str,
    now: i64,
) -> Result<()> {
    if strategy.starts_with("reset_password") {
        row.status = status::NEEDS_NEW_PASSWORD.into();
        row.updated_at = now;
        store::update(tx, row).await?;
        return Ok(());
    }
    if user.two_factor_enabled {
        row.status = status::NEEDS_SECOND_FACTOR.into();
        row.updated_at = now;
        store::update(tx, row).await?;
        return Ok(());
    }
    complete_tx(ctx, tx, client, row, strategy, SessionOptions::default(), now).await
}

/// Checks a code for a slot (see the module documentation).
#[allow(clippy::too_many_arguments)]
pub(super) async fn attempt_code(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    id: &str,
    s: Slot,
    strategy: &'static str,
    code: Option<String>,
    user: &User,
) -> Result<SignIn> {
    let code =
        code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    if code.len() > 64 {
        return Err(code_incorrect());
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = crate::browser_clients::lock(&mut tx, &instance.id, client_id).await?;
    let mut row = store::lock(&mut tx, &instance.id, client_id, id).await?.ok_or_else(not_found)?;
    ensure_due(&row, s, now)?;
    let user_row =
        tessera_store::users::lock(&mut tx, &instance.id, &user.id).await?.ok_or_else(crate::users::not_found)?;
    if user_row.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    if user_row.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
    }
    let lock = lockout::LockState::of(&user_row, now);
    if lock.locked {
        return Err(lock.error());
    }
    let binding = format!("sign-in:{id}:{}", s.name());
    let (outcome, wrong) = check_code(ctx, slot(&mut row, s), strategy, &binding, &code, "this sign-in", now)?;
    row.updated_at = now;
    if let Some(refused) = outcome {
        store::update(&mut tx, &row).await?;
        if wrong {
            user_mfa::record_failed_attempt(
                &mut tx,
                &instance.id,
                &user.id,
                lockout::MAX_ATTEMPTS,
                lockout::LOCKOUT_SECONDS * 1000,
                now,
            )
            .await?;
        }
        // The attempt counts even though it failed.
        tx.commit().await?;
        return Err(refused);
    }
    user_mfa::clear_expired_lock(&mut tx, &instance.id, &user.id, now).await?;
    user_mfa::reset_failed_attempts(&mut tx, &instance.id, &user.id).await?;
    match s {
        Slot::First => finish_first_tx(ctx, &mut tx, &mut client, &mut row, user, strategy, now).await?,
        Slot::Second => {
            let first = row.ff_strategy.clone().unwrap_or_else(|| strategy.to_owned());
            let opts = SessionOptions { second_factor_verified: true, ..SessionOptions::default() };
            complete_tx(ctx, &mut tx, &mut client, &mut row, &first, opts, now).await?;
        }
    }
    tx.commit().await?;
    view(ctx, row).await
}

/// Checks `code` against the code a slot holds for `strategy` at `now`, updating the slot (attempts, status; a
/// verified code is cleared, good once). `Ok((None, _))` is verified; `Ok((Some(refusal), wrong))` is refused (the
/// caller still writes the slot, and counts a `wrong` code toward the user's lockout); `Err` is refused without
/// any change (nothing was sent for this strategy, or the verification is already over).
pub(crate) fn check_code(
    ctx: &Ctx,
    c: Code<'_>,
    strategy: &str,
    binding: &str,
    code: &str,
    what: &str,
    now: i64,
) -> Result<(Option<Error>, bool)> {
    let (Some(digest), true) = (c.digest.clone(), c.strategy.as_deref() == Some(strategy)) else {
        return Err(Error::param_value_invalid(
            "strategy",
            format!("No {strategy} was sent for {what}: prepare the factor first."),
        ));
    };
    match c.status.as_deref() {
        Some("verified") => return Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        Some("failed") => return Err(Error::new(ErrorCode::VerificationFailed)),
        Some("expired") => return Err(Error::new(ErrorCode::VerificationExpired)),
        _ => {}
    }
    let mut wrong = false;
    if c.expire_at.is_none_or(|e| now >= e) {
        *c.status = Some("expired".into());
    } else {
        *c.attempts += 1;
        if constant_time_eq(&code_digest(ctx, binding, code), &digest) {
            *c.status = Some("verified".into());
            // A code is good once.
            *c.digest = None;
        } else {
            wrong = true;
            if *c.attempts >= MAX_ATTEMPTS {
                *c.status = Some("failed".into());
            }
        }
    }
    let outcome = match c.status.as_deref() {
        Some("verified") => None,
        Some("expired") => Some(Error::new(ErrorCode::VerificationExpired)),
        Some("failed") => Some(Error::new(ErrorCode::VerificationFailed)),
        _ => Some(code_incorrect()),
    };
    Ok((outcome, wrong))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies() {
        assert_eq!(parse_strategy(Some("totp"), &["totp"]).ok(), Some("totp"));
        assert_eq!(parse_strategy(None, &["totp"]).err().map(|e| e.code()), Some(ErrorCode::FormParamMissing));
        assert_eq!(
            parse_strategy(Some("email_link"), &["totp"]).err().map(|e| e.code()),
            Some(ErrorCode::StrategyForUserInvalid)
        );
        assert_eq!(
            parse_strategy(Some("nope"), &["totp"]).err().map(|e| e.code()),
            Some(ErrorCode::FormParamValueInvalid)
        );
    }
}
