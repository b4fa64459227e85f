//! `prepare_verification` / `attempt_verification` of email addresses and phone numbers: a 6-digit one-time
//! code, valid for 10 minutes and for at most [`MAX_ATTEMPTS`] attempts, stored only as a keyed digest bound to
//! its verification id, and delivered through [`crate::sender`].
//!
//! Test mode, the one rule every code flow (sign-ins, sign-ups, users' own identifiers) follows: with the
//! instance's `test_mode` on, Clerk's test identifiers — e-mail addresses with the `+clerk_test` subaddress and
//! phone numbers `+1 XXX 555-0100` … `+1 XXX 555-0199` — get the fixed code [`TEST_CODE`] and no message.

use serde_json::json;
use tessera_store::identifications::{self as store, VerificationRow};

use super::addresses::Kind;
use crate::crypto::constant_time_eq;
use crate::ids::{new_id, random_bytes};
use crate::instances::Instance;
use crate::sender::{self, Channel, TemplatedMessage};
use crate::{Ctx, Error, ErrorCode, Result};

/// Lifetime of a code (Clerk's one-time codes last 10 minutes).
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong codes accepted before the verification fails for good.
pub const MAX_ATTEMPTS: i64 = 5;

/// A verification as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeVerification {
    /// `ver_…`
    pub id: String,
    /// `email_code` / `phone_code`.
    pub strategy: String,
    /// `unverified`, `verified`, `failed` or `expired`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Unix ms.
    pub expire_at: i64,
    /// `sms` for phone codes.
    pub channel: Option<&'static str>,
}

fn view(v: &VerificationRow) -> CodeVerification {
    CodeVerification {
        id: v.id.clone(),
        strategy: v.strategy.clone(),
        status: v.status.clone(),
        attempts: v.attempts,
        expire_at: v.expire_at,
        channel: (v.strategy == "phone_code").then_some("sms"),
    }
}

fn strategy(kind: Kind) -> &'static str {
    match kind {
        Kind::Email => "email_code",
        Kind::Phone => "phone_code",
    }
}

/// The code test identifiers accept in test mode.
pub const TEST_CODE: &str = "424242";

/// Whether a value is one of Clerk's test identifiers: an e-mail address whose local part has `+clerk_test`, or a
/// phone number `+1XXX55501XX` (E.164, as stored).
pub fn is_test_identifier(value: &str) -> bool {
    if let Some((local, _)) = value.split_once('@') {
        return local.contains("+clerk_test");
    }
    let b = value.as_bytes();
    b.len() == 12 && value.starts_with("+1") && b[2..].iter().all(u8::is_ascii_digit) && &b[5..10] == b"55501"
}

/// Whether codes sent to `value` are the fixed [`TEST_CODE`] (and not sent): a test identifier on an instance in
/// test mode.
pub async fn test_code_applies(ctx: &Ctx, instance_id: &str, value: &str) -> Result<bool> {
    if !is_test_identifier(value) {
        return Ok(false);
    }
    Ok(crate::settings::instance_config(ctx, instance_id).await?.test_mode)
}

/// A uniformly random 6-digit code (rejection sampling, no modulo bias).
pub(crate) fn new_code() -> String {
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>());
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The digest of a code, bound to its verification so a digest cannot be moved to another one.
pub(crate) fn code_digest(ctx: &Ctx, verification_id: &str, code: &str) -> Vec<u8> {
    ctx.secrets.digest(&format!("verification-code:{verification_id}:{code}"))
}

/// Sends a new code to the identification and returns its (pending) verification.
pub async fn prepare(ctx: &Ctx, instance: &Instance, kind: Kind, id: &str) -> Result<CodeVerification> {
    let ident = super::addresses::get(ctx, &instance.id, kind, id).await?;
    let now = ctx.now_ms();
    let test = test_code_applies(ctx, &instance.id, &ident.value).await?;
    let code = if test { TEST_CODE.to_owned() } else { new_code() };
    let row = VerificationRow {
        id: new_id("ver"),
        instance_id: instance.id.clone(),
        identification_id: ident.id.clone(),
        strategy: strategy(kind).to_owned(),
        code_digest: Vec::new(),
        status: "unverified".into(),
        attempts: 0,
        expire_at: now + CODE_TTL_MS,
        created_at: now,
        updated_at: now,
    };
    let row = VerificationRow { code_digest: code_digest(ctx, &row.id, &code), ..row };
    let channel = match kind {
        Kind::Email => Channel::Email,
        Kind::Phone => Channel::Sms,
    };
    let msg = TemplatedMessage {
        channel,
        slug: "verification_code",
        to: ident.value.clone(),
        user_id: Some(ident.user_id.clone()),
        identification_id: Some(ident.id.clone()),
        data: json!({ "otp_code": code, "requested_at": sender::format_time(now) }),
    };
    // Rendering and any SMTP exchange happen before the transaction. Test identifiers get no message.
    let prepared = if test { None } else { Some(sender::prepare(ctx, instance, msg).await?) };
    let mut tx = ctx.db.begin().await?;
    // The identification may have been deleted meanwhile: the foreign key would fail, so check inside the tx.
    store::lock(&mut tx, &instance.id, kind.as_str(), id).await?.ok_or_else(|| Error::not_found(kind.as_str()))?;
    store::insert_verification(&mut tx, &row).await?;
    if let Some(prepared) = &prepared {
        sender::record(ctx, &mut tx, instance, prepared).await?;
    }
    tx.commit().await?;
    Ok(view(&row))
}

