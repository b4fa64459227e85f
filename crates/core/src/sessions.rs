//! Sessions and clients: creation (for testing, as Clerk's BAPI allows), listing, revocation, ending on ban/lock,
//! and session tokens (RS256 JWTs with Clerk's v2 claims) signed by the instance keyring.
//!
//! Stored statuses change by events (revoke, ban, lock); `expired` and `abandoned` follow from the clock, so a
//! session read after its `expire_at` is expired without any background job. `expire_at` comes from the instance's
//! maximum lifetime when the session opens; `abandon_at` from its inactivity timeout, moved on by every recorded
//! activity (a touch, a minted token) — see [`crate::settings::SessionSettings`].

use serde_json::{Map, Value, json};
use tessera_store::sessions::{ClientRow, SessionFilter, SessionRow, StatusFilter};

use crate::events::EventType;
use crate::instances::{Environment, Instance};
use crate::settings::SessionSettings;
use crate::{Ctx, Error, ErrorCode, Result, ids, keyring};

/// Clerk's default maximum session lifetime (7 days), also the longest an impersonation or agent-task session may
/// be asked to last.
pub const SESSION_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
/// When an unused session is abandoned when the instance sets no inactivity timeout (Clerk: 30 days), and never
/// before it expires.
pub const ABANDON_AFTER_MS: i64 = 30 * 24 * 3600 * 1000;
/// The expiry of a session when the instance sets no maximum lifetime (ten years).
const NO_MAX_LIFETIME_MS: i64 = crate::settings::MAX_DURATION_S * 1000;
/// Bounds of `expires_in_seconds` (the spec's).
pub const TOKEN_LIFETIME_RANGE: std::ops::RangeInclusive<i64> = 30..=315_360_000;
/// Session-token `nbf` lies this far before `iat`, as Clerk's do (tolerates clock skew between servers).
const NBF_LEEWAY_S: i64 = 10;
/// The `cat` header of Clerk session tokens (never the M2M category).
pub const SESSION_TOKEN_CATEGORY: &str = "cl_B7d4PD111AAA";
/// Activity (`last_active_at`) is written at most this often per session.
const ACTIVITY_INTERVAL_MS: i64 = 1000;

/// Statuses as the API shows them.
pub mod status {
    /// Signed in.
    pub const ACTIVE: &str = "active";
    /// Revoked through the API (or by banning the user).
    pub const REVOKED: &str = "revoked";
    /// Signed out (or ended by locking the user).
    pub const ENDED: &str = "ended";
    /// Past `expire_at`.
    pub const EXPIRED: &str = "expired";
    /// Removed from its client.
    pub const REMOVED: &str = "removed";
    /// Not used until `abandon_at`.
    pub const ABANDONED: &str = "abandoned";
    /// Replaced by another session.
    pub const REPLACED: &str = "replaced";
}

/// A session as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `sess_…`
    pub id: String,
    /// `client_…`
    pub client_id: String,
    /// `user_…`
    pub user_id: String,
    /// Effective status at the time of reading.
    pub status: &'static str,
    /// Impersonator payload.
    pub actor: Option<Value>,
    /// Active organization.
    pub last_active_organization_id: Option<String>,
    /// Unix ms.
    pub last_active_at: i64,
    /// Unix ms.
    pub expire_at: i64,
    /// Unix ms.
    pub abandon_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// When the user last verified a first factor on this session (its sign-in, or a reverification), Unix ms.
    pub first_factor_verified_at: i64,
    /// When the user last verified a second factor on this session, Unix ms (`None`: never).
    pub second_factor_verified_at: Option<i64>,
}

fn stored_status(s: &str) -> &'static str {
    match s {
        status::REVOKED => status::REVOKED,
        status::ENDED => status::ENDED,
        status::REMOVED => status::REMOVED,
        status::REPLACED => status::REPLACED,
        _ => status::ACTIVE,
    }
}

