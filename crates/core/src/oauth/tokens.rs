//! OAuth access and refresh tokens.
//!
//! * Opaque access tokens (`oat_…`) and refresh tokens (`ort_…`) are random secrets stored as keyed digests, each
//!   with an id (`oat_`/`ort_` + 32 hex) the API shows. Revocation and expiry are read from the database on every
//!   verification, so they take effect at once on every node.
//! * With the instance's `oauth_jwt_access_tokens`, access tokens are RS256 JWTs (`typ: at+jwt`) signed by the
//!   instance keyring: stateless, never stored, and — as Clerk documents — not revocable; they expire.
//!
//! Revoking any token revokes its grant: the access and refresh tokens issued together, and those refreshed
//! from them.

use serde_json::{Map, Value};
use tessera_store::oauth_grants::{GrantRow, TokenRow, TokenWithGrant};

use super::{ACCESS_TOKEN_LIFETIME_MS, OAuthApplication, split_scopes};
use crate::ids::{is_hex_id, new_hex_id, random_base62};
use tessera_store::Tx;

use crate::{Ctx, Error, ErrorCode, Result};

/// The JOSE `typ` of JWT access tokens (RFC 9068).
pub const JWT_TYP: &str = "at+jwt";
/// Prefix of opaque access tokens (the SDKs route `oat_…` tokens to the Backend API's verify).
pub const ACCESS_PREFIX: &str = "oat";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "ort";

/// An access token as `POST /oauth_applications/access_tokens/verify` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessToken {
    /// `oat_` + 32 hex (for a JWT: its `jti`).
    pub id: String,
    /// The application's `client_id`.
    pub client_id: String,
    /// The user it acts for.
    pub subject: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Revoked.
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Past its expiration.
    pub expired: bool,
    /// Unix ms.
    pub expiration: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// RFC 8707 audience (the `resource` it was issued for).
    pub audience: Option<String>,
    /// The session the person authorized from.
    pub session_id: Option<String>,
    /// Organization (`user:org:read`).
    pub org_id: Option<String>,
}

/// The outcome of a verification: a live token, or a JWT that has expired (`{active: false}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Verified {
    /// A live token.
    Active(Box<AccessToken>),
    /// A JWT access token past its `exp`.
    Inactive,
}

/// 404 with the machine-auth dialect's wording.
fn invalid(why: &str) -> Error {
    Error::with(ErrorCode::ResourceNotFound, "not found", why, None)
}

/// 400 `bad_request`.
pub fn bad_request(param: Option<&str>, why: impl Into<String>) -> Error {
    Error::with(ErrorCode::BadRequest, "Bad Request", why, param)
}

/// The token as the API shows it.
pub fn access_token_of(t: &TokenWithGrant, now: i64) -> AccessToken {
    AccessToken {
        id: t.token.id.clone(),
        client_id: t.client_id.clone(),
        subject: t.user_id.clone(),
        scopes: split_scopes(&t.token.scopes),
        revoked: t.token.revoked,
        revocation_reason: t.token.revocation_reason.clone(),
        expired: t.token.expiration.is_some_and(|e| e <= now),
        expiration: t.token.expiration,
        created_at: t.token.created_at,
        updated_at: t.token.updated_at,
        audience: t.resource.clone(),
        session_id: t.session_id.clone(),
        org_id: t.org_id.clone(),
    }
}

/// Whether a string looks like a compact JWS.
pub fn is_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.starts_with(ACCESS_PREFIX) && !token.starts_with(REFRESH_PREFIX)
}

/// The stored token (any kind) with this secret, with its grant.
pub async fn lookup(ctx: &Ctx, instance_id: &str, token: &str) -> Result<Option<TokenWithGrant>> {
    if token.is_empty() || token.len() > 256 {
        return Ok(None);
    }
    let digest = ctx.secrets.digest(token);
    Ok(tessera_store::oauth_grants::token_with_grant(&ctx.db, instance_id, &digest).await?)
}

/// Verifies an access token (opaque or JWT). Unknown, revoked or expired opaque tokens, refresh tokens and JWTs
/// that fail verification answer 404; an expired JWT answers [`Verified::Inactive`].
pub async fn verify(ctx: &Ctx, instance_id: &str, token: &str) -> Result<Verified> {
    if is_jwt(token) {
        return verify_jwt(ctx, instance_id, token).await;
    }
    if !token.starts_with("oat_") {
        return Err(invalid("The OAuth access token is not valid."));
    }
    let found = lookup(ctx, instance_id, token)
        .await?
        .filter(|t| t.token.kind == "access")
        .ok_or_else(|| invalid("The OAuth access token is not valid."))?;
    let now = ctx.now_ms();
    if found.token.revoked {
        return Err(invalid("The OAuth access token has been revoked."));
    }
    if found.token.expiration.is_some_and(|e| e <= now) {
        return Err(invalid("The OAuth access token has expired."));
    }
    Ok(Verified::Active(Box::new(access_token_of(&found, now))))
}

