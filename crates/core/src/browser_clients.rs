//! The clients browsers hold (Frontend API). A browser reaches its client through a bearer token: the dev-browser
//! token of a development instance (sent as `__clerk_db_jwt`), or the `__client` cookie. Tokens are random and
//! stored only as keyed digests. Sessions opened by signing in live on the browser's client, so the Backend API
//! lists, revokes and mints for the same sessions.

use tessera_store::browser_clients::BrowserClientRow;

use crate::sessions::{Session, status};
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// The prefix of dev-browser tokens.
pub const DEV_BROWSER_PREFIX: &str = "dvb_";
/// The prefix of `__client` cookie tokens.
pub const CLIENT_TOKEN_PREFIX: &str = "clt_";

/// A browser's client with its sessions (newest first) and the attempts in progress on it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserClient {
    /// `client_…`
    pub id: String,
    /// Sessions on the client, newest first.
    pub sessions: Vec<Session>,
    /// The session last made active.
    pub last_active_session_id: Option<String>,
    /// The sign-in in progress.
    pub sign_in_id: Option<String>,
    /// The sign-up in progress.
    pub sign_up_id: Option<String>,
    /// Strategy of the last completed sign-in or sign-up.
    pub last_authentication_strategy: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms. Never later than the `iat` of a token minted after the change.
    pub updated_at: i64,
}

impl BrowserClient {
    /// The sessions a browser still shows: active ones (Clerk drops ended, removed and revoked sessions from the
    /// client object).
    pub fn live_sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.iter().filter(|s| s.status == status::ACTIVE)
    }

    /// Whether any session on the client is signed in.
    pub fn signed_in(&self) -> bool {
        self.live_sessions().next().is_some()
    }
}

/// Creates an empty client reachable through a new token with `prefix` (`dvb_` / `clt_`); returns the token
/// (shown once) and the client.
pub async fn create(ctx: &Ctx, instance_id: &str, prefix: &str) -> Result<(String, BrowserClient)> {
    let token = format!("{prefix}{}", ids::random_base62(43));
    let now = ctx.now_ms();
    let row = BrowserClientRow {
        id: ids::new_id("client"),
        instance_id: instance_id.to_owned(),
        last_active_session_id: None,
        sign_in_id: None,
        sign_up_id: None,
        last_authentication_strategy: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::browser_clients::insert(&mut tx, &row, &ctx.secrets.digest(&token)).await?;
    tx.commit().await?;
    Ok((token, from_row(row, Vec::new())))
}

/// The client a token reaches, if any.
pub async fn by_token(ctx: &Ctx, instance_id: &str, token: &str) -> Result<Option<BrowserClient>> {
    if token.len() > 200 {
        return Ok(None);
    }
    let digest = ctx.secrets.digest(token);
    match tessera_store::browser_clients::by_token(&ctx.db, instance_id, &digest).await? {
        Some(row) => Ok(Some(load(ctx, row).await?)),
        None => Ok(None),
    }
}

/// A client by id (after a change), with its sessions.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<BrowserClient> {
    let row = tessera_store::browser_clients::get(&ctx.db, instance_id, id)
        .await?
        .ok_or_else(|| Error::not_found("client"))?;
    load(ctx, row).await
}

async fn load(ctx: &Ctx, row: BrowserClientRow) -> Result<BrowserClient> {
    let now = ctx.now_ms();
    let sessions = tessera_store::sessions::sessions_of_client(&ctx.db, &row.instance_id, &row.id).await?;
    Ok(from_row(row, sessions.into_iter().map(|s| Session::from_row(s, now)).collect()))
}

fn from_row(row: BrowserClientRow, sessions: Vec<Session>) -> BrowserClient {
    BrowserClient {
        id: row.id,
        sessions,
        last_active_session_id: row.last_active_session_id,
        sign_in_id: row.sign_in_id,
        sign_up_id: row.sign_up_id,
        last_authentication_strategy: row.last_authentication_strategy,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Locks a client inside a transaction for a change; 404 if it is gone.
pub async fn lock(tx: &mut tessera_store::Tx, instance_id: &str, id: &str) -> Result<BrowserClientRow> {
    tessera_store::browser_clients::lock(tx, instance_id, id).await?.ok_or_else(|| Error::not_found("client"))
}

/// Writes a changed client, stamping `updated_at = now`.
pub async fn save(tx: &mut tessera_store::Tx, row: &mut BrowserClientRow, now: i64) -> Result<()> {
    row.updated_at = now.max(row.updated_at);
    tessera_store::browser_clients::update(tx, row).await?;
    Ok(())
}

/// Opens an active session for `user_id` on the browser's client inside the caller's transaction (which holds
/// the client row, locked), makes it the client's last active session, and records the strategy that signed in.
/// Emits `session.created`.
pub async fn open_session_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    client: &mut BrowserClientRow,
    user_id: &str,
    strategy: &str,
    active_organization_id: Option<String>,
    now: i64,
) -> Result<Session> {
    let opts = crate::sessions::SessionOptions { active_organization_id, ..Default::default() };
    open_session_with_tx(ctx, tx, client, user_id, strategy, opts, now).await
}

/// [`open_session_tx`] with an actor (impersonation) and a session lifetime.
pub async fn open_session_with_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    client: &mut BrowserClientRow,
    user_id: &str,
    strategy: &str,
    opts: crate::sessions::SessionOptions,
    now: i64,
) -> Result<Session> {
    let user =
        tessera_store::users::lock(tx, &client.instance_id, user_id).await?.ok_or_else(crate::users::not_found)?;
    if user.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    let session =
        crate::sessions::insert_session_with_tx(ctx, tx, &client.instance_id, &client.id, user_id, opts, now).await?;
    client.last_active_session_id = Some(session.id.clone());
    client.last_authentication_strategy = Some(strategy.to_owned());
    save(tx, client, now).await?;
    Ok(session)
}

/// Deletes a browser's client and its sessions (`DELETE /v1/client`): the sessions end first, so that
/// `session.ended` is reported for each.
pub async fn destroy(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    lock(&mut tx, instance_id, id).await?;
    crate::sessions::end_client_sessions_tx(ctx, &mut tx, instance_id, id, status::ENDED, now).await?;
    tessera_store::browser_clients::delete(&mut tx, instance_id, id).await?;
    tx.commit().await?;
    Ok(())
}
