//! Tickets: one-time tokens that sign a user in. Actor tokens (impersonation: the session carries `actor`, so its
//! tokens carry the `act` claim), sign-in tokens, and testing tokens.
//!
//! A token is shown once, in the creation answer, and stored only as a keyed digest; lookups go through the
//! digest (a unique index), so no stored secret is ever compared byte by byte.
//!
//! The Frontend API redeems them ([`redeem_tx`]): the `ticket` strategy of `POST /v1/client/sign_ins`, and the
//! token's `url`, `GET /v1/tickets/accept?ticket=…` ([`crate::ticket_links`]); either opens a session on the
//! browser's client atomically with the token becoming `accepted`.

use serde_json::{Map, Value};
use tessera_store::tickets::{self as store, ActorTokenRow, SignInTokenRow};

use crate::sessions;
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// Default actor-token lifetime (Clerk: 1 hour).
pub const ACTOR_TOKEN_LIFETIME_S: i64 = 3600;
/// Default lifetime of an impersonation session (Clerk: 30 minutes).
pub const ACTOR_SESSION_S: i64 = 1800;
/// Default sign-in-token lifetime (Clerk: 30 days).
pub const SIGN_IN_TOKEN_LIFETIME_S: i64 = 30 * 24 * 3600;
/// Testing-token lifetime (Clerk: 1 hour).
pub const TESTING_TOKEN_LIFETIME_S: i64 = 3600;
/// Longest lifetime accepted for a token (ten years).
const MAX_LIFETIME_S: i64 = 315_360_000;
/// Length of the random part of a token.
const TOKEN_LEN: usize = 48;
/// Path of the Frontend API's ticket link.
pub const ACCEPT_PATH: &str = "/v1/tickets/accept";

/// Token statuses.
pub mod status {
    /// Not used yet.
    pub const PENDING: &str = "pending";
    /// Redeemed into a session.
    pub const ACCEPTED: &str = "accepted";
    /// Revoked before use.
    pub const REVOKED: &str = "revoked";
}