impl Session {
    /// The session a stored row is at `now`.
    pub fn from_row(r: SessionRow, now: i64) -> Self {
        let mut status = stored_status(&r.status);
        if status == status::ACTIVE {
            if now >= r.abandon_at {
                status = status::ABANDONED;
            } else if now >= r.expire_at {
                status = status::EXPIRED;
            }
        }
        Self {
            status,
            actor: r.actor.as_deref().and_then(|a| serde_json::from_str(a).ok()),
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            last_active_organization_id: r.last_active_organization_id,
            last_active_at: r.last_active_at,
            expire_at: r.expire_at,
            abandon_at: r.abandon_at,
            first_factor_verified_at: r.first_factor_verified_at.unwrap_or(r.created_at),
            second_factor_verified_at: r.second_factor_verified_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    /// Clerk's factor verification age at `now` (Unix ms): whole minutes since the first and since the second
    /// factor was last verified on the session, `-1` for a factor never verified (the `fva` claim).
    pub fn factor_verification_age(&self, now: i64) -> [i64; 2] {
        let minutes = |at: i64| ((now - at) / 60_000).max(0);
        [minutes(self.first_factor_verified_at), self.second_factor_verified_at.map_or(-1, minutes)]
    }
}

/// A client (a browser or device) and its sessions, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// `client_…`
    pub id: String,
    /// Sessions on the client.
    pub sessions: Vec<Session>,
    /// Last active session.
    pub last_active_session_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// 404 for a session.
pub fn not_found() -> Error {
    Error::not_found("session")
}

/// `expire_at` and `abandon_at` of a session opened at `now`: `lifetime_ms` (impersonation, agent tasks) or the
/// instance's maximum lifetime, and the inactivity deadline.
fn deadlines(settings: &SessionSettings, lifetime_ms: Option<i64>, now: i64) -> (i64, i64) {
    let max_lifetime = settings.max_lifetime_seconds.map(|s| s * 1000);
    let expire_at = now + lifetime_ms.or(max_lifetime).unwrap_or(NO_MAX_LIFETIME_MS);
    (expire_at, abandon_at(settings, expire_at, now))
}

/// `abandon_at` after activity at `now`: the inactivity timeout from now, or, without one, Clerk's 30 days but
/// never before `expire_at` (so that a session past its lifetime reads `expired` first).
fn abandon_at(settings: &SessionSettings, expire_at: i64, now: i64) -> i64 {
    match settings.inactivity_timeout_seconds {
        Some(s) => now + s * 1000,
        None => (now + ABANDON_AFTER_MS).max(expire_at),
    }
}

/// Records activity on a live session and its user inside the caller's transaction (at most once per
/// [`ACTIVITY_INTERVAL_MS`]): `last_active_at` and the inactivity deadline move on.
pub(crate) async fn record_activity_tx(
    tx: &mut tessera_store::Tx,
    settings: &SessionSettings,
    session: &Session,
    instance_id: &str,
    now: i64,
) -> Result<()> {
    if now - session.last_active_at >= ACTIVITY_INTERVAL_MS {
        let abandon_at = abandon_at(settings, session.expire_at, now);
        tessera_store::sessions::touch(
            tx,
            instance_id,
            &session.id,
            &session.user_id,
            now,
            ACTIVITY_INTERVAL_MS,
            abandon_at,
        )
        .await?;
    }
    Ok(())
}

/// Creates an active session for an existing user, on a new client. Like Clerk, only development instances
/// allow it (production instances use sign-in tokens).
pub async fn create_session(
    ctx: &Ctx,
    instance: &Instance,
    user_id: &str,
    active_organization_id: Option<&str>,
) -> Result<Session> {
    if instance.environment == Environment::Production {
        return Err(Error::new(ErrorCode::DevelopmentInstanceRequired));
    }
    if user_id.is_empty() {
        return Err(Error::param_missing("user_id"));
    }
    let active_organization =
        crate::organizations::memberships::active_organization(ctx, &instance.id, user_id, active_organization_id)
            .await?;
    let now = ctx.now_ms();
    let session_id = ids::new_id("sess");
    let client = ClientRow {
        id: ids::new_id("client"),
        instance_id: instance.id.clone(),
        last_active_session_id: Some(session_id.clone()),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    let settings = crate::settings::session_settings_tx(&mut tx, &instance.id).await?;
    let (expire_at, abandon_at) = deadlines(&settings, None, now);
    let row = SessionRow {
        id: session_id,
        instance_id: instance.id.clone(),
        client_id: client.id.clone(),
        user_id: user_id.to_owned(),
        status: status::ACTIVE.into(),
        actor: None,
        last_active_organization_id: active_organization,
        last_active_at: now,
        expire_at,
        abandon_at,
        created_at: now,
        updated_at: now,
        first_factor_verified_at: Some(now),
        second_factor_verified_at: None,
    };
    // Locking the user row orders this against a concurrent delete/ban of the same user.
    let user = tessera_store::users::lock(&mut tx, &instance.id, user_id).await?.ok_or_else(crate::users::not_found)?;
    if user.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    if user.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
    }
    tessera_store::sessions::insert_client(&mut tx, &client).await?;
    tessera_store::sessions::insert_session(&mut tx, &row).await?;
    tessera_store::sessions::touch_user(&mut tx, &instance.id, user_id, now).await?;
    let session = Session::from_row(row, now);
    emit_session(ctx, &mut tx, &instance.id, &session, EventType::SessionCreated).await?;
    tx.commit().await?;
    Ok(session)
}

/// Opens an active session for a user on a new client inside the caller's transaction (which holds the user,
/// e.g. just created): the sign-in that completes a sign-up. Emits `session.created`.
pub(crate) async fn open_session_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Session> {
    let client = ClientRow {
        id: ids::new_id("client"),
        instance_id: instance_id.to_owned(),
        last_active_session_id: None,
        created_at: now,
        updated_at: now,
    };
    tessera_store::sessions::insert_client(tx, &client).await?;
    let session = insert_session_tx(ctx, tx, instance_id, &client.id, user_id, None, now).await?;
    let mut row =
        tessera_store::browser_clients::lock(tx, instance_id, &client.id).await?.ok_or_else(client_not_found)?;
    row.last_active_session_id = Some(session.id.clone());
    tessera_store::browser_clients::update(tx, &row).await?;
    Ok(session)
}

/// Inserts an active session for a user on an existing client inside the caller's transaction, records the
/// sign-in on the user, and emits `session.created`. The caller holds the user (and the client) and updates the
/// client's last active session.
pub(crate) async fn insert_session_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    client_id: &str,
    user_id: &str,
    active_organization_id: Option<String>,
    now: i64,
) -> Result<Session> {
    let opts = SessionOptions { active_organization_id, ..SessionOptions::default() };
    insert_session_with_tx(ctx, tx, instance_id, client_id, user_id, opts, now).await
}

/// What a new session carries besides its user: the active organization, an impersonator (`actor`, JSON text),
/// for impersonation a shorter lifetime, and whether the sign-in verified a second factor.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Organization made active.
    pub active_organization_id: Option<String>,
    /// Impersonator payload (JSON object text).
    pub actor: Option<String>,
    /// Lifetime in ms (default: the instance's maximum lifetime).
    pub lifetime_ms: Option<i64>,
    /// The sign-in verified a second factor (the session starts with a second factor age of 0).
    pub second_factor_verified: bool,
}

