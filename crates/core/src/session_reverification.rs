//! Session reverification (clerk-js `session.startVerification` and its factor steps, the Frontend API's
//! `/v1/client/sessions/{id}/verify…`): a signed-in user proves a factor again, and the session's factor
//! verification age (the `fva` claim of its tokens, `[minutes since first factor, minutes since second factor]`)
//! starts over for the factors verified.
//!
//! - start with a `level`: `first_factor` → `needs_first_factor`; `second_factor` → `needs_second_factor`;
//!   `multi_factor` → first, then second. A user without a second factor is asked for the first factor instead
//!   (as Clerk does). Starting again replaces the reverification in progress.
//! - first factor: `password` (counted toward the lockout like a sign-in's), `email_code`, `phone_code`; second
//!   factor: `totp`, `backup_code`, `phone_code` (to a second-factor phone). Codes follow the sign-in rules
//!   (six digits, ten minutes, five attempts, keyed digests, constant-time comparison, test-mode `424242`; a wrong
//!   code counts toward the lockout).
//! - each verified factor is recorded on the session in the same transaction as the step that verified it.

use serde_json::json;
use tessera_store::session_reverifications::{self as store, ReverificationRow};
use tessera_store::user_mfa;

use crate::instances::Instance;
use crate::sender::{self, Channel, TemplatedMessage};
use crate::sessions::{Session, status as session_status};
use crate::sign_ins::factors::{Code, check_code, check_password, code_incorrect, is_verified, parse_strategy, pick};
use crate::sign_ins::{Factor, FactorVerification, TEST_CODE, first_factors, second_factors};
use crate::users::credentials::{self, CodeType};
use crate::users::verification::{CODE_TTL_MS, code_digest, new_code};
use crate::users::{Identification, User, lockout};
use crate::{Ctx, Error, ErrorCode, Result};

/// Levels a reverification can ask for.
pub mod level {
    /// A first factor.
    pub const FIRST_FACTOR: &str = "first_factor";
    /// A second factor.
    pub const SECOND_FACTOR: &str = "second_factor";
    /// A first factor, then a second factor.
    pub const MULTI_FACTOR: &str = "multi_factor";
}

/// Statuses as the API shows them.
pub mod status {
    /// A first factor is due.
    pub const NEEDS_FIRST_FACTOR: &str = "needs_first_factor";
    /// A second factor is due.
    pub const NEEDS_SECOND_FACTOR: &str = "needs_second_factor";
    /// Every factor of the level was verified.
    pub const COMPLETE: &str = "complete";
}

/// The first factors a reverification offers.
const FIRST: &[&str] = &["password", "email_code", "phone_code"];
/// The second factors a reverification offers.
const SECOND: &[&str] = &["totp", "backup_code", "phone_code"];

/// A session reverification as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reverification {
    /// See [`level`] (after falling back for a user without a second factor).
    pub level: &'static str,
    /// See [`status`].
    pub status: &'static str,
    /// The user's first factors.
    pub supported_first_factors: Vec<Factor>,
    /// The user's second factors (`None` when the level asks for none or the user has none).
    pub supported_second_factors: Option<Vec<Factor>>,
    /// The current first-factor verification.
    pub first_factor_verification: Option<FactorVerification>,
    /// The current second-factor verification.
    pub second_factor_verification: Option<FactorVerification>,
    /// The session, after the step.
    pub session: Session,
}

fn parse_level(level: Option<&str>) -> Result<&'static str> {
    match level.filter(|l| !l.is_empty()) {
        None => Err(Error::param_missing("level")),
        Some(level::FIRST_FACTOR) => Ok(level::FIRST_FACTOR),
        Some(level::SECOND_FACTOR) => Ok(level::SECOND_FACTOR),
        Some(level::MULTI_FACTOR) => Ok(level::MULTI_FACTOR),
        Some(_) => {
            Err(Error::param_value_invalid("level", "level must be one of first_factor, second_factor, multi_factor."))
        }
    }
}

fn stored_level(level: &str) -> &'static str {
    match level {
        level::SECOND_FACTOR => level::SECOND_FACTOR,
        level::MULTI_FACTOR => level::MULTI_FACTOR,
        _ => level::FIRST_FACTOR,
    }
}

fn stored_status(status: &str) -> &'static str {
    match status {
        status::NEEDS_SECOND_FACTOR => status::NEEDS_SECOND_FACTOR,
        status::COMPLETE => status::COMPLETE,
        _ => status::NEEDS_FIRST_FACTOR,
    }
}

/// 422 for a factor step on a session with no reverification started.
fn not_started() -> Error {
    Error::with(
        ErrorCode::VerificationMissing,
        ErrorCode::VerificationMissing.message(),
        "No reverification was started for this session: start one first.",
        None,
    )
}

