//! OIDC sign-ins through enterprise connections (0043): the authorization requests Tessera sent as a relying party.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_write, on_read};

/// A row of `oidc_requests`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct OidcRequestRow {
    /// `oidcr_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The enterprise connection (`ec_…`).
    pub connection_id: String,
    /// Keyed digest of the `state`.
    pub state_hash: Vec<u8>,
    /// Keyed digest of the `nonce`.
    pub nonce_hash: Vec<u8>,
    /// The sealed PKCE code verifier.
    pub code_verifier: Vec<u8>,
    /// The sign-in it continues.
    pub sign_in_id: Option<String>,
    /// The sign-in's client.
    pub client_id: Option<String>,
    /// The connection test run it belongs to (instead of a sign-in).
    pub test_run_id: Option<String>,
    /// The sign-up attempt it continues (instead of a sign-in; 0045).
    pub sign_up_id: Option<String>,
    /// The redirect URI the request named.
    pub callback_url: String,
    /// Where the browser returns after the callback (clerk-js's `sso-callback`).
    pub redirect_url: Option<String>,
    /// clerk-js's `redirectUrlComplete`.
    pub action_complete_redirect_url: Option<String>,
    /// When its callback came.
    pub used_at: Option<i64>,
    /// Unix ms after which no callback is accepted.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
}

const COLUMNS: &str = "id, instance_id, connection_id, state_hash, nonce_hash, code_verifier, sign_in_id, client_id, \
    test_run_id, sign_up_id, callback_url, redirect_url, action_complete_redirect_url, used_at, expires_at, created_at";

/// Inserts a request.
pub async fn insert(tx: &mut Tx, r: &OidcRequestRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO oidc_requests (id, instance_id, connection_id, state_hash, nonce_hash, code_verifier, \
             sign_in_id, client_id, test_run_id, sign_up_id, callback_url, redirect_url, action_complete_redirect_url, \
             used_at, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.connection_id)
        .bind(&r.state_hash)
        .bind(&r.nonce_hash)
        .bind(&r.code_verifier)
        .bind(&r.sign_in_id)
        .bind(&r.client_id)
        .bind(&r.test_run_id)
        .bind(&r.sign_up_id)
        .bind(&r.callback_url)
        .bind(&r.redirect_url)
        .bind(&r.action_complete_redirect_url)
        .bind(r.used_at)
        .bind(r.expires_at)
        .bind(r.created_at)
    )?;
    Ok(())
}

/// The unused request whose `state` has this digest, without spending it (the callback checks which browser
/// arrived before it spends anything).
pub async fn pending(db: &Db, instance_id: &str, state_hash: &[u8]) -> StoreResult<Option<OidcRequestRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM oidc_requests WHERE instance_id = $1 AND state_hash = $2 AND used_at IS NULL");
    Ok(on_read!(db, |c| sqlx::query_as::<_, OidcRequestRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(state_hash)
        .fetch_optional(c)
        .await)?)
}

/// Spends the request whose `state` has this digest: marks it used (its own write, so that a failed callback
/// spends it too) and returns it; `None` when there is no such request or its callback came already.
pub async fn take(db: &Db, instance_id: &str, state_hash: &[u8], now: i64) -> StoreResult<Option<OidcRequestRow>> {
    let sql = format!(
        "UPDATE oidc_requests SET used_at = $3 WHERE instance_id = $1 AND state_hash = $2 AND used_at IS NULL \
         RETURNING {COLUMNS}"
    );
    fetch_write!(
        db,
        fetch_optional,
        sqlx::query_as::<_, OidcRequestRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(state_hash).bind(now)
    )
}
