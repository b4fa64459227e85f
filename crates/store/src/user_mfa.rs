//! The credential side of users: backup codes, TOTP, passwords and the lockout counters. Each change is its own
//! statement so that concurrent changes of different credentials never overwrite each other.

use crate::db::FromSqliteRow;
use crate::users::placeholders;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `user_backup_codes`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct BackupCodeRow {
    /// Id.
    pub id: String,
    /// `hmac` or `bcrypt`.
    pub scheme: String,
    /// The digest.
    pub digest: Vec<u8>,
}

/// Inserts a backup code.
pub async fn insert_backup_code(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    id: &str,
    scheme: &str,
    digest: &[u8],
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO user_backup_codes (id, instance_id, user_id, scheme, digest, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(id)
        .bind(instance_id)
        .bind(user_id)
        .bind(scheme)
        .bind(digest)
        .bind(now)
    )?;
    Ok(())
}

/// The backup codes of a user.
pub async fn backup_codes(db: &Db, instance_id: &str, user_id: &str) -> StoreResult<Vec<BackupCodeRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, BackupCodeRow>(
        "SELECT id, scheme, digest FROM user_backup_codes WHERE instance_id = $1 AND user_id = $2"
    )
    .bind(instance_id)
    .bind(user_id)
    .fetch_all(c)
    .await)?)
}

/// How many backup codes a user has, read inside the caller's transaction.
pub async fn backup_codes_tx(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM user_backup_codes WHERE instance_id = $1 AND user_id = $2")
            .bind(instance_id)
            .bind(user_id)
    )
}

/// Consumes one backup code; returns whether it was still there (a code is accepted at most once).
pub async fn consume_backup_code(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<bool> {
    Ok(exec_tx!(
        tx,
        sqlx::query("DELETE FROM user_backup_codes WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )? == 1)
}

/// Deletes every backup code of a user; returns how many there were.
pub async fn delete_backup_codes(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM user_backup_codes WHERE instance_id = $1 AND user_id = $2")
            .bind(instance_id)
            .bind(user_id)
    )
}

/// Sets (or, with `None`, removes) the password digest. Returns the rows updated.
pub async fn set_password(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    digest: Option<(&str, &str)>,
    now: i64,
) -> StoreResult<u64> {
    let (digest, hasher) = digest.map_or((None, None), |(d, h)| (Some(d), Some(h)));
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET password_digest = $1, password_hasher = $2, \
             password_last_updated_at = CASE WHEN $1 IS NULL THEN password_last_updated_at ELSE $3 END, \
             password_compromised = FALSE, updated_at = $3 WHERE instance_id = $4 AND id = $5"
        )
        .bind(digest)
        .bind(hasher)
        .bind(now)
        .bind(instance_id)
        .bind(user_id)
    )
}

/// Replaces an imported digest by its argon2id rehash, unless the password changed in between.
pub async fn rehash_password(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    old_digest: &str,
    new_digest: &str,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET password_digest = $1, password_hasher = 'argon2id' \
             WHERE instance_id = $2 AND id = $3 AND password_digest = $4"
        )
        .bind(new_digest)
        .bind(instance_id)
        .bind(user_id)
        .bind(old_digest)
    )
}

/// Marks the password compromised or not.
pub async fn set_password_compromised(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    compromised: bool,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE users SET password_compromised = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(compromised)
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
    )
}

/// Sets or removes the sealed TOTP secret (resetting the replay guard), and the MFA timestamps.
pub async fn set_totp(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    sealed: Option<&[u8]>,
    now: i64,
) -> StoreResult<u64> {
    let sql = if sealed.is_some() {
        "UPDATE users SET totp_secret_sealed = $1, totp_last_step = NULL, mfa_enabled_at = $2, updated_at = $2 \
         WHERE instance_id = $3 AND id = $4"
    } else {
        "UPDATE users SET totp_secret_sealed = $1, totp_last_step = NULL, \
         mfa_disabled_at = CASE WHEN totp_secret_sealed IS NULL THEN mfa_disabled_at ELSE $2 END, updated_at = $2 \
         WHERE instance_id = $3 AND id = $4"
    };
    exec_tx!(tx, sqlx::query(sql).bind(sealed).bind(now).bind(instance_id).bind(user_id))
}

/// Records `step` as the last TOTP step used, only if it is later than the last one: returns false for a replay.
pub async fn use_totp_step(tx: &mut Tx, instance_id: &str, user_id: &str, step: i64) -> StoreResult<bool> {
    Ok(exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE instance_id = $2 AND id = $3 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)"
        )
        .bind(step)
        .bind(instance_id)
        .bind(user_id)
    )? == 1)
}

