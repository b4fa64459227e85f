//! Sign-in attempts on browsers' clients (0018), with the state of their first- and second-factor
//! verifications, and the lookup of the user an identifier names.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `sign_ins`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct SignInRow {
    /// `sia_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The client the attempt belongs to.
    pub client_id: String,
    /// `needs_identifier`, `needs_first_factor`, `needs_second_factor` or `complete`.
    pub status: String,
    /// The identifier as given.
    pub identifier: Option<String>,
    /// The user the identifier (or ticket) named.
    pub user_id: Option<String>,
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
    /// The session the attempt became.
    pub created_session_id: Option<String>,
    /// Unix ms after which an incomplete attempt is abandoned.
    pub abandon_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, client_id, status, identifier, user_id, ff_strategy, ff_identification_id, \
    ff_code_digest, ff_status, ff_attempts, ff_expire_at, sf_strategy, sf_identification_id, sf_code_digest, \
    sf_status, sf_attempts, sf_expire_at, created_session_id, abandon_at, created_at, updated_at";

/// Inserts an attempt.
pub async fn insert(tx: &mut Tx, r: &SignInRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sign_ins (id, instance_id, client_id, status, identifier, user_id, ff_strategy, \
             ff_identification_id, ff_code_digest, ff_status, ff_attempts, ff_expire_at, sf_strategy, \
             sf_identification_id, sf_code_digest, sf_status, sf_attempts, sf_expire_at, created_session_id, \
             abandon_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.client_id)
        .bind(&r.status)
        .bind(&r.identifier)
        .bind(&r.user_id)
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
        .bind(&r.created_session_id)
        .bind(r.abandon_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Writes every field that changes after creation.
pub async fn update(tx: &mut Tx, r: &SignInRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sign_ins SET status = $1, ff_strategy = $2, ff_identification_id = $3, ff_code_digest = $4, \
             ff_status = $5, ff_attempts = $6, ff_expire_at = $7, sf_strategy = $8, sf_identification_id = $9, \
             sf_code_digest = $10, sf_status = $11, sf_attempts = $12, sf_expire_at = $13, \
             created_session_id = $14, updated_at = $15 WHERE instance_id = $16 AND id = $17"
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
        .bind(&r.created_session_id)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.id)
    )
}

/// One attempt of a client.
pub async fn get(db: &Db, instance_id: &str, client_id: &str, id: &str) -> StoreResult<Option<SignInRow>> {
    let sql = format!("SELECT {COLUMNS} FROM sign_ins WHERE instance_id = $1 AND client_id = $2 AND id = $3");
    Ok(on_read!(db, |c| sqlx::query_as::<_, SignInRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(client_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One attempt of a client, read inside a write transaction (locked on PostgreSQL, so that two attempts on one
/// sign-in serialize and it completes at most once).
pub async fn lock(tx: &mut Tx, instance_id: &str, client_id: &str, id: &str) -> StoreResult<Option<SignInRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM sign_ins WHERE instance_id = $1 AND client_id = $2 AND id = $3{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, SignInRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(client_id).bind(id)
    )
}

/// The user holding a verified email address or phone number (`kind`; `value` normalized).
pub async fn user_by_identification(
    db: &Db,
    instance_id: &str,
    kind: &str,
    value: &str,
) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar(
        "SELECT user_id FROM identifications WHERE instance_id = $1 AND kind = $2 AND value_normalized = $3 \
         AND verification_status = 'verified' ORDER BY created_at LIMIT 1"
    )
    .bind(instance_id)
    .bind(kind)
    .bind(value)
    .fetch_optional(c)
    .await)?)
}

/// [`user_by_identification`] inside a write transaction.
pub async fn user_by_identification_tx(
    tx: &mut Tx,
    instance_id: &str,
    kind: &str,
    value: &str,
) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar(
            "SELECT user_id FROM identifications WHERE instance_id = $1 AND kind = $2 AND value_normalized = $3 \
             AND verification_status = 'verified' ORDER BY created_at LIMIT 1"
        )
        .bind(instance_id)
        .bind(kind)
        .bind(value)
    )
}

/// The user with this username (normalized).
pub async fn user_by_username(db: &Db, instance_id: &str, username: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar(
        "SELECT id FROM users WHERE instance_id = $1 AND username_normalized = $2"
    )
    .bind(instance_id)
    .bind(username)
    .fetch_optional(c)
    .await)?)
}