/// [`insert_session_tx`] with an actor and a lifetime.
pub(crate) async fn insert_session_with_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    client_id: &str,
    user_id: &str,
    opts: SessionOptions,
    now: i64,
) -> Result<Session> {
    let settings = crate::settings::session_settings_tx(tx, instance_id).await?;
    let (expire_at, abandon_at) = deadlines(&settings, opts.lifetime_ms, now);
    let row = SessionRow {
        id: ids::new_id("sess"),
        instance_id: instance_id.to_owned(),
        client_id: client_id.to_owned(),
        user_id: user_id.to_owned(),
        status: status::ACTIVE.into(),
        actor: opts.actor,
        last_active_organization_id: opts.active_organization_id,
        last_active_at: now,
        expire_at,
        abandon_at,
        created_at: now,
        updated_at: now,
        first_factor_verified_at: Some(now),
        second_factor_verified_at: opts.second_factor_verified.then_some(now),
    };
    tessera_store::sessions::insert_session(tx, &row).await?;
    tessera_store::sessions::touch_user(tx, instance_id, user_id, now).await?;
    let session = Session::from_row(row, now);
    emit_session(ctx, tx, instance_id, &session, EventType::SessionCreated).await?;
    Ok(session)
}

/// Ends (`ended`) or removes (`removed`) every live session on a client inside the caller's transaction: signing
/// out of a browser. Each emits `session.ended` / `session.removed`.
pub(crate) async fn end_client_sessions_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    client_id: &str,
    to: &'static str,
    now: i64,
) -> Result<()> {
    for row in tessera_store::sessions::live_client_sessions_tx(tx, instance_id, client_id, now).await? {
        end_one_tx(ctx, tx, instance_id, row, to, now).await?;
    }
    Ok(())
}

