//! The (deprecated) list of all clients of an instance.

use crate::sessions::ClientRow;
use crate::{Db, StoreResult, on_read};

/// A page of the instance's clients, newest first, and how many there are in all.
pub async fn list_clients(db: &Db, instance_id: &str, limit: i64, offset: i64) -> StoreResult<(Vec<ClientRow>, i64)> {
    let rows = on_read!(db, |c| sqlx::query_as::<_, ClientRow>(
        "SELECT id, instance_id, last_active_session_id, created_at, updated_at FROM clients \
         WHERE instance_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    )
    .bind(instance_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(c)
    .await)?;
    let total = on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM clients WHERE instance_id = $1")
        .bind(instance_id)
        .fetch_one(c)
        .await)?;
    Ok((rows, total))
}