/// Counts one failed verification, atomically: a lock that has expired is cleared first, and reaching
/// `max_attempts` locks the user until `now + lockout_ms`.
pub async fn record_failed_attempt(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    max_attempts: i64,
    lockout_ms: i64,
    now: i64,
) -> StoreResult<()> {
    clear_expired_lock(tx, instance_id, user_id, now).await?;
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET failed_verification_attempts = failed_verification_attempts + 1, \
             locked_at = CASE WHEN locked_at IS NULL AND failed_verification_attempts + 1 >= $1 THEN $2 \
             ELSE locked_at END, \
             lockout_expires_at = CASE WHEN locked_at IS NULL AND failed_verification_attempts + 1 >= $1 THEN $3 \
             ELSE lockout_expires_at END \
             WHERE instance_id = $4 AND id = $5"
        )
        .bind(max_attempts)
        .bind(now)
        .bind(now + lockout_ms)
        .bind(instance_id)
        .bind(user_id)
    )?;
    Ok(())
}

/// Clears a lock whose time is over, with its failed attempts.
pub async fn clear_expired_lock(tx: &mut Tx, instance_id: &str, user_id: &str, now: i64) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET locked_at = NULL, lockout_expires_at = NULL, failed_verification_attempts = 0 \
             WHERE instance_id = $1 AND id = $2 AND lockout_expires_at IS NOT NULL AND lockout_expires_at <= $3"
        )
        .bind(instance_id)
        .bind(user_id)
        .bind(now)
    )?;
    Ok(())
}

/// Resets the failed attempts after a successful verification (an active lock stays).
pub async fn reset_failed_attempts(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE users SET failed_verification_attempts = 0 WHERE instance_id = $1 AND id = $2 AND locked_at IS NULL"
        )
        .bind(instance_id)
        .bind(user_id)
    )?;
    Ok(())
}

/// Locks (`Some(until)`, where `until` may be `None` for forever) or unlocks (`None`, also clearing the failed
/// attempts) a user.
pub async fn set_lock(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    lock: Option<Option<i64>>,
    now: i64,
) -> StoreResult<u64> {
    let rows = match lock {
        Some(until) => exec_tx!(
            tx,
            sqlx::query(
                "UPDATE users SET locked_at = $1, lockout_expires_at = $2, updated_at = $1 \
                 WHERE instance_id = $3 AND id = $4"
            )
            .bind(now)
            .bind(until)
            .bind(instance_id)
            .bind(user_id)
        )?,
        None => exec_tx!(
            tx,
            sqlx::query(
                "UPDATE users SET locked_at = NULL, lockout_expires_at = NULL, failed_verification_attempts = 0, \
                 updated_at = $1 WHERE instance_id = $2 AND id = $3"
            )
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
        )?,
    };
    Ok(rows)
}

/// Bans or unbans users; returns the rows updated.
pub async fn set_banned(
    tx: &mut Tx,
    instance_id: &str,
    user_ids: &[String],
    banned: bool,
    now: i64,
) -> StoreResult<u64> {
    if user_ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE users SET banned = $1, updated_at = $2 WHERE instance_id = $3 AND id IN ({})",
        placeholders(4, user_ids.len())
    );
    exec_tx!(tx, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(banned).bind(now).bind(instance_id).bind_all(user_ids))
}

/// Stops using the user's phone numbers as second factors.
pub async fn clear_second_factor_phones(tx: &mut Tx, instance_id: &str, user_id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE identifications SET reserved_for_second_factor = FALSE, default_second_factor = FALSE, \
             updated_at = $1 WHERE instance_id = $2 AND user_id = $3 AND reserved_for_second_factor"
        )
        .bind(now)
        .bind(instance_id)
        .bind(user_id)
    )
}

/// Stores a profile image and makes it the user's current one (replacing any previous image).
pub async fn set_image(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    image: Option<(&str, &str, &[u8])>,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM user_images WHERE instance_id = $1 AND user_id = $2").bind(instance_id).bind(user_id)
    )?;
    if let Some((id, content_type, data)) = image {
        exec_tx!(
            tx,
            sqlx::query(
                "INSERT INTO user_images (id, instance_id, user_id, content_type, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(id)
            .bind(instance_id)
            .bind(user_id)
            .bind(content_type)
            .bind(data)
            .bind(now)
        )?;
    }
    exec_tx!(
        tx,
        sqlx::query("UPDATE users SET image_id = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(image.map(|i| i.0))
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
    )
}

/// A stored image: `(content_type, bytes)`.
pub async fn image(db: &Db, id: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT content_type, data FROM user_images WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}