/// An actor token as the API shows it; `token` only in the creation answer.
#[derive(Debug, Clone)]
pub struct ActorToken {
    /// `act_…`
    pub id: String,
    /// The impersonated user.
    pub user_id: String,
    /// The actor payload.
    pub actor: Value,
    /// See [`status`].
    pub status: String,
    /// The token, once.
    pub token: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl ActorToken {
    fn from_row(r: ActorTokenRow, token: Option<String>) -> Self {
        Self {
            actor: serde_json::from_str(&r.actor).unwrap_or(Value::Null),
            id: r.id,
            user_id: r.user_id,
            status: r.status,
            token,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A sign-in token as the API shows it; `token` only in the creation answer.
#[derive(Debug, Clone)]
pub struct SignInToken {
    /// `sit_…`
    pub id: String,
    /// The user.
    pub user_id: String,
    /// See [`status`].
    pub status: String,
    /// The token, once.
    pub token: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl SignInToken {
    fn from_row(r: SignInTokenRow, token: Option<String>) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            status: r.status,
            token,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn lifetime(param: &str, v: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match v {
        None => Ok(default),
        Some(s) if (1..=max).contains(&s) => Ok(s),
        Some(_) => Err(Error::param_value_invalid(param, format!("{param} must be between 1 and {max}."))),
    }
}

/// Body of `POST /actor_tokens`.
#[derive(Debug, Default)]
pub struct NewActorToken {
    /// The user to impersonate.
    pub user_id: Option<String>,
    /// The actor payload, with `sub`.
    pub actor: Option<Value>,
    /// Token lifetime.
    pub expires_in_seconds: Option<i64>,
    /// Lifetime of the session the token creates.
    pub session_max_duration_in_seconds: Option<i64>,
}

/// `POST /actor_tokens`. An unknown user is a 422 on `user_id` (the operation declares no 404).
pub async fn create_actor_token(ctx: &Ctx, instance_id: &str, input: NewActorToken) -> Result<ActorToken> {
    let user_id = input.user_id.filter(|u| !u.is_empty()).ok_or_else(|| Error::param_missing("user_id"))?;
    let actor = input.actor.ok_or_else(|| Error::param_missing("actor"))?;
    let Value::Object(actor_map) = &actor else {
        return Err(Error::param_format_invalid("actor", "actor must be a JSON object."));
    };
    match actor_map.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => {}
        None => return Err(Error::param_missing("actor.sub")),
        Some(_) => return Err(Error::param_format_invalid("actor.sub", "actor.sub must be a non-empty string.")),
    }
    let actor_text = serde_json::to_string(&actor).map_err(Error::internal)?;
    if actor_text.len() > 8192 {
        return Err(Error::param_value_invalid("actor", "actor must be at most 8 KiB of JSON."));
    }
    let ttl = lifetime("expires_in_seconds", input.expires_in_seconds, ACTOR_TOKEN_LIFETIME_S, MAX_LIFETIME_S)?;
    let session_s = lifetime(
        "session_max_duration_in_seconds",
        input.session_max_duration_in_seconds,
        ACTOR_SESSION_S,
        sessions::SESSION_LIFETIME_MS / 1000,
    )?;
    let token = ids::random_base62(TOKEN_LEN);
    let now = ctx.now_ms();
    let row = ActorTokenRow {
        id: ids::new_id("act"),
        instance_id: instance_id.to_owned(),
        user_id: user_id.clone(),
        actor: actor_text,
        status: status::PENDING.into(),
        token_hash: ctx.secrets.digest(&token),
        expire_at: now + ttl * 1000,
        session_max_duration_seconds: session_s,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    if tessera_store::users::lock(&mut tx, instance_id, &user_id).await?.is_none() {
        return Err(Error::param_value_invalid("user_id", format!("No user was found with id {user_id}.")));
    }
    store::insert_actor_token(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(ActorToken::from_row(row, Some(token)))
}

/// `POST /actor_tokens/{id}/revoke`: only pending tokens can be revoked.
pub async fn revoke_actor_token(ctx: &Ctx, instance_id: &str, id: &str) -> Result<ActorToken> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::actor_token_tx(&mut tx, instance_id, id).await?.ok_or_else(|| Error::not_found("actor_token"))?;
    if store::set_actor_token_status(&mut tx, instance_id, id, status::PENDING, status::REVOKED, now).await? == 0 {
        return Err(Error::new(ErrorCode::ActorTokenCannotBeRevoked));
    }
    tx.commit().await?;
    Ok(ActorToken::from_row(ActorTokenRow { status: status::REVOKED.into(), updated_at: now, ..row }, None))
}

/// Body of `POST /sign_in_tokens`.
#[derive(Debug, Default)]
pub struct NewSignInToken {
    /// The user.
    pub user_id: Option<String>,
    /// Organization to activate on sign-in.
    pub org_id: Option<String>,
    /// Token lifetime.
    pub expires_in_seconds: Option<i64>,
}

/// `POST /sign_in_tokens`.
pub async fn create_sign_in_token(ctx: &Ctx, instance_id: &str, input: NewSignInToken) -> Result<SignInToken> {
    let user_id = input.user_id.filter(|u| !u.is_empty()).ok_or_else(|| Error::param_missing("user_id"))?;
    let ttl = lifetime("expires_in_seconds", input.expires_in_seconds, SIGN_IN_TOKEN_LIFETIME_S, MAX_LIFETIME_S)?;
    let org_id = input.org_id.filter(|o| !o.is_empty());
    if org_id.is_some() {
        crate::organizations::ensure_enabled(ctx, instance_id).await?;
    }
    let token = ids::random_base62(TOKEN_LEN);
    let now = ctx.now_ms();
    let row = SignInTokenRow {
        id: ids::new_id("sit"),
        instance_id: instance_id.to_owned(),
        user_id: user_id.clone(),
        organization_id: org_id.clone(),
        status: status::PENDING.into(),
        token_hash: ctx.secrets.digest(&token),
        expire_at: now + ttl * 1000,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    if tessera_store::users::lock(&mut tx, instance_id, &user_id).await?.is_none() {
        return Err(crate::users::not_found());
    }
    if let Some(org_id) = &org_id
        && !is_member_tx(&mut tx, instance_id, org_id, &user_id).await?
    {
        return Err(Error::not_found("organization"));
    }
    store::insert_sign_in_token(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(SignInToken::from_row(row, Some(token)))
}

/// A one-time sign-in token for `user_id` (activating `org_id` if the user is a member), valid `ttl_s` seconds,
/// inside the caller's transaction: what an IdP-initiated enterprise SSO sign-in hands the browser that brought the
/// IdP's answer, which redeems it on its own client. Returns the token.
pub(crate) async fn issue_sign_in_token_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    (user_id, org_id): (&str, Option<&str>),
    ttl_s: i64,
) -> Result<String> {
    let token = ids::random_base62(TOKEN_LEN);
    let now = ctx.now_ms();
    let row = SignInTokenRow {
        id: ids::new_id("sit"),
        instance_id: instance_id.to_owned(),
        user_id: user_id.to_owned(),
        organization_id: org_id.map(str::to_owned),
        status: status::PENDING.into(),
        token_hash: ctx.secrets.digest(&token),
        expire_at: now + ttl_s * 1000,
        created_at: now,
        updated_at: now,
    };
    store::insert_sign_in_token(tx, &row).await?;
    Ok(token)
}

async fn is_member_tx(tx: &mut tessera_store::Tx, instance_id: &str, org_id: &str, user_id: &str) -> Result<bool> {
    Ok(tessera_store::organization_invitations::member_role(tx, instance_id, org_id, user_id).await?.is_some())
}

/// `POST /sign_in_tokens/{id}/revoke`: only pending tokens can be revoked.
pub async fn revoke_sign_in_token(ctx: &Ctx, instance_id: &str, id: &str) -> Result<SignInToken> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row =
        store::sign_in_token_tx(&mut tx, instance_id, id).await?.ok_or_else(|| Error::not_found("sign_in_token"))?;
    if store::set_sign_in_token_status(&mut tx, instance_id, id, status::PENDING, status::REVOKED, now).await? == 0 {
        return Err(Error::new(ErrorCode::SignInTokenCannotBeRevoked));
    }
    tx.commit().await?;
    Ok(SignInToken::from_row(SignInTokenRow { status: status::REVOKED.into(), updated_at: now, ..row }, None))
}

/// A testing token: `{expires_at}-{random}`, with its expiry in Unix seconds.
#[derive(Debug, Clone)]
pub struct TestingToken {
    /// The token.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// `POST /testing_tokens`: a new token, valid for an hour; its digest is kept until it expires.
pub async fn create_testing_token(ctx: &Ctx, instance_id: &str) -> Result<TestingToken> {
    let now = ctx.now_ms();
    let expires_at = now.div_euclid(1000) + TESTING_TOKEN_LIFETIME_S;
    let token = format!("{expires_at}-{}", ids::random_base62(TOKEN_LEN));
    let mut tx = ctx.db.begin().await?;
    store::insert_testing_token(
        &mut tx,
        &ids::new_id("tt"),
        instance_id,
        &ctx.secrets.digest(&token),
        expires_at * 1000,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(TestingToken { token, expires_at })
}

/// Whether `token` is a live testing token of the instance.
pub async fn testing_token_valid(ctx: &Ctx, instance_id: &str, token: &str) -> Result<bool> {
    Ok(store::testing_token_live(&ctx.db, instance_id, &ctx.secrets.digest(token), ctx.now_ms()).await?)
}

/// A ticket redeemed inside a transaction: whom it signs in, and how.
#[derive(Debug, Clone)]
pub struct Redeemed {
    /// The ticket's instance.
    pub instance_id: String,
    /// The user it signs in.
    pub user_id: String,
    /// Impersonator payload (JSON object text) of an actor token.
    pub actor: Option<String>,
    /// Organization to activate (a sign-in token's, if the user is still a member).
    pub organization_id: Option<String>,
    /// Lifetime of the session it opens, ms (`None`: the instance's maximum lifetime).
    pub session_ms: Option<i64>,
}

/// Marks an actor or sign-in token `accepted` inside the caller's transaction and says whom it signs in. With
/// `instance_id`, a ticket of another instance is unknown. Unknown, used, revoked and expired tickets are refused
/// alike, except that expiry says so; a banned user is `user_banned`, a locked one `user_locked` (the token then
/// stays pending once the caller drops the transaction, and works when the lock ends).
pub async fn redeem_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: Option<&str>,
    ticket: &str,
    now: i64,
) -> Result<Redeemed> {
    let invalid = || Error::new(ErrorCode::TokenInvalid);
    if ticket.is_empty() || ticket.len() > 256 {
        return Err(invalid());
    }
    let digest = &ctx.secrets.digest(ticket);
    let ours = |i: &str| instance_id.is_none_or(|want| want == i);
    let (instance_id, user_id, actor, org_id, session_ms) = match store::actor_token_by_hash_tx(tx, digest).await? {
        Some(t) if ours(&t.instance_id) => {
            if t.status != status::PENDING {
                return Err(invalid());
            }
            if now >= t.expire_at {
                return Err(Error::new(ErrorCode::TokenExpired));
            }
            store::set_actor_token_status(tx, &t.instance_id, &t.id, status::PENDING, status::ACCEPTED, now).await?;
            (t.instance_id, t.user_id, Some(t.actor), None, Some(t.session_max_duration_seconds * 1000))
        }
        Some(_) => return Err(invalid()),
        None => match store::sign_in_token_by_hash_tx(tx, digest).await? {
            Some(t) if ours(&t.instance_id) => {
                if t.status != status::PENDING {
                    return Err(invalid());
                }
                if now >= t.expire_at {
                    return Err(Error::new(ErrorCode::TokenExpired));
                }
                store::set_sign_in_token_status(tx, &t.instance_id, &t.id, status::PENDING, status::ACCEPTED, now)
                    .await?;
                (t.instance_id, t.user_id, None, t.organization_id, None)
            }
            _ => return Err(invalid()),
        },
    };
    let user = tessera_store::users::lock(tx, &instance_id, &user_id).await?.ok_or_else(invalid)?;
    if user.banned {
        return Err(Error::new(ErrorCode::UserBanned));
    }
    if user.deprovisioned {
        return Err(Error::new(ErrorCode::UserDeprovisioned));
    }
    let lock = crate::users::lockout::LockState::of(&user, now);
    if lock.locked {
        return Err(lock.error());
    }
    // An organization the user has left since the token was made is not activated.
    let organization_id = match org_id {
        Some(o) if is_member_tx(tx, &instance_id, &o, &user_id).await? => Some(o),
        _ => None,
    };
    Ok(Redeemed { instance_id, user_id, actor, organization_id, session_ms })
}

/// A new refresh token for a session, shown once and stored as a digest: what the Frontend API's handshake gives a
/// production app in the `__refresh_<suffix>` cookie, and what `POST /sessions/{id}/refresh` asks for with an
/// expired session token. A session has one at most: a new one replaces (and so revokes) the earlier one.
pub async fn issue_refresh_token(ctx: &Ctx, instance_id: &str, session_id: &str) -> Result<String> {
    sessions::get_session(ctx, instance_id, session_id).await?;
    let now = ctx.now_ms();
    let refresh_token = ids::random_base62(TOKEN_LEN);
    let mut tx = ctx.db.begin().await?;
    store::replace_refresh_token(&mut tx, instance_id, session_id, &ctx.secrets.digest(&refresh_token), now).await?;
    tx.commit().await?;
    Ok(refresh_token)
}

/// Inputs of `POST /sessions/{id}/refresh`.
#[derive(Debug, Default)]
pub struct RefreshInput {
    /// The (expired) session token of the session.
    pub expired_token: String,
    /// The session's refresh token.
    pub refresh_token: String,
    /// The origin of the request (becomes `azp`).
    pub request_origin: String,
}

/// `POST /sessions/{id}/refresh`: a new session token for an active session, given a session token the instance
/// signed for this session (expired or not) and the session's refresh token. An unknown session is a 404; every
/// mismatch is a 401, which tells the SDKs to fall back to the handshake flow.
pub async fn refresh(
    ctx: &Ctx,
    instance: &crate::instances::Instance,
    session_id: &str,
    input: RefreshInput,
) -> Result<String> {
    let refused =
        |why: &str| Error::with(ErrorCode::SessionRefreshInvalid, "session refresh refused", why.to_owned(), None);
    let session = sessions::get_session(ctx, &instance.id, session_id).await?;
    let jwt = crate::keyring::verify_jwt(ctx, &instance.id, &input.expired_token)
        .await
        .ok_or_else(|| refused("The expired token was not signed by this instance."))?;
    if jwt.claims.get("sid").and_then(Value::as_str) != Some(session_id) {
        return Err(refused("The expired token belongs to another session."));
    }
    let stored = store::refresh_token_hash(&ctx.db, &instance.id, session_id)
        .await?
        .ok_or_else(|| refused("The session has no refresh token."))?;
    if !crate::crypto::constant_time_eq(&stored, &ctx.secrets.digest(&input.refresh_token)) {
        return Err(refused("The refresh token does not match the session."));
    }
    let origin = input.request_origin.trim();
    if origin.is_empty() {
        return Err(refused("request_origin is required."));
    }
    if session.status != sessions::status::ACTIVE {
        return Err(refused(&format!("The session is {}.", session.status)));
    }
    sessions::create_session_token(ctx, instance, session_id, None, Some(origin)).await
}

/// The actor payload of a token object: the stored object, or `{}` if it could not be read.
pub fn actor_object(actor: &Value) -> Value {
    match actor {
        Value::Object(_) => actor.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// `GET /clients` (deprecated by Clerk, still in the spec): a page of the instance's clients with their sessions,
/// newest first, and the total.
pub async fn list_clients(
    ctx: &Ctx,
    instance_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<sessions::Client>, i64)> {
    let (rows, total) = tessera_store::client_list::list_clients(&ctx.db, instance_id, limit, offset).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(sessions::get_client(ctx, instance_id, &r.id).await?);
    }
    Ok((out, total))
}
