//! API keys. Secrets live only as `secret_hash` (keyed digest, unique-indexed: the verify lookup) and
//! `secret_sealed` (encrypted, for `GET /api_keys/{id}/secret`); normal reads never load either.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, exec_write, fetch_tx, on_read};

/// The columns of [`ApiKeyRow`], in its order (a macro so that it can be `concat!`-ed into static SQL).
macro_rules! key_columns {
    () => {
        "id, instance_id, key_type, subject, name, description, claims, scopes, revoked, revocation_reason, \
         expiration, created_by, last_used_at, created_at, updated_at"
    };
}

/// A row of `api_keys` without its secret columns.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, FromSqliteRow)]
pub struct ApiKeyRow {
    /// `ak_` + 32 hex.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The key's `type` (`api_key` unless the creator chose another).
    pub key_type: String,
    /// Owner: `user_…`, `org_…` or `mch_…`.
    pub subject: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Custom claims, a JSON object as text.
    pub claims: Option<String>,
    /// Scopes, a JSON array of strings as text.
    pub scopes: String,
    /// Revoked (permanently invalid).
    pub revoked: bool,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Unix ms after which the key is invalid; `None` = never.
    pub expiration: Option<i64>,
    /// `user_…` who created it.
    pub created_by: Option<String>,
    /// Unix ms of the last successful verify (coarse: refreshed at most about once a second).
    pub last_used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row with its stored secret material, exactly as persisted (for inserts and for audits of what is at rest).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, FromSqliteRow)]
pub struct StoredApiKey {
    /// The non-secret columns.
    #[sqlx(flatten)]
    pub key: ApiKeyRow,
    /// Keyed digest of the secret (unique).
    pub secret_hash: Vec<u8>,
    /// The secret, sealed with the master key.
    pub secret_sealed: Vec<u8>,
}

/// A partial update: `None` leaves a column as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ApiKeyChanges {
    /// New claims (JSON text) or cleared.
    pub claims: Option<Option<String>>,
    /// New scopes (JSON text).
    pub scopes: Option<String>,
    /// New description or cleared.
    pub description: Option<Option<String>>,
    /// New owner.
    pub subject: Option<String>,
    /// New expiration (Unix ms) or cleared (never expires).
    pub expiration: Option<Option<i64>>,
}

/// Filters of a list.
#[derive(Debug, Clone)]
pub struct ListFilter<'a> {
    /// Owner.
    pub subject: &'a str,
    /// Key type.
    pub key_type: &'a str,
    /// Include revoked and expired keys.
    pub include_invalid: bool,
    /// "Now" for the expiry filter, Unix ms.
    pub now: i64,
    /// Case-insensitive partial name match, or exact id.
    pub query: Option<&'a str>,
}

/// Inserts a key with its secret material.
pub async fn insert(tx: &mut Tx, row: &StoredApiKey) -> StoreResult<()> {
    let k = &row.key;
    exec_tx!(
        tx,
        sqlx::query(concat!(
            "INSERT INTO api_keys (",
            key_columns!(),
            ", secret_hash, secret_sealed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&k.id)
        .bind(&k.instance_id)
        .bind(&k.key_type)
        .bind(&k.subject)
        .bind(&k.name)
        .bind(&k.description)
        .bind(&k.claims)
        .bind(&k.scopes)
        .bind(k.revoked)
        .bind(&k.revocation_reason)
        .bind(k.expiration)
        .bind(&k.created_by)
        .bind(k.last_used_at)
        .bind(k.created_at)
        .bind(k.updated_at)
        .bind(&row.secret_hash)
        .bind(&row.secret_sealed)
    )?;
    Ok(())
}

/// One key of an instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<ApiKeyRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, ApiKeyRow>(concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys WHERE instance_id = $1 AND id = $2"
    ))
    .bind(instance_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// The key of an instance whose secret has this digest.
pub async fn find_by_secret_hash(db: &Db, instance_id: &str, secret_hash: &[u8]) -> StoreResult<Option<ApiKeyRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, ApiKeyRow>(concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys WHERE secret_hash = $1 AND instance_id = $2"
    ))
    .bind(secret_hash)
    .bind(instance_id)
    .fetch_optional(c)
    .await)?)
}

/// The sealed secret of a key.
pub async fn sealed_secret(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, Vec<u8>>(
        "SELECT secret_sealed FROM api_keys WHERE instance_id = $1 AND id = $2"
    )
    .bind(instance_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// Every key of an instance with its secret material, exactly as stored (oldest first).
pub async fn stored(db: &Db, instance_id: &str) -> StoreResult<Vec<StoredApiKey>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, StoredApiKey>(concat!(
        "SELECT ",
        key_columns!(),
        ", secret_hash, secret_sealed FROM api_keys WHERE instance_id = $1 ORDER BY created_at, id"
    ))
    .bind(instance_id)
    .fetch_all(c)
    .await)?)
}

