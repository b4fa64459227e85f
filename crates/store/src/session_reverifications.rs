//! The reverification in progress on a session (0034): its level, status and the state of its first- and
//! second-factor verifications (the same columns as a sign-in's).

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `session_reverifications`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct ReverificationRow {
    /// The session (one reverification per session).
    pub session_id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `first_factor`, `second_factor` or `multi_factor`.
    pub level: String,
    /// `needs_first_factor`, `needs_second_factor` or `complete`.
    pub status: String,
    /// First factor: strategy of the current verification.
    pub ff_strategy: Option<String>,
    /// First factor: the email address / phone number a code went to.
    pub ff_identification_id: Option<String>,
    /// First factor: keyed digest of the code.
    pub ff_code_digest: Option<Vec<u8>>,
    /// First factor: `unverified`, `verified`, `failed` or `expired`.
    pub ff_status: Option<String>,
    /// First factor: attempts on the current code.
    pub ff_attempts: i64,
    /// First factor: expiry of the current code, Unix ms.
    pub ff_expire_at: Option<i64>,
    /// Second factor: strategy.
    pub sf_strategy: Option<String>,
    /// Second factor: the phone number a code went to.
    pub sf_identification_id: Option<String>,
    /// Second factor: keyed digest of the code.
    pub sf_code_digest: Option<Vec<u8>>,
    /// Second factor: status.
    pub sf_status: Option<String>,
    /// Second factor: attempts.
    pub sf_attempts: i64,
    /// Second factor: expiry, Unix ms.
    pub sf_expire_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "session_id, instance_id, level, status, ff_strategy, ff_identification_id, ff_code_digest, \
    ff_status, ff_attempts, ff_expire_at, sf_strategy, sf_identification_id, sf_code_digest, sf_status, \
    sf_attempts, sf_expire_at, created_at, updated_at";

/// Replaces the session's reverification with `r` (a new start).
pub async fn replace(tx: &mut Tx, r: &ReverificationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM session_reverifications WHERE instance_id = $1 AND session_id = $2")
            .bind(&r.instance_id)
            .bind(&r.session_id)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO session_reverifications (session_id, instance_id, level, status, ff_strategy, \
             ff_identification_id, ff_code_digest, ff_status, ff_attempts, ff_expire_at, sf_strategy, \
             sf_identification_id, sf_code_digest, sf_status, sf_attempts, sf_expire_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )
        .bind(&r.session_id)
        .bind(&r.instance_id)
        .bind(&r.level)
        .bind(&r.status)
        .bind(&r.ff_strategy)
        .bind(&r.ff_identification_id)
        .bind(&r.ff_code_digest)
        .bind(&r.ff_status)
        .bind(r.ff_attempts)
        .bind(r.ff_expire_at)
        .bind(&r.sf_strategy)
        .bind(&r.sf_identification_id)
        .bind(&r.sf_code_digest)
        .bind(&r.sf_status)
        .bind(r.sf_attempts)
        .bind(r.sf_expire_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Writes every field that changes after the start.
pub async fn update(tx: &mut Tx, r: &ReverificationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE session_reverifications SET status = $1, ff_strategy = $2, ff_identification_id = $3, \
             ff_code_digest = $4, ff_status = $5, ff_attempts = $6, ff_expire_at = $7, sf_strategy = $8, \
             sf_identification_id = $9, sf_code_digest = $10, sf_status = $11, sf_attempts = $12, \
             sf_expire_at = $13, updated_at = $14 WHERE instance_id = $15 AND session_id = $16"
        )
        .bind(&r.status)
        .bind(&r.ff_strategy)
        .bind(&r.ff_identification_id)
        .bind(&r.ff_code_digest)
        .bind(&r.ff_status)
        .bind(r.ff_attempts)
        .bind(r.ff_expire_at)
        .bind(&r.sf_strategy)
        .bind(&r.sf_identification_id)
        .bind(&r.sf_code_digest)
        .bind(&r.sf_status)
        .bind(r.sf_attempts)
        .bind(r.sf_expire_at)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.session_id)
    )
}

/// The reverification of a session.
pub async fn get(db: &Db, instance_id: &str, session_id: &str) -> StoreResult<Option<ReverificationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM session_reverifications WHERE instance_id = $1 AND session_id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, ReverificationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(session_id)
        .fetch_optional(c)
        .await)?)
}

/// The reverification of a session, read inside a write transaction (locked on PostgreSQL, so that two attempts
/// serialize and a code is good once).
pub async fn lock(tx: &mut Tx, instance_id: &str, session_id: &str) -> StoreResult<Option<ReverificationRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM session_reverifications WHERE instance_id = $1 AND session_id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, ReverificationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(session_id)
    )
}
