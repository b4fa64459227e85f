//! Opaque M2M tokens. JWT-format tokens are stateless and never stored.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, exec_write, fetch_tx, on_read};

/// A row of `m2m_tokens` (without the lookup digest and the reuse key).
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct M2mTokenRow {
    /// `mt_` + 32 hex.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The machine that minted it (the token's subject).
    pub machine_id: String,
    /// The token, sealed (handed back when an identical live token is reused).
    pub token_sealed: Vec<u8>,
    /// Custom claims, JSON (`null` when none).
    pub claims: String,
    /// The machines it may call, a JSON array of ids.
    pub scopes: String,
    /// Revoked.
    pub revoked: bool,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Unix ms.
    pub expiration: i64,
    /// Unix ms of the last successful verification.
    pub last_used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, machine_id, token_sealed, claims, scopes, revoked, revocation_reason, \
                       expiration, last_used_at, created_at, updated_at";

/// Inserts a token with the lookup digest of its secret and its reuse key (a digest of claims and scopes).
pub async fn insert(tx: &mut Tx, row: &M2mTokenRow, token_hash: &[u8], reuse_key: &[u8]) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO m2m_tokens (id, instance_id, machine_id, token_hash, token_sealed, claims, scopes, reuse_key, \
             revoked, revocation_reason, expiration, last_used_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.machine_id)
        .bind(token_hash)
        .bind(&row.token_sealed)
        .bind(&row.claims)
        .bind(&row.scopes)
        .bind(reuse_key)
        .bind(row.revoked)
        .bind(&row.revocation_reason)
        .bind(row.expiration)
        .bind(row.last_used_at)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// The live token of a machine with this reuse key that lives longest, if it expires after `expires_after`.
pub async fn find_reusable(
    tx: &mut Tx,
    instance_id: &str,
    machine_id: &str,
    reuse_key: &[u8],
    expires_after: i64,
) -> StoreResult<Option<M2mTokenRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, M2mTokenRow>(
            "SELECT id, instance_id, machine_id, token_sealed, claims, scopes, revoked, revocation_reason, \
             expiration, last_used_at, created_at, updated_at FROM m2m_tokens \
             WHERE instance_id = $1 AND machine_id = $2 AND reuse_key = $3 AND revoked = FALSE AND expiration > $4 \
             ORDER BY expiration DESC, id LIMIT 1"
        )
        .bind(instance_id)
        .bind(machine_id)
        .bind(reuse_key)
        .bind(expires_after)
    )
}

/// The token whose secret has this digest (any instance; the caller checks).
pub async fn find_by_hash(db: &Db, token_hash: &[u8]) -> StoreResult<Option<M2mTokenRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, M2mTokenRow>(
        "SELECT id, instance_id, machine_id, token_sealed, claims, scopes, revoked, revocation_reason, \
         expiration, last_used_at, created_at, updated_at FROM m2m_tokens WHERE token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await)?)
}

/// One token of the instance, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<M2mTokenRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, M2mTokenRow>(
            "SELECT id, instance_id, machine_id, token_sealed, claims, scopes, revoked, revocation_reason, \
             expiration, last_used_at, created_at, updated_at FROM m2m_tokens WHERE instance_id = $1 AND id = $2"
        )
        .bind(instance_id)
        .bind(id)
    )
}

/// Marks a token revoked.
pub async fn revoke(tx: &mut Tx, instance_id: &str, id: &str, reason: Option<&str>, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE m2m_tokens SET revoked = TRUE, revocation_reason = $1, updated_at = $2 \
             WHERE instance_id = $3 AND id = $4 AND revoked = FALSE"
        )
        .bind(reason)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// Records a successful verification (bookkeeping outside any transaction).
pub async fn touch(db: &Db, instance_id: &str, id: &str, now: i64) -> StoreResult<u64> {
    exec_write!(
        db,
        sqlx::query("UPDATE m2m_tokens SET last_used_at = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(now)
            .bind(now)
            .bind(instance_id)
            .bind(id)
    )
}

/// Filter of the token list: `$1` instance, `$2` machine, `$3` include revoked, `$4` include expired, `$5` now.
const LIST_FILTER: &str =
    "instance_id = $1 AND machine_id = $2 AND ($3 OR revoked = FALSE) AND ($4 OR expiration > $5)";

/// A page of a machine's tokens, newest first.
#[expect(clippy::too_many_arguments, reason = "one bind per filter")]
pub async fn list(
    db: &Db,
    instance_id: &str,
    machine_id: &str,
    include_revoked: bool,
    include_expired: bool,
    now: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<M2mTokenRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM m2m_tokens WHERE {LIST_FILTER} ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, M2mTokenRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(machine_id)
        .bind(include_revoked)
        .bind(include_expired)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?)
}

/// How many tokens [`list`] would return without paging.
pub async fn count(
    db: &Db,
    instance_id: &str,
    machine_id: &str,
    include_revoked: bool,
    include_expired: bool,
    now: i64,
) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM m2m_tokens WHERE {LIST_FILTER}");
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(machine_id)
        .bind(include_revoked)
        .bind(include_expired)
        .bind(now)
        .fetch_one(c)
        .await)?)
}
