//! Clients held by browsers (the Frontend API's clients): lookup by token digest, creation, and the sign-in /
//! sign-up in progress on them. Sessions on a client are in [`crate::sessions`].

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `clients` as the Frontend API reads it.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct BrowserClientRow {
    /// `client_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The session last made active on this client.
    pub last_active_session_id: Option<String>,
    /// The sign-in in progress.
    pub sign_in_id: Option<String>,
    /// The sign-up in progress.
    pub sign_up_id: Option<String>,
    /// The strategy of the last completed sign-in or sign-up.
    pub last_authentication_strategy: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, last_active_session_id, sign_in_id, sign_up_id, last_authentication_strategy, created_at, updated_at";

/// Inserts a client reachable through the token with this digest.
pub async fn insert(tx: &mut Tx, row: &BrowserClientRow, token_digest: &[u8]) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO clients (id, instance_id, last_active_session_id, sign_in_id, sign_up_id, \
             last_authentication_strategy, created_at, updated_at, token_digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.last_active_session_id)
        .bind(&row.sign_in_id)
        .bind(&row.sign_up_id)
        .bind(&row.last_authentication_strategy)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(token_digest)
    )?;
    Ok(())
}

/// The client reached through the token with this digest.
pub async fn by_token(db: &Db, instance_id: &str, token_digest: &[u8]) -> StoreResult<Option<BrowserClientRow>> {
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE instance_id = $1 AND token_digest = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, BrowserClientRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(token_digest)
        .fetch_optional(c)
        .await)?)
}

/// One client by id, read inside a transaction and locked against concurrent changes (PostgreSQL; SQLite's one
/// writer serialises anyway).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<BrowserClientRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, BrowserClientRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// One client by id.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<BrowserClientRow>> {
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, BrowserClientRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Writes the mutable fields of a client (last active session, attempts in progress, strategy, `updated_at`).
pub async fn update(tx: &mut Tx, row: &BrowserClientRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE clients SET last_active_session_id = $3, sign_in_id = $4, sign_up_id = $5, \
             last_authentication_strategy = $6, updated_at = $7 WHERE instance_id = $1 AND id = $2"
        )
        .bind(&row.instance_id)
        .bind(&row.id)
        .bind(&row.last_active_session_id)
        .bind(&row.sign_in_id)
        .bind(&row.sign_up_id)
        .bind(&row.last_authentication_strategy)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// Deletes a client and, through the foreign key, its sessions.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM clients WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// Stores the sealed directives of a nonce-format handshake.
pub async fn insert_handshake_nonce(
    tx: &mut Tx,
    instance_id: &str,
    nonce_digest: &[u8],
    directives_sealed: &[u8],
    expire_at: i64,
    now: i64,
) -> StoreResult<()> {
    exec_tx!(tx, sqlx::query("DELETE FROM handshake_nonces WHERE expire_at < $1").bind(now))?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO handshake_nonces (nonce_digest, instance_id, directives_sealed, expire_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(nonce_digest)
        .bind(instance_id)
        .bind(directives_sealed)
        .bind(expire_at)
        .bind(now)
    )?;
    Ok(())
}

/// Takes (reads and deletes) the sealed directives of an unexpired handshake nonce: each nonce is used once.
pub async fn take_handshake_nonce(
    tx: &mut Tx,
    instance_id: &str,
    nonce_digest: &[u8],
    now: i64,
) -> StoreResult<Option<Vec<u8>>> {
    let sealed: Option<(Vec<u8>, i64)> = fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as(
            "SELECT directives_sealed, expire_at FROM handshake_nonces WHERE instance_id = $1 AND nonce_digest = $2"
        )
        .bind(instance_id)
        .bind(nonce_digest)
    )?;
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM handshake_nonces WHERE instance_id = $1 AND nonce_digest = $2")
            .bind(instance_id)
            .bind(nonce_digest)
    )?;
    Ok(sealed.filter(|(_, expire_at)| *expire_at > now).map(|(s, _)| s))
}