fn verification(
    strategy: &Option<String>,
    status: &Option<String>,
    attempts: i64,
    expire_at: Option<i64>,
) -> Option<FactorVerification> {
    let strategy = strategy.clone()?;
    let code = strategy.ends_with("_code") && strategy != "backup_code";
    Some(FactorVerification {
        status: status.clone().unwrap_or_else(|| "unverified".into()),
        attempts: code.then_some(attempts),
        expire_at: if code { expire_at } else { None },
        strategy,
        external_verification_redirect_url: None,
    })
}

/// The reverification's first factors: the user's sign-in factors without the reset-password ones.
fn offered_first_factors(user: &User) -> Vec<Factor> {
    first_factors(user, None).into_iter().filter(|f| !f.strategy.starts_with("reset_password")).collect()
}

fn view(row: &ReverificationRow, user: &User, session: Session) -> Reverification {
    let level = stored_level(&row.level);
    let second = second_factors(user);
    Reverification {
        level,
        status: stored_status(&row.status),
        supported_first_factors: offered_first_factors(user),
        supported_second_factors: (level != level::FIRST_FACTOR && !second.is_empty()).then_some(second),
        first_factor_verification: verification(&row.ff_strategy, &row.ff_status, row.ff_attempts, row.ff_expire_at),
        second_factor_verification: verification(&row.sf_strategy, &row.sf_status, row.sf_attempts, row.sf_expire_at),
        session,
    }
}

/// The session (on `client_id`, active) and its user. Another client's or an unknown session is a 404; a
/// session no longer active is `signed_out`.
async fn live(ctx: &Ctx, instance_id: &str, client_id: &str, session_id: &str) -> Result<(Session, User)> {
    let row = tessera_store::sessions::get_session(&ctx.db, instance_id, session_id)
        .await?
        .filter(|s| s.client_id == client_id)
        .ok_or_else(crate::sessions::not_found)?;
    let session = Session::from_row(row, ctx.now_ms());
    if session.status != session_status::ACTIVE {
        return Err(Error::new(ErrorCode::SignedOut));
    }
    let user = crate::users::get_user(ctx, instance_id, &session.user_id).await?;
    Ok((session, user))
}

/// Re-reads the session inside `tx` after a step.
async fn session_tx(ctx: &Ctx, tx: &mut tessera_store::Tx, instance_id: &str, session_id: &str) -> Result<Session> {
    let row = tessera_store::sessions::get_session_tx(tx, instance_id, session_id)
        .await?
        .ok_or_else(crate::sessions::not_found)?;
    Ok(Session::from_row(row, ctx.now_ms()))
}

/// `POST /v1/client/sessions/{id}/verify`: starts a reverification at `level`.
pub async fn start(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    session_id: &str,
    level: Option<&str>,
) -> Result<Reverification> {
    let asked = parse_level(level)?;
    let (_, user) = live(ctx, instance_id, client_id, session_id).await?;
    let level =
        if asked != level::FIRST_FACTOR && second_factors(&user).is_empty() { level::FIRST_FACTOR } else { asked };
    let now = ctx.now_ms();
    let row = ReverificationRow {
        session_id: session_id.to_owned(),
        instance_id: instance_id.to_owned(),
        level: level.to_owned(),
        status: if level == level::SECOND_FACTOR { status::NEEDS_SECOND_FACTOR } else { status::NEEDS_FIRST_FACTOR }
            .to_owned(),
        created_at: now,
        updated_at: now,
        ..ReverificationRow::default()
    };
    let mut tx = ctx.db.begin().await?;
    store::replace(&mut tx, &row).await?;
    let session = session_tx(ctx, &mut tx, instance_id, session_id).await?;
    tx.commit().await?;
    Ok(view(&row, &user, session))
}

/// Which verification of the reverification a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    First,
    Second,
}

fn slot(row: &mut ReverificationRow, s: Slot) -> Code<'_> {
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

/// Refuses a step the reverification is not waiting for.
fn ensure_due(row: &ReverificationRow, s: Slot) -> Result<()> {
    let due = match s {
        Slot::First => status::NEEDS_FIRST_FACTOR,
        Slot::Second => status::NEEDS_SECOND_FACTOR,
    };
    match stored_status(&row.status) {
        current if current == due => Ok(()),
        status::COMPLETE => Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        status::NEEDS_SECOND_FACTOR => Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        _ => Err(crate::sign_ins::factors::strategy_invalid()),
    }
}

/// The reverification of a live session, due for slot `s`.
async fn due(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    session_id: &str,
    s: Slot,
) -> Result<(ReverificationRow, User)> {
    let (_, user) = live(ctx, instance_id, client_id, session_id).await?;
    let row = store::get(&ctx.db, instance_id, session_id).await?.ok_or_else(not_started)?;
    ensure_due(&row, s)?;
    Ok((row, user))
}

