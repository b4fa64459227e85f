//! Credentials of a user: password verification with lockout, TOTP and backup codes, and their removal.

use aws_lc_rs::hmac;

use super::create::TOTP_PURPOSE;
use super::hashers::Hasher;
use super::{User, get_user, identifiers, lockout, not_found, passwords};
use crate::crypto::constant_time_eq;
use crate::events::EventType;
use crate::{Ctx, Error, ErrorCode, Result};
use tessera_store::user_mfa;

/// TOTP time step, seconds (RFC 6238 default, as Clerk).
pub const TOTP_STEP_SECONDS: i64 = 30;

/// Counts a failed verification (atomically) and answers `error`.
async fn fail(ctx: &Ctx, instance_id: &str, id: &str, error: Error) -> Result<Error> {
    let mut tx = ctx.db.begin().await?;
    user_mfa::record_failed_attempt(
        &mut tx,
        instance_id,
        id,
        lockout::MAX_ATTEMPTS,
        lockout::LOCKOUT_SECONDS * 1000,
        ctx.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(error)
}

async fn succeed(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    user_mfa::clear_expired_lock(&mut tx, instance_id, id, ctx.now_ms()).await?;
    user_mfa::reset_failed_attempts(&mut tx, instance_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a user's password. Failures count toward the lockout; a locked user is refused without checking. A
/// correct password resets the failed attempts and rehashes an imported digest with argon2id.
pub async fn verify_password(ctx: &Ctx, instance_id: &str, id: &str, password: String) -> Result<()> {
    let row = tessera_store::users::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    let state = lockout::LockState::of(&row, ctx.now_ms());
    if state.locked {
        return Err(state.error());
    }
    let (Some(digest), Some(hasher)) = (row.password_digest, row.password_hasher.as_deref().and_then(Hasher::parse))
    else {
        return Err(Error::new(ErrorCode::PasswordNotSet));
    };
    if !passwords::verify(hasher, digest.clone(), password.clone()).await? {
        return Err(fail(ctx, instance_id, id, Error::new(ErrorCode::FormPasswordIncorrect)).await?);
    }
    // Hash before the transaction; the update only applies if the digest did not change meanwhile.
    let rehash = if hasher == Hasher::Argon2id && digest.starts_with("$argon2id$v=19$m=19456,t=2,p=1$") {
        None
    } else {
        Some(passwords::hash(password).await?)
    };
    let mut tx = ctx.db.begin().await?;
    user_mfa::clear_expired_lock(&mut tx, instance_id, id, ctx.now_ms()).await?;
    user_mfa::reset_failed_attempts(&mut tx, instance_id, id).await?;
    if let Some(new) = &rehash {
        user_mfa::rehash_password(&mut tx, instance_id, id, &digest, new).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The 6-digit TOTP code of `key` at time step `step` (RFC 6238, HMAC-SHA1).
pub fn totp_code(key: &[u8], step: i64) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key), &step.to_be_bytes());
    let h = tag.as_ref();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    format!("{:06}", bin % 1_000_000)
}

/// Which kind of code [`verify_totp`] accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeType {
    /// A TOTP code.
    Totp,
    /// A backup code (now consumed).
    BackupCode,
}

/// Checks a TOTP code (current step ±1, each step accepted once) or a backup code (consumed on use).
pub async fn verify_totp(ctx: &Ctx, instance_id: &str, id: &str, code: String) -> Result<CodeType> {
    verify_second_factor(ctx, instance_id, id, code, None).await
}

/// [`verify_totp`] accepting only one kind of code when `only` says so (a sign-in's `totp` strategy does not
/// consume backup codes, nor `backup_code` accept TOTP codes). Failures count toward the lockout.
pub async fn verify_second_factor(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    code: String,
    only: Option<CodeType>,
) -> Result<CodeType> {
    let totp_allowed = only != Some(CodeType::BackupCode);
    let backup_allowed = only != Some(CodeType::Totp);
    let row = tessera_store::users::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    let now = ctx.now_ms();
    let state = lockout::LockState::of(&row, now);
    if state.locked {
        return Err(state.error());
    }
    let backup = if backup_allowed { user_mfa::backup_codes(&ctx.db, instance_id, id).await? } else { Vec::new() };
    let totp_secret = row.totp_secret_sealed.as_ref().filter(|_| totp_allowed);
    if totp_secret.is_none() && backup.is_empty() {
        return Err(Error::new(ErrorCode::TotpNotEnabled));
    }
    let code = code.trim().to_owned();
    if let Some(sealed) = totp_secret {
        let key = ctx.secrets.open(TOTP_PURPOSE, sealed).map_err(Error::internal)?;
        let current = now.div_euclid(TOTP_STEP_SECONDS * 1000);
        let matched = [current - 1, current, current + 1]
            .into_iter()
            .filter(|s| *s >= 0)
            .find(|s| constant_time_eq(totp_code(&key, *s).as_bytes(), code.as_bytes()));
        if let Some(step) = matched {
            let mut tx = ctx.db.begin().await?;
            let fresh = user_mfa::use_totp_step(&mut tx, instance_id, id, step).await?;
            tx.commit().await?;
            if fresh {
                succeed(ctx, instance_id, id).await?;
                return Ok(CodeType::Totp);
            }
            return Err(fail(ctx, instance_id, id, Error::new(ErrorCode::FormCodeIncorrect)).await?);
        }
    }
    let digest = ctx.secrets.digest(&code);
    let mut found =
        backup.iter().find(|b| b.scheme == "hmac" && constant_time_eq(&b.digest, &digest)).map(|b| b.id.clone());
    if found.is_none() {
        let bcrypt: Vec<_> = backup.iter().filter(|b| b.scheme == "bcrypt").collect();
        let digests = bcrypt.iter().map(|b| String::from_utf8_lossy(&b.digest).into_owned()).collect();
        if let Some(i) = passwords::verify_bcrypt_any(digests, code).await? {
            found = Some(bcrypt[i].id.clone());
        }
    }
    if let Some(code_id) = found {
        let mut tx = ctx.db.begin().await?;
        let consumed = user_mfa::consume_backup_code(&mut tx, instance_id, &code_id).await?;
        tx.commit().await?;
        if consumed {
            succeed(ctx, instance_id, id).await?;
            return Ok(CodeType::BackupCode);
        }
    }
    Err(fail(ctx, instance_id, id, Error::new(ErrorCode::FormCodeIncorrect)).await?)
}

/// What to remove from a user's second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaRemoval {
    /// Everything: TOTP, backup codes, second-factor phones.
    All,
    /// TOTP only.
    Totp,
    /// Backup codes only.
    BackupCodes,
}