async fn verify_jwt(ctx: &Ctx, instance_id: &str, token: &str) -> Result<Verified> {
    let bad = || invalid("The OAuth access token is not valid.");
    let jwt = crate::keyring::verify_jwt(ctx, instance_id, token).await.ok_or_else(bad)?;
    let typ = jwt.header.get("typ").and_then(Value::as_str).unwrap_or_default();
    if !typ.eq_ignore_ascii_case(JWT_TYP) && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(bad());
    }
    let claims = jwt.claims;
    let s = |name: &str| claims.get(name).and_then(Value::as_str);
    let i = |name: &str| claims.get(name).and_then(Value::as_i64);
    let id = s("jti").filter(|j| is_hex_id(j, ACCESS_PREFIX)).ok_or_else(bad)?;
    let subject = s("sub").filter(|u| crate::ids::is_ksuid_id(u, "user")).ok_or_else(bad)?;
    let client_id = s("client_id").ok_or_else(bad)?;
    let (iat, exp) = (i("iat").ok_or_else(bad)?, i("exp").ok_or_else(bad)?);
    let now_secs = ctx.clock.now_secs();
    if exp <= now_secs {
        return Ok(Verified::Inactive);
    }
    if i("nbf").is_some_and(|nbf| nbf > now_secs) {
        return Err(invalid("The OAuth access token is not valid yet."));
    }
    // A JWT outlives nothing: once its application or user is deleted it no longer verifies.
    super::applications::by_client_id(ctx, instance_id, client_id).await?.ok_or_else(bad)?;
    tessera_store::users::get(&ctx.db, instance_id, subject).await?.ok_or_else(bad)?;
    let audience = match claims.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    Ok(Verified::Active(Box::new(AccessToken {
        id: id.to_owned(),
        client_id: client_id.to_owned(),
        subject: subject.to_owned(),
        scopes: split_scopes(s("scope").unwrap_or_default()),
        revoked: false,
        revocation_reason: None,
        expired: false,
        expiration: Some(exp * 1000),
        created_at: iat * 1000,
        updated_at: iat * 1000,
        audience,
        session_id: s("sid").map(str::to_owned),
        org_id: s("org_id").map(str::to_owned),
    })))
}

/// `POST /oauth_applications/{id}/revoke_token`: revokes the grant of an opaque access or refresh token of this
/// application. JWT access tokens cannot be revoked (400); an unknown token, or one of another application, 404.
pub async fn revoke_for_application(ctx: &Ctx, instance_id: &str, application_id: &str, token: &str) -> Result<()> {
    super::applications::get(ctx, instance_id, application_id).await?;
    if is_jwt(token) {
        return Err(bad_request(Some("token"), "JWT access tokens cannot be revoked."));
    }
    let found = lookup(ctx, instance_id, token)
        .await?
        .filter(|t| t.oauth_application_id == application_id)
        .ok_or_else(|| Error::not_found("oauth token"))?;
    revoke_grant(ctx, instance_id, &found.token.grant_id, "Revoked by the application").await
}

/// Revokes a grant with every token of it.
pub async fn revoke_grant(ctx: &Ctx, instance_id: &str, grant_id: &str, reason: &str) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    tessera_store::oauth_grants::revoke_grant(&mut tx, instance_id, grant_id, reason, ctx.now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Tokens minted for a grant: the opaque secrets, ready to hand out.
#[derive(Debug)]
pub struct Minted {
    /// The opaque access token, when the instance issues opaque ones (`None`: sign a JWT after commit).
    pub access_token: Option<String>,
    /// The access token's id (`oat_…`, also a JWT's `jti`).
    pub access_id: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Unix ms the access token expires.
    pub expires_at: i64,
}

/// Mints an access token (opaque unless `jwt`) and a refresh token for a grant, inside the caller's transaction.
pub(crate) async fn mint_tx(ctx: &Ctx, tx: &mut Tx, grant: &GrantRow, scopes: &str, jwt: bool) -> Result<Minted> {
    let now = ctx.now_ms();
    let expires_at = now + ACCESS_TOKEN_LIFETIME_MS;
    let access_id = new_hex_id(ACCESS_PREFIX);
    let row = |id: &str, kind: &str, expiration: Option<i64>| TokenRow {
        id: id.to_owned(),
        instance_id: grant.instance_id.clone(),
        grant_id: grant.id.clone(),
        kind: kind.to_owned(),
        scopes: scopes.to_owned(),
        expiration,
        used_at: None,
        revoked: false,
        revocation_reason: None,
        created_at: now,
        updated_at: now,
    };
    let access_token = if jwt {
        None
    } else {
        let secret = format!("{ACCESS_PREFIX}_{}", random_base62(48));
        let digest = ctx.secrets.digest(&secret);
        tessera_store::oauth_grants::insert_token(tx, &row(&access_id, "access", Some(expires_at)), &digest).await?;
        Some(secret)
    };
    let refresh_token = format!("{REFRESH_PREFIX}_{}", random_base62(48));
    let digest = ctx.secrets.digest(&refresh_token);
    // Refresh tokens do not expire (Clerk's documented behaviour); rotation and revocation end them.
    tessera_store::oauth_grants::insert_token(tx, &row(&new_hex_id(REFRESH_PREFIX), "refresh", None), &digest).await?;
    Ok(Minted { access_token, access_id, refresh_token, expires_at })
}

/// Signs a JWT access token (RFC 9068) for a grant.
pub(crate) async fn sign_access_jwt(
    ctx: &Ctx,
    issuer: &str,
    app: &OAuthApplication,
    grant: &GrantRow,
    scopes: &str,
    minted: &Minted,
) -> Result<String> {
    let iat = ctx.clock.now_secs();
    let exp = minted.expires_at.div_euclid(1000);
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), grant.user_id.clone().into());
    claims.insert("client_id".into(), app.client_id.clone().into());
    claims.insert("azp".into(), app.client_id.clone().into());
    claims.insert("jti".into(), minted.access_id.clone().into());
    claims.insert("scope".into(), scopes.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.into());
    claims.insert("exp".into(), exp.into());
    if let Some(aud) = &grant.resource {
        claims.insert("aud".into(), aud.clone().into());
    }
    if let Some(sid) = &grant.session_id {
        claims.insert("sid".into(), sid.clone().into());
    }
    if let Some(org) = &grant.org_id {
        claims.insert("org_id".into(), org.clone().into());
    }
    crate::keyring::sign_jwt(ctx, &grant.instance_id, &[("typ", JWT_TYP)], &Value::Object(claims)).await
}