/// The latest verification prepared for an identification, if any (the identification itself changes only once a
/// code is right; the Frontend API shows the pending one on the objects it answers).
pub async fn latest(ctx: &Ctx, instance_id: &str, identification_id: &str) -> Result<Option<CodeVerification>> {
    Ok(store::latest_verification(&ctx.db, instance_id, identification_id).await?.as_ref().map(view))
}

/// [`attempt`] on the latest verification prepared for the identification (the Frontend API names none). Without
/// one, `verification_missing`: `prepare_verification` comes first.
pub async fn attempt_latest(
    ctx: &Ctx,
    instance_id: &str,
    kind: Kind,
    id: &str,
    code: &str,
) -> Result<CodeVerification> {
    let ident = super::addresses::get(ctx, instance_id, kind, id).await?;
    let latest = store::latest_verification(&ctx.db, instance_id, &ident.id).await?.ok_or_else(|| {
        Error::with(
            ErrorCode::VerificationMissing,
            ErrorCode::VerificationMissing.message(),
            ErrorCode::VerificationMissing.long_message(),
            Some("code"),
        )
    })?;
    attempt(ctx, instance_id, kind, id, &latest.id, code).await
}

/// Checks a code. A wrong or expired code is reported through the status (200), not as an error; a correct one
/// verifies the identification too (unless it already is verified).
pub async fn attempt(
    ctx: &Ctx,
    instance_id: &str,
    kind: Kind,
    id: &str,
    verification_id: &str,
    code: &str,
) -> Result<CodeVerification> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut ident = store::lock(&mut tx, instance_id, kind.as_str(), id)
        .await?
        .ok_or_else(|| Error::not_found(&kind.as_str().replace('_', " ")))?;
    let mut v = store::verification_tx(&mut tx, instance_id, id, verification_id)
        .await?
        .ok_or_else(|| Error::not_found("verification"))?;
    match v.status.as_str() {
        "verified" => return Err(Error::new(ErrorCode::VerificationAlreadyVerified)),
        "failed" | "expired" => return Ok(view(&v)),
        _ => {}
    }
    if now >= v.expire_at {
        v.status = "expired".into();
    } else {
        v.attempts += 1;
        let given = code.trim();
        if constant_time_eq(&code_digest(ctx, &v.id, given), &v.code_digest) {
            v.status = "verified".into();
        } else if v.attempts >= MAX_ATTEMPTS {
            v.status = "failed".into();
        }
    }
    v.updated_at = now;
    store::update_verification(&mut tx, &v).await?;
    if v.status == "verified" && ident.verification_status.as_deref() != Some("verified") {
        ident.verification_status = Some("verified".into());
        ident.verification_strategy = Some(v.strategy.clone());
        ident.verification_attempts = Some(v.attempts);
        ident.verification_expire_at = Some(v.expire_at);
        ident.reserved = false;
        ident.updated_at = now;
        super::identifiers::check_gmail_dots_tx(&mut tx, &ident).await?;
        store::update_state(&mut tx, &ident)
            .await
            .map_err(|e| if e.is_unique_violation() { Error::identifier_exists(kind.as_str()) } else { e.into() })?;
        super::emit_user(ctx, &mut tx, instance_id, &ident.user_id, crate::events::EventType::UserUpdated).await?;
    }
    tx.commit().await?;
    Ok(view(&v))
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_identifiers() {
        assert!(super::is_test_identifier("jane+clerk_test@example.com"));
        assert!(!super::is_test_identifier("jane@example.com"));
        assert!(super::is_test_identifier("+12015550100"));
        assert!(!super::is_test_identifier("+12015550200"));
        assert!(!super::is_test_identifier("+4420155501001"));
        assert!(!super::is_test_identifier("+1201555010é"));
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let c = super::new_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
