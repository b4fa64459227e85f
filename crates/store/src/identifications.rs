//! One identification (email address or phone number) at a time, and its one-time verification codes.

use crate::db::FromSqliteRow;
use crate::users::{IDENTIFICATION_COLUMNS, IdentificationRow};
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `identification_verifications`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct VerificationRow {
    /// `ver_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The identification the code was sent to.
    pub identification_id: String,
    /// `email_code` or `phone_code`.
    pub strategy: String,
    /// Keyed digest of the code.
    pub code_digest: Vec<u8>,
    /// `unverified`, `verified`, `failed` or `expired`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Expiry, Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// One identification of the given kind in the instance.
pub async fn get(db: &Db, instance_id: &str, kind: &str, id: &str) -> StoreResult<Option<IdentificationRow>> {
    let sql = format!(
        "SELECT {IDENTIFICATION_COLUMNS} FROM identifications WHERE instance_id = $1 AND kind = $2 AND id = $3"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, IdentificationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(kind)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One identification, read inside a write transaction (locked on PostgreSQL).
pub async fn lock(tx: &mut Tx, instance_id: &str, kind: &str, id: &str) -> StoreResult<Option<IdentificationRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {IDENTIFICATION_COLUMNS} FROM identifications WHERE instance_id = $1 AND kind = $2 AND id = $3{suffix}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, IdentificationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(kind).bind(id)
    )
}

/// Writes the verification, reservation and second-factor state of an identification.
pub async fn update_state(tx: &mut Tx, i: &IdentificationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE identifications SET reserved = $1, verification_status = $2, verification_strategy = $3, \
             verification_attempts = $4, verification_expire_at = $5, reserved_for_second_factor = $6, \
             default_second_factor = $7, updated_at = $8 WHERE instance_id = $9 AND id = $10"
        )
        .bind(i.reserved)
        .bind(&i.verification_status)
        .bind(&i.verification_strategy)
        .bind(i.verification_attempts)
        .bind(i.verification_expire_at)
        .bind(i.reserved_for_second_factor)
        .bind(i.default_second_factor)
        .bind(i.updated_at)
        .bind(&i.instance_id)
        .bind(&i.id)
    )
}

/// Clears the default-second-factor flag of every phone number of a user.
pub async fn clear_default_second_factor(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE identifications SET default_second_factor = FALSE WHERE instance_id = $1 AND user_id = $2 \
             AND default_second_factor"
        )
        .bind(instance_id)
        .bind(user_id)
    )
}

/// Sets one of the user's primary identification columns (`column` is a constant of the caller, never input).
pub async fn set_primary(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    column: &'static str,
    id: Option<&str>,
    now: i64,
) -> StoreResult<u64> {
    let sql = format!("UPDATE users SET {column} = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4");
    exec_tx!(tx, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(now).bind(instance_id).bind(user_id))
}

/// Deletes every identification of a kind of a user.
pub async fn delete_all_of_kind(tx: &mut Tx, instance_id: &str, user_id: &str, kind: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM identifications WHERE instance_id = $1 AND user_id = $2 AND kind = $3")
            .bind(instance_id)
            .bind(user_id)
            .bind(kind)
    )
}

/// Marks the user's MFA as disabled now (their last second-factor phone went away).
pub async fn set_mfa_disabled(tx: &mut Tx, instance_id: &str, user_id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE users SET mfa_disabled_at = $1, updated_at = $1 WHERE instance_id = $2 AND id = $3")
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
    )
}

/// Inserts a verification.
pub async fn insert_verification(tx: &mut Tx, v: &VerificationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO identification_verifications (id, instance_id, identification_id, strategy, code_digest, \
             status, attempts, expire_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(&v.id)
        .bind(&v.instance_id)
        .bind(&v.identification_id)
        .bind(&v.strategy)
        .bind(&v.code_digest)
        .bind(&v.status)
        .bind(v.attempts)
        .bind(v.expire_at)
        .bind(v.created_at)
        .bind(v.updated_at)
    )?;
    Ok(())
}

/// A verification of an identification, read inside a write transaction.
pub async fn verification_tx(
    tx: &mut Tx,
    instance_id: &str,
    identification_id: &str,
    id: &str,
) -> StoreResult<Option<VerificationRow>> {
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, VerificationRow>(
        "SELECT id, instance_id, identification_id, strategy, code_digest, status, attempts, expire_at, created_at, \
         updated_at FROM identification_verifications WHERE instance_id = $1 AND identification_id = $2 AND id = $3"
    )
    .bind(instance_id)
    .bind(identification_id)
    .bind(id))
}

/// The latest verification prepared for an identification.
pub async fn latest_verification(
    db: &Db,
    instance_id: &str,
    identification_id: &str,
) -> StoreResult<Option<VerificationRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, VerificationRow>(
        "SELECT id, instance_id, identification_id, strategy, code_digest, status, attempts, expire_at, created_at, \
         updated_at FROM identification_verifications WHERE instance_id = $1 AND identification_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    )
    .bind(instance_id)
    .bind(identification_id)
    .fetch_optional(c)
    .await)?)
}

/// Writes the status and attempts of a verification.
pub async fn update_verification(tx: &mut Tx, v: &VerificationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE identification_verifications SET status = $1, attempts = $2, updated_at = $3 \
             WHERE instance_id = $4 AND id = $5"
        )
        .bind(&v.status)
        .bind(v.attempts)
        .bind(v.updated_at)
        .bind(&v.instance_id)
        .bind(&v.id)
    )
}