/// Moves one live session to `ended` or `removed` and reports it.
pub(crate) async fn end_one_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    mut row: SessionRow,
    to: &'static str,
    now: i64,
) -> Result<Session> {
    tessera_store::sessions::set_status(tx, instance_id, &row.id, status::ACTIVE, to, now).await?;
    row.status = to.to_owned();
    row.updated_at = now;
    let session = Session::from_row(row, now);
    let event_type = if to == status::REMOVED { EventType::SessionRemoved } else { EventType::SessionEnded };
    emit_session(ctx, tx, instance_id, &session, event_type).await?;
    Ok(session)
}

/// Filters of the session list, as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct SessionListQuery {
    /// Only this client's sessions.
    pub client_id: Option<String>,
    /// Only this user's sessions.
    pub user_id: Option<String>,
    /// Only sessions in this (effective) status.
    pub status: Option<String>,
}

/// Parses a `status` filter value.
pub fn parse_status_filter(s: &str) -> Result<Option<String>> {
    match s {
        "" => Ok(None),
        status::ACTIVE
        | status::REVOKED
        | status::ENDED
        | status::EXPIRED
        | status::REMOVED
        | status::ABANDONED
        | status::REPLACED => Ok(Some(s.to_owned())),
        _ => Err(Error::query_param_invalid(
            "status",
            "status must be one of abandoned, active, ended, expired, removed, replaced, revoked.",
        )),
    }
}

/// A page of sessions, newest first, and the total.
pub async fn list_sessions(
    ctx: &Ctx,
    instance_id: &str,
    q: &SessionListQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Session>, i64)> {
    let status = q.status.as_deref().map(|s| match s {
        status::ACTIVE => StatusFilter::Active,
        status::EXPIRED => StatusFilter::Expired,
        status::ABANDONED => StatusFilter::Abandoned,
        other => StatusFilter::Stored(other.to_owned()),
    });
    let filter = SessionFilter { client_id: q.client_id.clone(), user_id: q.user_id.clone(), status };
    let now = ctx.now_ms();
    let (rows, total) =
        tessera_store::sessions::list_sessions(&ctx.db, instance_id, &filter, now, limit, offset).await?;
    Ok((rows.into_iter().map(|r| Session::from_row(r, now)).collect(), total))
}

