//! Admin portal links and their single-use link tokens (0033). Only the keyed digest of a token is stored.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `admin_portal_link_tokens`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct AdminPortalLinkTokenRow {
    /// `aplt_` + 32 hex.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The instance's `apl_…` link.
    pub admin_portal_link_id: String,
    /// The organization the link is scoped to.
    pub organization_id: Option<String>,
    /// Opaque reference to the IT contact.
    pub it_contact_id: Option<String>,
    /// JSON array of scopes, when given.
    pub scopes: Option<String>,
    /// Keyed digest of the token.
    pub token_hash: Vec<u8>,
    /// Revoked.
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Unix ms.
    pub expiration: i64,
    /// When the token was redeemed, Unix ms.
    pub used_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, admin_portal_link_id, organization_id, it_contact_id, scopes, token_hash, \
    revoked, revocation_reason, expiration, used_at, created_at, updated_at";

/// The id of the instance's admin portal link, created with `new_id` if there is none. Concurrent first uses agree:
/// the insert does nothing on a conflict and the id is read back.
pub async fn link_id_for(tx: &mut Tx, instance_id: &str, new_id: &str, now: i64) -> StoreResult<String> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO admin_portal_links (id, instance_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (instance_id) DO NOTHING"
        )
        .bind(new_id)
        .bind(instance_id)
        .bind(now)
    )?;
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, String>("SELECT id FROM admin_portal_links WHERE instance_id = $1").bind(instance_id)
    )
}

/// Inserts a token.
pub async fn insert(tx: &mut Tx, r: &AdminPortalLinkTokenRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO admin_portal_link_tokens (id, instance_id, admin_portal_link_id, organization_id, \
             it_contact_id, scopes, token_hash, revoked, revocation_reason, expiration, used_at, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.admin_portal_link_id)
        .bind(&r.organization_id)
        .bind(&r.it_contact_id)
        .bind(&r.scopes)
        .bind(&r.token_hash)
        .bind(r.revoked)
        .bind(&r.revocation_reason)
        .bind(r.expiration)
        .bind(r.used_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// A token of the instance, read inside a write transaction (locked on PostgreSQL).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<AdminPortalLinkTokenRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM admin_portal_link_tokens WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, AdminPortalLinkTokenRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// Marks a token revoked.
pub async fn revoke(tx: &mut Tx, instance_id: &str, id: &str, reason: Option<&str>, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE admin_portal_link_tokens SET revoked = TRUE, revocation_reason = $1, updated_at = $2 \
             WHERE instance_id = $3 AND id = $4"
        )
        .bind(reason)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// Spends a token: marks the live (unused, unrevoked, unexpired) token with this digest used and returns it.
/// A token works once.
pub async fn redeem(tx: &mut Tx, token_hash: &[u8], now: i64) -> StoreResult<Option<AdminPortalLinkTokenRow>> {
    let sql = format!(
        "UPDATE admin_portal_link_tokens SET used_at = $2, updated_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND NOT revoked AND expiration > $2 RETURNING {COLUMNS}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, AdminPortalLinkTokenRow>(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now)
    )
}

/// Stores a portal session opened by `token_id`.
pub async fn insert_session(
    tx: &mut Tx,
    digest: &[u8],
    instance_id: &str,
    token_id: &str,
    expires_at: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO admin_portal_sessions (digest, instance_id, token_id, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(digest)
        .bind(instance_id)
        .bind(token_id)
        .bind(expires_at)
    )?;
    Ok(())
}

/// The token behind a live session: the session has not expired and its token was not revoked since.
pub async fn session_token(db: &Db, digest: &[u8], now: i64) -> StoreResult<Option<AdminPortalLinkTokenRow>> {
    let columns = COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {columns} FROM admin_portal_sessions s JOIN admin_portal_link_tokens t ON t.id = s.token_id \
         WHERE s.digest = $1 AND s.expires_at > $2 AND NOT t.revoked"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, AdminPortalLinkTokenRow>(sqlx::AssertSqlSafe(sql))
        .bind(digest)
        .bind(now)
        .fetch_optional(c)
        .await)?)
}