/// Removes second factors of a user.
pub async fn remove_mfa(ctx: &Ctx, instance_id: &str, id: &str, what: MfaRemoval) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if matches!(what, MfaRemoval::All | MfaRemoval::Totp) {
        user_mfa::set_totp(&mut tx, instance_id, id, None, now).await?;
    }
    if matches!(what, MfaRemoval::All | MfaRemoval::BackupCodes) {
        user_mfa::delete_backup_codes(&mut tx, instance_id, id).await?;
    }
    if what == MfaRemoval::All {
        user_mfa::clear_second_factor_phones(&mut tx, instance_id, id, now).await?;
    }
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the password (a user without one is returned unchanged).
pub async fn remove_password(ctx: &Ctx, instance_id: &str, id: &str) -> Result<User> {
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if row.password_digest.is_some() {
        user_mfa::set_password(&mut tx, instance_id, id, None, ctx.now_ms()).await?;
        super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    }
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

/// A signed-in user sets or changes their own password (the Frontend API's `POST /v1/me/change_password`). A user
/// who has one must give it as `current_password` (checked as a sign-in checks it: failures count toward the
/// lockout); the new one follows the password policy. With `keep_session`, the user's other sessions are revoked
/// (`sign_out_of_other_sessions`).
pub async fn change_own_password(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    current_password: Option<String>,
    new_password: Option<String>,
    keep_session: Option<&str>,
) -> Result<User> {
    let user = get_user(ctx, instance_id, id).await?;
    let new_password = new_password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("new_password"))?;
    let hibp = crate::settings::instance_config(ctx, instance_id).await?.hibp;
    passwords::check_policy("new_password", &new_password, hibp, false)?;
    if user.password_enabled {
        let current =
            current_password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("current_password"))?;
        verify_own_password(ctx, instance_id, id, current).await?;
    }
    let update = super::update::UserUpdate { password: Some(new_password), ..Default::default() };
    let user = super::update::update_user(ctx, instance_id, id, update).await?;
    if let Some(keep) = keep_session {
        crate::sessions::revoke_other_sessions(ctx, instance_id, id, keep).await?;
    }
    Ok(user)
}

