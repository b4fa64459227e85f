//! One-time tokens that stand for a user: actor tokens (impersonation, table from 0006), sign-in tokens and
//! testing tokens (0013). Only digests of the tokens are stored.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `actor_tokens`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ActorTokenRow {
    /// `act_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The impersonated user.
    pub user_id: String,
    /// The actor payload (JSON object with `sub`).
    pub actor: String,
    /// `pending`, `accepted`, `revoked`.
    pub status: String,
    /// Digest of the token.
    pub token_hash: Vec<u8>,
    /// Unix ms.
    pub expire_at: i64,
    /// Lifetime of the session the token creates.
    pub session_max_duration_seconds: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A row of `sign_in_tokens`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SignInTokenRow {
    /// `sit_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The user who signs in.
    pub user_id: String,
    /// Organization to activate.
    pub organization_id: Option<String>,
    /// `pending`, `accepted`, `revoked`.
    pub status: String,
    /// Digest of the token.
    pub token_hash: Vec<u8>,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const ACTOR_COLUMNS: &str = "id, instance_id, user_id, actor, status, token_hash, expire_at, \
    session_max_duration_seconds, created_at, updated_at";
const SIGN_IN_COLUMNS: &str =
    "id, instance_id, user_id, organization_id, status, token_hash, expire_at, created_at, updated_at";

/// Inserts an actor token.
pub async fn insert_actor_token(tx: &mut Tx, r: &ActorTokenRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO actor_tokens (id, instance_id, user_id, actor, status, token_hash, expire_at, \
             session_max_duration_seconds, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.user_id)
        .bind(&r.actor)
        .bind(&r.status)
        .bind(&r.token_hash)
        .bind(r.expire_at)
        .bind(r.session_max_duration_seconds)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Inserts a sign-in token.
pub async fn insert_sign_in_token(tx: &mut Tx, r: &SignInTokenRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO sign_in_tokens (id, instance_id, user_id, organization_id, status, token_hash, expire_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.user_id)
        .bind(&r.organization_id)
        .bind(&r.status)
        .bind(&r.token_hash)
        .bind(r.expire_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// An actor token of the instance, read inside a write transaction.
pub async fn actor_token_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<ActorTokenRow>> {
    let sql = format!("SELECT {ACTOR_COLUMNS} FROM actor_tokens WHERE instance_id = $1 AND id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, ActorTokenRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// A sign-in token of the instance, read inside a write transaction.
pub async fn sign_in_token_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<SignInTokenRow>> {
    let sql = format!("SELECT {SIGN_IN_COLUMNS} FROM sign_in_tokens WHERE instance_id = $1 AND id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, SignInTokenRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// The actor token with this digest, in any instance, read inside a write transaction.
pub async fn actor_token_by_hash_tx(tx: &mut Tx, hash: &[u8]) -> StoreResult<Option<ActorTokenRow>> {
    let sql = format!("SELECT {ACTOR_COLUMNS} FROM actor_tokens WHERE token_hash = $1");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, ActorTokenRow>(sqlx::AssertSqlSafe(sql)).bind(hash))
}

/// The sign-in token with this digest, in any instance, read inside a write transaction.
pub async fn sign_in_token_by_hash_tx(tx: &mut Tx, hash: &[u8]) -> StoreResult<Option<SignInTokenRow>> {
    let sql = format!("SELECT {SIGN_IN_COLUMNS} FROM sign_in_tokens WHERE token_hash = $1");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, SignInTokenRow>(sqlx::AssertSqlSafe(sql)).bind(hash))
}

/// Moves an actor token from `from` to `to`; the number of rows changed (0 when it was not in `from`).
pub async fn set_actor_token_status(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE actor_tokens SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4 AND status = $5"
        )
        .bind(to)
        .bind(now)
        .bind(instance_id)
        .bind(id)
        .bind(from)
    )
}

/// Moves a sign-in token from `from` to `to`; the number of rows changed (0 when it was not in `from`).
pub async fn set_sign_in_token_status(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE sign_in_tokens SET status = $1, updated_at = $2 \
             WHERE instance_id = $3 AND id = $4 AND status = $5"
        )
        .bind(to)
        .bind(now)
        .bind(instance_id)
        .bind(id)
        .bind(from)
    )
}

/// Records a testing token (its digest) and drops the instance's expired ones.
pub async fn insert_testing_token(
    tx: &mut Tx,
    id: &str,
    instance_id: &str,
    hash: &[u8],
    expire_at: i64,
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM testing_tokens WHERE instance_id = $1 AND expire_at <= $2")
            .bind(instance_id)
            .bind(now)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO testing_tokens (id, instance_id, token_hash, expire_at, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(id)
        .bind(instance_id)
        .bind(hash)
        .bind(expire_at)
        .bind(now)
    )?;
    Ok(())
}

/// Whether a testing token with this digest is live in the instance.
pub async fn testing_token_live(db: &Db, instance_id: &str, hash: &[u8], now: i64) -> StoreResult<bool> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM testing_tokens WHERE instance_id = $1 AND token_hash = $2 AND expire_at > $3"
    )
    .bind(instance_id)
    .bind(hash)
    .bind(now)
    .fetch_one(c)
    .await)?
        > 0)
}

/// Replaces the refresh token (digest) of a session: a new one makes the earlier one useless.
pub async fn replace_refresh_token(
    tx: &mut Tx,
    instance_id: &str,
    session_id: &str,
    hash: &[u8],
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM session_refresh_tokens WHERE instance_id = $1 AND session_id = $2")
            .bind(instance_id)
            .bind(session_id)
    )?;
    insert_refresh_token(tx, instance_id, session_id, hash, now).await
}

/// Records the refresh token (digest) of a session.
pub async fn insert_refresh_token(
    tx: &mut Tx,
    instance_id: &str,
    session_id: &str,
    hash: &[u8],
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO session_refresh_tokens (session_id, instance_id, token_hash, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(session_id)
        .bind(instance_id)
        .bind(hash)
        .bind(now)
    )?;
    Ok(())
}

/// The refresh-token digest of a session, if it has one.
pub async fn refresh_token_hash(db: &Db, instance_id: &str, session_id: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, Vec<u8>>(
        "SELECT token_hash FROM session_refresh_tokens WHERE instance_id = $1 AND session_id = $2"
    )
    .bind(instance_id)
    .bind(session_id)
    .fetch_optional(c)
    .await)?)
}
