//! The development outbox: messages of development instances, captured so that a developer (or a test) can
//! read verification codes and invitations without a mail server.

use crate::{Db, StoreResult, Tx, exec_tx, on_read};

/// A row of `outbox_messages`.
#[derive(Debug, Clone, sqlx::FromRow)]
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
}

/// Inserts a captured message.
pub async fn insert(tx: &mut Tx, m: &OutboxRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO outbox_messages (id, instance_id, channel, recipient, subject, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(&m.id)
        .bind(&m.instance_id)
        .bind(&m.channel)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(m.created_at)
    )?;
    Ok(())
}

/// The newest `limit` messages (of one instance, or of all), newest first.
pub async fn list(db: &Db, instance_id: Option<&str>, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, OutboxRow>(
        "SELECT id, instance_id, channel, recipient, subject, body, created_at FROM outbox_messages \
         WHERE ($1 IS NULL OR instance_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2"
    )
    .bind(instance_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}