/// One session, or 404.
pub async fn get_session(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Session> {
    let row = tessera_store::sessions::get_session(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    Ok(Session::from_row(row, ctx.now_ms()))
}

/// Revokes a session. A session that is no longer active (revoked, ended, expired…) keeps its status.
pub async fn revoke_session(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Session> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::sessions::get_session_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let was_active = Session::from_row(row, now).status == status::ACTIVE;
    if was_active {
        tessera_store::sessions::set_status(&mut tx, instance_id, id, status::ACTIVE, status::REVOKED, now).await?;
    }
    let row = tessera_store::sessions::get_session_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let session = Session::from_row(row, now);
    if was_active {
        emit_session(ctx, &mut tx, instance_id, &session, EventType::SessionRevoked).await?;
    }
    tx.commit().await?;
    Ok(session)
}

/// Revokes every live session of a user but `keep` (a password change's `sign_out_of_other_sessions`); each emits
/// `session.revoked`.
pub async fn revoke_other_sessions(ctx: &Ctx, instance_id: &str, user_id: &str, keep: &str) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let live = tessera_store::sessions::live_user_sessions_tx(&mut tx, instance_id, user_id, now).await?;
    for mut row in live.into_iter().filter(|r| r.id != keep) {
        tessera_store::sessions::set_status(&mut tx, instance_id, &row.id, status::ACTIVE, status::REVOKED, now)
            .await?;
        row.status = status::REVOKED.to_owned();
        row.updated_at = now;
        emit_session(ctx, &mut tx, instance_id, &Session::from_row(row, now), EventType::SessionRevoked).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ends the live sessions of users inside the caller's transaction: `revoked` when banned, `ended` when locked; each
/// ended session emits `session.revoked` / `session.ended`.
pub async fn end_sessions_of_users(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    user_ids: &[String],
    to: &'static str,
    now: i64,
) -> Result<u64> {
    let mut ending = Vec::new();
    for user_id in user_ids {
        ending.extend(tessera_store::sessions::live_user_sessions_tx(tx, instance_id, user_id, now).await?);
    }
    let ended = tessera_store::sessions::end_user_sessions(tx, instance_id, user_ids, to, now).await?;
    let event_type = if to == status::REVOKED { EventType::SessionRevoked } else { EventType::SessionEnded };
    for mut row in ending {
        row.status = to.to_owned();
        row.updated_at = now;
        emit_session(ctx, tx, instance_id, &Session::from_row(row, now), event_type).await?;
    }
    Ok(ended)
}

/// Emits a `session.*` event: the session object with its user (`SessionEventPayload`), read inside `tx`.
pub async fn emit_session(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    session: &Session,
    event_type: EventType,
) -> Result<()> {
    let Some(user) = crate::users::get_user_tx(ctx, tx, instance_id, &session.user_id).await? else {
        return Ok(());
    };
    let mut data =
        serde_json::to_value(crate::objects::session::SessionObject::from(session)).map_err(Error::internal)?;
    // The webhook spec's `Session` is closed and has no `tasks` (the Backend API's has).
    if let Some(fields) = data.as_object_mut() {
        fields.remove("tasks");
    }
    data["user"] = crate::users::to_value(&crate::users::objects::UserObject::new(&user, ""))?;
    crate::events::emit(ctx, tx, instance_id, event_type, &data).await
}

/// Validates `expires_in_seconds` of the token operations.
pub fn token_lifetime(expires_in_seconds: Option<i64>, default: i64) -> Result<i64> {
    match expires_in_seconds {
        None => Ok(default),
        Some(s) if TOKEN_LIFETIME_RANGE.contains(&s) => Ok(s),
        Some(_) => Err(Error::param_value_invalid(
            "expires_in_seconds",
            format!(
                "expires_in_seconds must be between {} and {}.",
                TOKEN_LIFETIME_RANGE.start(),
                TOKEN_LIFETIME_RANGE.end()
            ),
        )),
    }
}

/// An active session about to get a token; records the activity on the session and its user.
pub(crate) async fn use_active_session(
    ctx: &Ctx,
    settings: &SessionSettings,
    instance_id: &str,
    id: &str,
) -> Result<Session> {
    let now = ctx.now_ms();
    let row = session_row(ctx, instance_id, id, now).await?.ok_or_else(not_found)?;
    let session = Session::from_row(row, now);
    if session.status != status::ACTIVE {
        // Only active sessions get tokens; Clerk answers this case as a missing session.
        return Err(Error::with(
            ErrorCode::ResourceNotFound,
            "session not active",
            format!("The session is {}; tokens are only issued for active sessions.", session.status),
            None,
        ));
    }
    if now - session.last_active_at >= ACTIVITY_INTERVAL_MS {
        let mut tx = ctx.db.begin().await?;
        record_activity_tx(&mut tx, settings, &session, instance_id, now).await?;
        tx.commit().await?;
    }
    Ok(session)
}

/// A session's row: from the node's cache while nothing this node committed since could have changed it (see
/// `Caches::sessions`; other nodes' changes arrive by notification, within the caches' bound).
async fn session_row(ctx: &Ctx, instance_id: &str, id: &str, now: i64) -> Result<Option<SessionRow>> {
    let changes = (ctx.db.changes().sessions(), ctx.db.changes().users());
    let load = async || Ok(tessera_store::sessions::get_session(&ctx.db, instance_id, id).await?);
    ctx.caches.sessions.counted(id, instance_id, now, changes, load).await
}

/// The claims every token of a session carries (Clerk's session token v2), valid from `iat` for `lifetime_s`.
pub(crate) fn session_claims(instance: &Instance, session: &Session, iat: i64, lifetime_s: i64) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("exp".into(), json!(iat + lifetime_s));
    claims.insert("fva".into(), json!(session.factor_verification_age(iat * 1000)));
    claims.insert("iat".into(), json!(iat));
    claims.insert("iss".into(), json!(format!("https://{}", instance.frontend_host())));
    claims.insert("nbf".into(), json!(iat - NBF_LEEWAY_S));
    claims.insert("sid".into(), json!(session.id));
    claims.insert("sub".into(), json!(session.user_id));
    claims.insert("v".into(), json!(2));
    if let Some(actor) = &session.actor {
        claims.insert("act".into(), actor.clone());
    }
    claims
}

/// Mints a session token for an active session, valid for `expires_in_seconds` or the instance's token lifetime.
/// `azp` is the origin the token is for, when known.
pub async fn create_session_token(
    ctx: &Ctx,
    instance: &Instance,
    session_id: &str,
    expires_in_seconds: Option<i64>,
    azp: Option<&str>,
) -> Result<String> {
    let settings = crate::settings::session_settings(ctx, &instance.id).await?;
    let lifetime = token_lifetime(expires_in_seconds, settings.token_lifetime_seconds)?;
    let session = use_active_session(ctx, &settings, &instance.id, session_id).await?;
    let iat = ctx.now_ms().div_euclid(1000);
    let mut claims = session_claims(instance, &session, iat, lifetime);
    let active_organization = session.last_active_organization_id.as_deref();
    let billing =
        crate::billing::claims::entitlements(ctx, &instance.id, &session.user_id, active_organization).await?;
    let plan_features =
        billing.as_ref().filter(|e| e.scope == crate::billing::PayerType::Org).map(|e| e.features.as_slice());
    crate::organizations::memberships::add_organization_claims(
        ctx,
        &instance.id,
        &session.user_id,
        active_organization,
        plan_features,
        &mut claims,
    )
    .await?;
    if let Some(e) = &billing {
        crate::billing::claims::insert(e, &mut claims);
    }
    if let Some(azp) = azp {
        claims.insert("azp".into(), json!(azp));
    }
    keyring::sign_jwt(ctx, &instance.id, &[("cat", SESSION_TOKEN_CATEGORY)], &Value::Object(claims)).await
}

fn client_not_found() -> Error {
    Error::not_found("client")
}

async fn load_client(ctx: &Ctx, instance_id: &str, row: ClientRow) -> Result<Client> {
    let now = ctx.now_ms();
    let sessions = tessera_store::sessions::sessions_of_client(&ctx.db, instance_id, &row.id).await?;
    Ok(Client {
        sessions: sessions.into_iter().map(|s| Session::from_row(s, now)).collect(),
        id: row.id,
        last_active_session_id: row.last_active_session_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// One client with its sessions, or 404.
pub async fn get_client(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Client> {
    let row = tessera_store::sessions::get_client(&ctx.db, instance_id, id).await?.ok_or_else(client_not_found)?;
    load_client(ctx, instance_id, row).await
}

/// The client a token stands for. The token must be signed by the instance keyring and unexpired; it names the
/// client either directly (Clerk's client token: `{"id": "client_…"}`) or through one of its sessions (a
/// session token's `sid`).
pub async fn verify_client(ctx: &Ctx, instance_id: &str, token: &str) -> Result<Client> {
    let invalid = || Error::new(ErrorCode::TokenInvalid);
    let jwt = keyring::verify_jwt(ctx, instance_id, token).await.ok_or_else(invalid)?;
    let now_s = ctx.now_ms().div_euclid(1000);
    if let Some(exp) = jwt.claims.get("exp")
        && exp.as_i64().is_none_or(|exp| exp <= now_s)
    {
        return Err(Error::new(ErrorCode::TokenExpired));
    }
    let client_id = match (jwt.claims.get("id").and_then(Value::as_str), jwt.claims.get("sid").and_then(Value::as_str))
    {
        (Some(id), _) if id.starts_with("client_") => id.to_owned(),
        (_, Some(sid)) => {
            tessera_store::sessions::get_session(&ctx.db, instance_id, sid)
                .await?
                .ok_or_else(client_not_found)?
                .client_id
        }
        _ => return Err(invalid()),
    };
    get_client(ctx, instance_id, &client_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lifetime_is_bounded() {
        assert_eq!(token_lifetime(None, 60).unwrap(), 60);
        assert_eq!(token_lifetime(Some(30), 60).unwrap(), 30);
        assert_eq!(token_lifetime(Some(315_360_000), 60).unwrap(), 315_360_000);
        for bad in [29, 315_360_001, -1] {
            let e = token_lifetime(Some(bad), 60).unwrap_err();
            assert_eq!((e.status(), e.code()), (422, ErrorCode::FormParamValueInvalid));
        }
    }
}