/// The prepare and attempt inputs are a sign-in's: the same strategies, codes and password.
pub use crate::sign_ins::factors::{Attempt, Prepare};

/// `POST …/verify/prepare_first_factor`: sends a code (`email_code`, `phone_code`) to one of the user's verified
/// addresses or numbers.
pub async fn prepare_first_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    session_id: &str,
    input: Prepare,
) -> Result<Reverification> {
    let strategy = parse_strategy(input.strategy.as_deref(), &["email_code", "phone_code"])?;
    let (_, user) = due(ctx, &instance.id, client_id, session_id, Slot::First).await?;
    let to = if strategy == "email_code" {
        let candidates = user.email_addresses.iter().filter(|i| is_verified(i)).collect();
        let primary = user.primary_email_address_id.as_deref();
        pick(candidates, input.email_address_id.as_deref(), "email_address_id", None, primary)?
    } else {
        let candidates = user.phone_numbers.iter().filter(|i| is_verified(i)).collect();
        let primary = user.primary_phone_number_id.as_deref();
        pick(candidates, input.phone_number_id.as_deref(), "phone_number_id", None, primary)?
    };
    send_code(ctx, instance, session_id, Slot::First, strategy, to, &user).await
}

/// `POST …/verify/prepare_second_factor`: sends a code to a second-factor phone (`phone_code`, the default).
pub async fn prepare_second_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    session_id: &str,
    input: Prepare,
) -> Result<Reverification> {
    let strategy = match input.strategy.as_deref().filter(|s| !s.is_empty()) {
        None => "phone_code",
        asked => parse_strategy(asked, &["phone_code"])?,
    };
    let (_, user) = due(ctx, &instance.id, client_id, session_id, Slot::Second).await?;
    let candidates: Vec<_> = user.phone_numbers.iter().filter(|p| p.reserved_for_second_factor).collect();
    let default = candidates.iter().find(|p| p.default_second_factor).map(|p| p.id.clone());
    let to = pick(candidates, input.phone_number_id.as_deref(), "phone_number_id", None, default.as_deref())?;
    send_code(ctx, instance, session_id, Slot::Second, strategy, to, &user).await
}

/// Sends a new code for a slot (replacing any earlier one) and records it on the reverification.
async fn send_code(
    ctx: &Ctx,
    instance: &Instance,
    session_id: &str,
    s: Slot,
    strategy: &'static str,
    to: &Identification,
    user: &User,
) -> Result<Reverification> {
    let now = ctx.now_ms();
    let test = crate::users::verification::test_code_applies(ctx, &instance.id, &to.value).await?;
    let code = if test { TEST_CODE.to_owned() } else { new_code() };
    let prepared = if test {
        None
    } else {
        let msg = TemplatedMessage {
            channel: if strategy == "phone_code" { Channel::Sms } else { Channel::Email },
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
    let mut row = store::lock(&mut tx, &instance.id, session_id).await?.ok_or_else(not_started)?;
    ensure_due(&row, s)?;
    let binding = binding(session_id, row.created_at, s);
    let c = slot(&mut row, s);
    *c.strategy = Some(strategy.to_owned());
    *c.identification_id = Some(to.id.clone());
    *c.digest = Some(code_digest(ctx, &binding, &code));
    *c.status = Some("unverified".into());
    *c.attempts = 0;
    *c.expire_at = Some(now + CODE_TTL_MS);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    if let Some(p) = &prepared {
        sender::record(ctx, &mut tx, instance, p).await?;
    }
    let session = session_tx(ctx, &mut tx, &instance.id, session_id).await?;
    tx.commit().await?;
    Ok(view(&row, user, session))
}

/// What a code is bound to: the session, the reverification (its start time) and the slot, so that a code
/// is good for nothing else.
fn binding(session_id: &str, started_at: i64, s: Slot) -> String {
    let slot = if s == Slot::First { "first" } else { "second" };
    format!("reverify:{session_id}:{started_at}:{slot}")
}

/// `POST …/verify/attempt_first_factor`: `password`, or a code sent by the prepare step.
pub async fn attempt_first_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    session_id: &str,
    input: Attempt,
) -> Result<Reverification> {
    let strategy = parse_strategy(input.strategy.as_deref(), FIRST)?;
    let (_, user) = due(ctx, &instance.id, client_id, session_id, Slot::First).await?;
    if strategy != "password" {
        return attempt_code(ctx, instance, session_id, Slot::First, strategy, input.code, &user).await;
    }
    let password = input.password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("password"))?;
    check_password(ctx, instance, &user, password).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, session_id).await?.ok_or_else(not_started)?;
    ensure_due(&row, Slot::First)?;
    let c = slot(&mut row, Slot::First);
    *c.strategy = Some("password".into());
    *c.identification_id = None;
    *c.digest = None;
    *c.status = Some("verified".into());
    *c.expire_at = None;
    verified_tx(&mut tx, &mut row, Slot::First, now).await?;
    let session = session_tx(ctx, &mut tx, &instance.id, session_id).await?;
    tx.commit().await?;
    Ok(view(&row, &user, session))
}

