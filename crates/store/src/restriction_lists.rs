//! Allow-list and block-list entries (`restriction_identifiers`).

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, on_read};

/// A row of `restriction_identifiers`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ListEntryRow {
    /// `alid_…` / `blid_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// `allowlist` or `blocklist`.
    pub list: String,
    /// Normalized identifier (`*@domain` for a whole e-mail domain).
    pub identifier: String,
    /// `email_address`, `phone_number` or `web3_wallet`.
    pub identifier_type: String,
    /// Invitation sent for an allow-list entry with `notify`.
    pub invitation_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, list, identifier, identifier_type, invitation_id, created_at, updated_at";

/// Inserts an entry (unique per instance, list and identifier).
pub async fn insert(tx: &mut Tx, e: &ListEntryRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO restriction_identifiers (id, instance_id, list, identifier, identifier_type, invitation_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&e.id)
        .bind(&e.instance_id)
        .bind(&e.list)
        .bind(&e.identifier)
        .bind(&e.identifier_type)
        .bind(&e.invitation_id)
        .bind(e.created_at)
        .bind(e.updated_at)
    )?;
    Ok(())
}

/// A page of a list, oldest first, and its size.
pub async fn list(
    db: &Db,
    instance_id: &str,
    list: &str,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<ListEntryRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM restriction_identifiers WHERE instance_id = $1 AND list = $2 \
         ORDER BY created_at, id LIMIT $3 OFFSET $4"
    );
    let rows = on_read!(db, |c| sqlx::query_as::<_, ListEntryRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(list)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total: i64 = on_read!(db, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM restriction_identifiers WHERE instance_id = $1 AND list = $2"
    )
    .bind(instance_id)
    .bind(list)
    .fetch_one(c)
    .await)?;
    Ok((rows, total))
}

/// Which of `candidates` are on the list.
pub async fn matching(db: &Db, instance_id: &str, list: &str, candidates: &[String]) -> StoreResult<bool> {
    if candidates.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM restriction_identifiers WHERE instance_id = $1 AND list = $2 AND identifier IN ({})",
        crate::users::placeholders(3, candidates.len())
    );
    let n: i64 = on_read!(db, |c| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id).bind(list);
        for v in candidates {
            q = q.bind(v);
        }
        q.fetch_one(c).await
    })?;
    Ok(n > 0)
}

/// Whether a gmail entry of the list matches one of `candidates` when the dots of local parts are ignored
/// (`ignore_dots_for_gmail_addresses`): both sides are compared without any dot. Only `gmail.com` and
/// `googlemail.com` entries take part, so the dots of other domains still count.
pub async fn matching_dotless(db: &Db, instance_id: &str, list: &str, candidates: &[String]) -> StoreResult<bool> {
    if candidates.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM restriction_identifiers WHERE instance_id = $1 AND list = $2 \
         AND (identifier LIKE '%@gmail.com' OR identifier LIKE '%@googlemail.com') \
         AND replace(identifier, '.', '') IN ({})",
        crate::users::placeholders(3, candidates.len())
    );
    let n: i64 = on_read!(db, |c| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id).bind(list);
        for v in candidates {
            q = q.bind(v.replace('.', ""));
        }
        q.fetch_one(c).await
    })?;
    Ok(n > 0)
}

/// Deletes an entry; returns the deleted row.
pub async fn delete(tx: &mut Tx, instance_id: &str, list: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM restriction_identifiers WHERE instance_id = $1 AND list = $2 AND id = $3")
            .bind(instance_id)
            .bind(list)
            .bind(id)
    )
}