/// The `WHERE` clause shared by [`list`] and [`count`]: `$1` instance, `$2` subject, `$3` type, `$4` include
/// invalid, `$5` now, `$6` LIKE pattern or NULL, `$7` exact id or NULL.
macro_rules! list_where {
    () => {
        " FROM api_keys WHERE instance_id = $1 AND subject = $2 AND key_type = $3 \
          AND ($4 OR (revoked = FALSE AND (expiration IS NULL OR expiration > $5))) \
          AND ($6 IS NULL OR LOWER(name) LIKE $6 ESCAPE '\\' OR id = $7)"
    };
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern and wraps it for a substring match.
fn like_pattern(query: &str) -> String {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for ch in query.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A page of an owner's keys, newest first.
pub async fn list(
    db: &Db,
    instance_id: &str,
    filter: &ListFilter<'_>,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<ApiKeyRow>> {
    let pattern = filter.query.map(like_pattern);
    Ok(on_read!(db, |c| sqlx::query_as::<_, ApiKeyRow>(concat!(
        "SELECT ",
        key_columns!(),
        list_where!(),
        " ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
    ))
    .bind(instance_id)
    .bind(filter.subject)
    .bind(filter.key_type)
    .bind(filter.include_invalid)
    .bind(filter.now)
    .bind(&pattern)
    .bind(filter.query)
    .bind(limit)
    .bind(offset)
    .fetch_all(c)
    .await)?)
}

/// How many keys match the filter.
pub async fn count(db: &Db, instance_id: &str, filter: &ListFilter<'_>) -> StoreResult<i64> {
    let pattern = filter.query.map(like_pattern);
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(concat!("SELECT COUNT(*)", list_where!()))
        .bind(instance_id)
        .bind(filter.subject)
        .bind(filter.key_type)
        .bind(filter.include_invalid)
        .bind(filter.now)
        .bind(&pattern)
        .bind(filter.query)
        .fetch_one(c)
        .await)?)
}

/// Applies a partial update in one statement (so concurrent updates of different fields never undo each other)
/// and returns the updated row, or `None` if the key does not exist.
pub async fn update(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    changes: &ApiKeyChanges,
    now: i64,
) -> StoreResult<Option<ApiKeyRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "UPDATE api_keys SET \
             claims = CASE WHEN $3 THEN $4 ELSE claims END, \
             scopes = COALESCE($5, scopes), \
             description = CASE WHEN $6 THEN $7 ELSE description END, \
             subject = COALESCE($8, subject), \
             expiration = CASE WHEN $9 THEN $10 ELSE expiration END, \
             updated_at = $11 \
             WHERE instance_id = $1 AND id = $2 RETURNING ",
            key_columns!()
        ))
        .bind(instance_id)
        .bind(id)
        .bind(changes.claims.is_some())
        .bind(changes.claims.clone().flatten())
        .bind(&changes.scopes)
        .bind(changes.description.is_some())
        .bind(changes.description.clone().flatten())
        .bind(&changes.subject)
        .bind(changes.expiration.is_some())
        .bind(changes.expiration.flatten())
        .bind(now)
    )
}

/// Revokes a key and returns it, or `None` if it does not exist. Revoking a revoked key changes nothing: the
/// first reason and time stand.
pub async fn revoke(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    reason: Option<&str>,
    now: i64,
) -> StoreResult<Option<ApiKeyRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "UPDATE api_keys SET \
             revocation_reason = CASE WHEN revoked THEN revocation_reason ELSE $3 END, \
             updated_at = CASE WHEN revoked THEN updated_at ELSE $4 END, \
             revoked = TRUE \
             WHERE instance_id = $1 AND id = $2 RETURNING ",
            key_columns!()
        ))
        .bind(instance_id)
        .bind(id)
        .bind(reason)
        .bind(now)
    )
}

/// Deletes a key; returns whether it existed.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<bool> {
    let n = exec_tx!(
        tx,
        sqlx::query("DELETE FROM api_keys WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )?;
    Ok(n == 1)
}

/// Records a use at `now` unless a use at or after `not_before` is already recorded. Bookkeeping, not a
/// transaction of its own: one statement on the writer, and it never moves `last_used_at` backwards.
pub async fn touch_last_used(db: &Db, instance_id: &str, id: &str, now: i64, not_before: i64) -> StoreResult<()> {
    exec_write!(
        db,
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $3 \
             WHERE instance_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $4)"
        )
        .bind(instance_id)
        .bind(id)
        .bind(now)
        .bind(not_before)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_pattern("Ab"), "%ab%");
        assert_eq!(like_pattern("50%_x\\"), "%50\\%\\_x\\\\%");
    }
}