/// [`verify_password`] for a user acting on their own account: an incorrect password names `current_password`.
async fn verify_own_password(ctx: &Ctx, instance_id: &str, id: &str, password: String) -> Result<()> {
    verify_password(ctx, instance_id, id, password).await.map_err(|e| {
        if e.code() == ErrorCode::FormPasswordIncorrect {
            Error::with(
                ErrorCode::FormPasswordIncorrect,
                ErrorCode::FormPasswordIncorrect.message(),
                ErrorCode::FormPasswordIncorrect.long_message(),
                Some("current_password"),
            )
        } else {
            e
        }
    })
}

/// A signed-in user removes their own password (`POST /v1/me/remove_password`): only when the instance does not
/// require one, and with the current one given.
pub async fn remove_own_password(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    current_password: Option<String>,
) -> Result<User> {
    let user = get_user(ctx, instance_id, id).await?;
    if !user.password_enabled {
        return Err(Error::new(ErrorCode::PasswordNotSet));
    }
    let settings = crate::settings::sign_up_settings(ctx, instance_id).await?;
    if settings.required_fields.iter().any(|f| f == "password") {
        return Err(Error::with(
            ErrorCode::AuthorizationInvalid,
            "password required",
            "This application requires a password: it cannot be removed.",
            None,
        ));
    }
    let current = current_password.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("current_password"))?;
    verify_own_password(ctx, instance_id, id, current).await?;
    remove_password(ctx, instance_id, id).await
}

/// Marks the password compromised (or not). A user without a password cannot have it marked.
pub async fn set_password_compromised(ctx: &Ctx, instance_id: &str, id: &str, compromised: bool) -> Result<User> {
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::users::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if row.password_digest.is_none() {
        return Err(Error::new(ErrorCode::PasswordNotSet));
    }
    user_mfa::set_password_compromised(&mut tx, instance_id, id, compromised, ctx.now_ms()).await?;
    super::emit_user(ctx, &mut tx, instance_id, id, EventType::UserUpdated).await?;
    tx.commit().await?;
    get_user(ctx, instance_id, id).await
}

/// Deletes a web3 wallet of a user (the primary wallet id moves to the next wallet, if any).
pub async fn delete_web3_wallet(ctx: &Ctx, instance_id: &str, user_id: &str, wallet_id: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    let mut row = tessera_store::users::lock(&mut tx, instance_id, user_id).await?.ok_or_else(not_found)?;
    let idents = tessera_store::users::identifications_tx(&mut tx, instance_id, user_id).await?;
    if !idents.iter().any(|i| i.id == wallet_id && i.kind == identifiers::WEB3) {
        return Err(Error::not_found("web3 wallet"));
    }
    tessera_store::users::delete_identification(&mut tx, instance_id, user_id, wallet_id).await?;
    if row.primary_web3_wallet_id.as_deref() == Some(wallet_id) {
        row.primary_web3_wallet_id =
            idents.iter().find(|i| i.kind == identifiers::WEB3 && i.id != wallet_id).map(|i| i.id.clone());
    }
    row.updated_at = ctx.now_ms();
    tessera_store::users::update_profile(&mut tx, &row).await?;
    super::emit_user(ctx, &mut tx, instance_id, user_id, EventType::UserUpdated).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA1 key "12345678901234567890", last 6 digits.
        let key = b"12345678901234567890";
        assert_eq!(totp_code(key, 59 / 30), "287082");
        assert_eq!(totp_code(key, 1_111_111_109 / 30), "081804");
        assert_eq!(totp_code(key, 2_000_000_000 / 30), "279037");
    }
}