/// `POST …/verify/attempt_second_factor`: `totp`, `backup_code` (used up), or a code sent to a second-factor phone.
pub async fn attempt_second_factor(
    ctx: &Ctx,
    instance: &Instance,
    client_id: &str,
    session_id: &str,
    input: Attempt,
) -> Result<Reverification> {
    let strategy = parse_strategy(input.strategy.as_deref(), SECOND)?;
    let (_, user) = due(ctx, &instance.id, client_id, session_id, Slot::Second).await?;
    let kind = match strategy {
        "phone_code" => {
            return attempt_code(ctx, instance, session_id, Slot::Second, strategy, input.code, &user).await;
        }
        "totp" if user.totp_enabled => CodeType::Totp,
        "backup_code" if user.backup_code_enabled => CodeType::BackupCode,
        _ => return Err(crate::sign_ins::factors::strategy_invalid()),
    };
    let code = input.code.filter(|c| !c.trim().is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    if code.len() > 64 {
        return Err(code_incorrect());
    }
    match credentials::verify_second_factor(ctx, &instance.id, &user.id, code, Some(kind)).await {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::FormCodeIncorrect => return Err(code_incorrect()),
        Err(e) if e.code() == ErrorCode::TotpNotEnabled => return Err(crate::sign_ins::factors::strategy_invalid()),
        Err(e) => return Err(e),
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, session_id).await?.ok_or_else(not_started)?;
    ensure_due(&row, Slot::Second)?;
    let c = slot(&mut row, Slot::Second);
    *c.strategy = Some(strategy.to_owned());
    *c.identification_id = None;
    *c.digest = None;
    *c.status = Some("verified".into());
    *c.expire_at = None;
    verified_tx(&mut tx, &mut row, Slot::Second, now).await?;
    let session = session_tx(ctx, &mut tx, &instance.id, session_id).await?;
    tx.commit().await?;
    Ok(view(&row, &user, session))
}

/// After a verified factor: records it on the session and moves the reverification on (the second factor of a
/// `multi_factor` level is due next; otherwise it is complete).
async fn verified_tx(tx: &mut tessera_store::Tx, row: &mut ReverificationRow, s: Slot, now: i64) -> Result<()> {
    let (first, second) = if s == Slot::First { (Some(now), None) } else { (None, Some(now)) };
    tessera_store::sessions::record_factor_verification(tx, &row.instance_id, &row.session_id, first, second).await?;
    let next = if s == Slot::First && stored_level(&row.level) == level::MULTI_FACTOR {
        status::NEEDS_SECOND_FACTOR
    } else {
        status::COMPLETE
    };
    row.status = next.to_owned();
    row.updated_at = now;
    store::update(tx, row).await?;
    Ok(())
}

/// Checks a code for a slot: one transaction for the attempt counter, the verification's status, the user's
/// failed-attempt count (a wrong code counts toward the lockout) and, when verified, the session's factor time.
async fn attempt_code(
    ctx: &Ctx,
    instance: &Instance,
    session_id: &str,
    s: Slot,
    strategy: &'static str,
    code: Option<String>,
    user: &User,
) -> Result<Reverification> {
    let code =
        code.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).ok_or_else(|| Error::param_missing("code"))?;
    if code.len() > 64 {
        return Err(code_incorrect());
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, &instance.id, session_id).await?.ok_or_else(not_started)?;
    ensure_due(&row, s)?;
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
    let binding = binding(session_id, row.created_at, s);
    let (outcome, wrong) = check_code(ctx, slot(&mut row, s), strategy, &binding, &code, "this verification", now)?;
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
    verified_tx(&mut tx, &mut row, s, now).await?;
    let session = session_tx(ctx, &mut tx, &instance.id, session_id).await?;
    tx.commit().await?;
    Ok(view(&row, user, session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(parse_level(Some("multi_factor")).ok(), Some(level::MULTI_FACTOR));
        assert_eq!(parse_level(None).err().map(|e| e.code()), Some(ErrorCode::FormParamMissing));
        assert_eq!(parse_level(Some("L1.firstFactor")).err().map(|e| e.code()), Some(ErrorCode::FormParamValueInvalid));
    }
}
