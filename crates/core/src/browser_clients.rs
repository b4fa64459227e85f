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
    if user.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
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

/// A change of a session's active organization, as the Frontend API asks for it: absent (keep), empty (the
/// personal account) or an organization id or slug the user is a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganizationChoice {
    /// Keep the session's active organization.
    Keep,
    /// Switch to the personal account.
    Personal,
    /// Switch to this organization (id or slug).
    Organization(String),
}

impl OrganizationChoice {
    /// From a form field that may be absent or empty.
    pub fn from_field(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            None => Self::Keep,
            Some("") => Self::Personal,
            Some(v) => Self::Organization(v.to_owned()),
        }
    }
}

fn session_not_on_client() -> Error {
    crate::sessions::not_found()
}

/// A session on the browser's client (404 for a session of another client).
pub fn session_of<'a>(client: &'a BrowserClient, session_id: &str) -> Result<&'a Session> {
    client.sessions.iter().find(|s| s.id == session_id).ok_or_else(session_not_on_client)
}

/// Makes a live session of the client its active one (`touch`, which records activity on it) and, when asked,
/// switches its active organization (`param` names the form field in errors). The client's `updated_at` moves only when its signed-in state
/// changes (another active session or organization), so that tokens the browser holds stay at or after it.
pub async fn activate_session(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    session_id: &str,
    organization: OrganizationChoice,
    param: &str,
) -> Result<Session> {
    // The organization is resolved before the transaction (no reads through the pool while it is open).
    let now = ctx.now_ms();
    let current = tessera_store::sessions::get_session(&ctx.db, instance_id, session_id)
        .await?
        .filter(|s| s.client_id == client_id)
        .ok_or_else(session_not_on_client)?;
    let requested = match &organization {
        OrganizationChoice::Keep => None,
        OrganizationChoice::Personal => Some(None),
        OrganizationChoice::Organization(requested) => {
            let found = tessera_store::organizations::get(&ctx.db, instance_id, requested).await?;
            let member = match &found {
                Some(org) => {
                    tessera_store::organization_memberships::role_of(&ctx.db, instance_id, &org.id, &current.user_id)
                        .await?
                        .is_some()
                }
                None => false,
            };
            match found {
                Some(org) if member => Some(Some(org.id)),
                _ => return Err(Error::param_value_invalid(param, "The user is not a member of this organization.")),
            }
        }
    };
    let settings = crate::settings::session_settings(ctx, instance_id).await?;
    let mut tx = ctx.db.begin().await?;
    let mut client = lock(&mut tx, instance_id, client_id).await?;
    let row = tessera_store::sessions::get_session_tx(&mut tx, instance_id, session_id)
        .await?
        .filter(|s| s.client_id == client.id)
        .ok_or_else(session_not_on_client)?;
    let session = Session::from_row(row, now);
    if session.status != status::ACTIVE {
        return Err(Error::new(ErrorCode::SignedOut));
    }
    crate::sessions::record_activity_tx(&mut tx, &settings, &session, instance_id, now).await?;
    let target = requested.unwrap_or_else(|| session.last_active_organization_id.clone());
    let mut changed = false;
    if target != session.last_active_organization_id {
        tessera_store::sessions::set_active_organization(&mut tx, instance_id, session_id, target.as_deref(), now)
            .await?;
        changed = true;
    }
    if client.last_active_session_id.as_deref() != Some(session_id) {
        client.last_active_session_id = Some(session_id.to_owned());
        changed = true;
    }
    if changed {
        save(&mut tx, &mut client, now).await?;
    }
    let row = tessera_store::sessions::get_session_tx(&mut tx, instance_id, session_id)
        .await?
        .ok_or_else(session_not_on_client)?;
    tx.commit().await?;
    Ok(Session::from_row(row, now))
}

/// Ends (`ended`) or removes (`removed`) one session of the client (`POST …/end`, `…/remove`).
pub async fn end_session(
    ctx: &Ctx,
    instance_id: &str,
    client_id: &str,
    session_id: &str,
    to: &'static str,
) -> Result<Session> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = lock(&mut tx, instance_id, client_id).await?;
    let row = tessera_store::sessions::get_session_tx(&mut tx, instance_id, session_id)
        .await?
        .filter(|s| s.client_id == client.id)
        .ok_or_else(session_not_on_client)?;
    let current = Session::from_row(row.clone(), now);
    let session = if current.status == status::ACTIVE {
        crate::sessions::end_one_tx(ctx, &mut tx, instance_id, row, to, now).await?
    } else {
        current
    };
    if client.last_active_session_id.as_deref() == Some(session_id) {
        let live = tessera_store::sessions::live_client_sessions_tx(&mut tx, instance_id, client_id, now).await?;
        client.last_active_session_id = live.last().map(|s| s.id.clone());
    }
    save(&mut tx, &mut client, now).await?;
    tx.commit().await?;
    Ok(session)
}

/// Signs the browser out of every session, keeping the client (`DELETE /v1/client/sessions`).
pub async fn sign_out(ctx: &Ctx, instance_id: &str, client_id: &str) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut client = lock(&mut tx, instance_id, client_id).await?;
    crate::sessions::end_client_sessions_tx(ctx, &mut tx, instance_id, client_id, status::REMOVED, now).await?;
    client.last_active_session_id = None;
    save(&mut tx, &mut client, now).await?;
    tx.commit().await?;
    Ok(())
}
