//! Redirect URLs of an instance.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `redirect_urls`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct RedirectUrlRow {
    /// `ru_…`.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The URL as given.
    pub url: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Inserts a redirect URL (unique per instance).
pub async fn insert(tx: &mut Tx, row: &RedirectUrlRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO redirect_urls (id, instance_id, url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.url)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// One redirect URL of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<RedirectUrlRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, RedirectUrlRow>(
        "SELECT id, instance_id, url, created_at, updated_at FROM redirect_urls WHERE instance_id = $1 AND id = $2"
    )
    .bind(instance_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// A page of the instance's redirect URLs, oldest first, and how many there are in all.
pub async fn list(db: &Db, instance_id: &str, limit: i64, offset: i64) -> StoreResult<(Vec<RedirectUrlRow>, i64)> {
    let rows = on_read!(db, |c| sqlx::query_as::<_, RedirectUrlRow>(
        "SELECT id, instance_id, url, created_at, updated_at FROM redirect_urls WHERE instance_id = $1 \
         ORDER BY created_at, id LIMIT $2 OFFSET $3"
    )
    .bind(instance_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(c)
    .await)?;
    let total =
        on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM redirect_urls WHERE instance_id = $1")
            .bind(instance_id)
            .fetch_one(c)
            .await)?;
    Ok((rows, total))
}

/// Every redirect URL of the instance (at most 1000, oldest first), read inside a transaction.
pub async fn urls_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT url FROM redirect_urls WHERE instance_id = $1 ORDER BY created_at, id LIMIT 1000"
        )
        .bind(instance_id)
    )
}

/// Deletes a redirect URL; the number of rows deleted (0 or 1).
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM redirect_urls WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}
