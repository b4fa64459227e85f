//! The development outbox: messages of development instances, captured so that a developer (or a test) can
//! read verification codes and invitations without a mail server.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, on_read};

/// A row of `outbox_messages`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct OutboxRow {
    /// `msg_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Address or phone number.
    pub recipient: String,
    /// Subject (e-mail) or a summary (SMS).
    pub subject: String,
    /// Text body.
    pub body: String,
    /// Unix ms.
    pub created_at: i64,
    /// The id (`ema_…` / `sms_…`) of the message this is a copy of, when it came from a template.
    pub email_id: Option<String>,
}

/// Inserts a captured message.
pub async fn insert(tx: &mut Tx, m: &OutboxRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO outbox_messages (id, instance_id, channel, recipient, subject, body, created_at, email_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&m.id)
        .bind(&m.instance_id)
        .bind(&m.channel)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(m.created_at)
        .bind(&m.email_id)
    )?;
    Ok(())
}

/// The newest `limit` messages (of one instance, or of all), newest first.
pub async fn list(db: &Db, instance_id: Option<&str>, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, OutboxRow>(
        "SELECT id, instance_id, channel, recipient, subject, body, created_at, email_id FROM outbox_messages \
         WHERE ($1 IS NULL OR instance_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2"
    )
    .bind(instance_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Deletes the captured copies of one message (`ema_…`). Returns how many there were.
pub async fn delete_copies(tx: &mut Tx, instance_id: &str, email_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM outbox_messages WHERE instance_id = $1 AND email_id = $2")
            .bind(instance_id)
            .bind(email_id)
    )
}
