//! E-mails sent through the transactional e-mail API, with their idempotency keys.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, exec_write, fetch_tx, on_read};

/// A row of `transactional_emails`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct EmailRow {
    /// `ema_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The `Idempotency-Key` it was sent under.
    pub idempotency_key: Option<String>,
    /// Keyed digest (hex) of the request, to tell a retry from a reused key.
    pub request_digest: String,
    /// The recipient user, when addressed by `user_id`.
    pub user_id: Option<String>,
    /// That user's primary e-mail address object.
    pub email_address_id: Option<String>,
    /// The recipient address.
    pub to_email_address: String,
    /// The sender address.
    pub from_address: String,
    /// Subject.
    pub subject: String,
    /// HTML body (or the text one when no HTML was given).
    pub body: String,
    /// Text body.
    pub body_plain: Option<String>,
    /// `queued`, `accepted` or `failed`.
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, idempotency_key, request_digest, user_id, email_address_id, \
    to_email_address, from_address, subject, body, body_plain, status, created_at, updated_at";

/// Inserts an e-mail (a unique violation means its idempotency key is taken).
pub async fn insert(tx: &mut Tx, e: &EmailRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO transactional_emails (id, instance_id, idempotency_key, request_digest, user_id, \
             email_address_id, to_email_address, from_address, subject, body, body_plain, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )
        .bind(&e.id)
        .bind(&e.instance_id)
        .bind(&e.idempotency_key)
        .bind(&e.request_digest)
        .bind(&e.user_id)
        .bind(&e.email_address_id)
        .bind(&e.to_email_address)
        .bind(&e.from_address)
        .bind(&e.subject)
        .bind(&e.body)
        .bind(&e.body_plain)
        .bind(&e.status)
        .bind(e.created_at)
        .bind(e.updated_at)
    )?;
    Ok(())
}

/// One e-mail.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<EmailRow>> {
    let sql = format!("SELECT {COLUMNS} FROM transactional_emails WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, EmailRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// The e-mail sent under an idempotency key, read inside a write transaction.
pub async fn by_key(tx: &mut Tx, instance_id: &str, key: &str) -> StoreResult<Option<EmailRow>> {
    let sql = format!("SELECT {COLUMNS} FROM transactional_emails WHERE instance_id = $1 AND idempotency_key = $2");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, EmailRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(key))
}

/// Records the send state.
pub async fn set_status(db: &Db, instance_id: &str, id: &str, status: &str, now: i64) -> StoreResult<u64> {
    exec_write!(
        db,
        sqlx::query("UPDATE transactional_emails SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(status)
            .bind(now)
            .bind(instance_id)
            .bind(id)
    )
}
