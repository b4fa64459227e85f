//! The token endpoint (RFC 6749 §3.2): client authentication, the `authorization_code` grant (single-use codes
//! bound to `redirect_uri` and PKCE) and the `refresh_token` grant (rotation with reuse detection), plus
//! revocation (RFC 7009) and introspection (RFC 7662).
//!
//! A code presented twice, or a refresh token presented after it was exchanged, is the sign of a stolen secret:
//! the grant is revoked with every token issued from it (OAuth 2.1 §4.3.1, §6.1).

use tessera_store::oauth_grants::GrantRow;

use super::claims::{self, IdTokenInput};
use super::provider::{OAuthError, pkce_matches};
use super::tokens::{self, Minted};
use super::{ID_TOKEN_LIFETIME_MS, OAuthApplication, split_scopes};
use crate::crypto::constant_time_eq;
use crate::instances::Instance;
use crate::{Ctx, Result};

/// Client credentials as presented: HTTP Basic or form fields (treated alike), or a public client's id alone.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`.
    pub client_secret: Option<String>,
}

/// The token endpoint's parameters.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenParams {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The authorization request's redirect URI.
    pub redirect_uri: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Narrower scopes on refresh.
    pub scope: Option<String>,
    /// RFC 8707 resource (must be the one granted).
    pub resource: Option<String>,
    /// `client_id` in the body.
    pub client_id: Option<String>,
    /// `client_secret` in the body.
    pub client_secret: Option<String>,
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    /// Access token (opaque `oat_…` or JWT).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Refresh token.
    pub refresh_token: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// ID token, when `openid` was granted.
    pub id_token: Option<String>,
}

/// Authenticates the client: a confidential client by its secret (compared as keyed digests, in constant time),
/// a public client by its id alone. Any failure is 401 `invalid_client`.
pub async fn authenticate(
    ctx: &Ctx,
    instance_id: &str,
    creds: &ClientCredentials,
) -> Result<OAuthApplication, OAuthError> {
    let failed = || OAuthError::invalid_client("Client authentication failed.");
    let client_id = creds.client_id.as_deref().filter(|c| !c.is_empty() && c.len() <= 256).ok_or_else(failed)?;
    let (app, secret_hash) =
        super::applications::by_client_id(ctx, instance_id, client_id).await?.ok_or_else(failed)?;
    let presented = creds.client_secret.as_deref().filter(|s| !s.is_empty());
    if app.public {
        // A public client has no secret: presenting one is a client that thinks otherwise.
        return if presented.is_none() { Ok(app) } else { Err(failed()) };
    }
    let (Some(secret), Some(stored)) = (presented, secret_hash) else { return Err(failed()) };
    if secret.len() > 256 || !constant_time_eq(&ctx.secrets.digest(secret), &stored) {
        return Err(failed());
    }
    Ok(app)
}

/// `POST /oauth/token`. `issuer` is the provider's URL as the client reached it (the ID token's `iss`).
pub async fn token(
    ctx: &Ctx,
    instance: &Instance,
    issuer: &str,
    creds: &ClientCredentials,
    p: &TokenParams,
) -> Result<TokenAnswer, OAuthError> {
    let grant_type = p.grant_type.as_deref().filter(|g| !g.is_empty());
    let grant_type = grant_type.ok_or_else(|| OAuthError::invalid_request("grant_type is required."))?;
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        // 401, as Clerk's spec declares it (its 400 error enum lacks this code).
        return Err(OAuthError::new(
            401,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        ));
    }
    let app = authenticate(ctx, &instance.id, creds).await?;
    let jwt = crate::settings::oauth_application_settings(ctx, &instance.id).await?.oauth_jwt_access_tokens;
    let (grant, scopes, minted, nonce) = match grant_type {
        "authorization_code" => redeem_code(ctx, &instance.id, &app, p, jwt).await?,
        _ => refresh(ctx, &instance.id, &app, p, jwt).await?,
    };
    let access_token = match minted.access_token.clone() {
        Some(opaque) => opaque,
        None => tokens::sign_access_jwt(ctx, issuer, &app, &grant, &scopes, &minted).await?,
    };
    let id_token = if split_scopes(&scopes).iter().any(|s| s == "openid") {
        let input = IdTokenInput { issuer, app: &app, grant: &grant, scopes: &scopes, nonce: nonce.as_deref() };
        Some(claims::id_token(ctx, &input, ID_TOKEN_LIFETIME_MS).await?)
    } else {
        None
    };
    Ok(TokenAnswer {
        access_token,
        // The token was minted just now with the full lifetime.
        expires_in: super::ACCESS_TOKEN_LIFETIME_MS / 1000,
        refresh_token: minted.refresh_token,
        scope: scopes,
        id_token,
    })
}

type Issued = (GrantRow, String, Minted, Option<String>);

async fn redeem_code(
    ctx: &Ctx,
    instance_id: &str,
    app: &OAuthApplication,
    p: &TokenParams,
    jwt: bool,
) -> Result<Issued, OAuthError> {
    let code =
        p.code.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::invalid_request("code is required."))?;
    let invalid = || OAuthError::invalid_grant("The authorization code is invalid, expired or already used.");
    if code.len() > 256 {
        return Err(invalid());
    }
    let code_hash = ctx.secrets.digest(code);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row =
        tessera_store::oauth_grants::code_by_hash_tx(&mut tx, instance_id, &code_hash).await?.ok_or_else(invalid)?;
    let grant =
        tessera_store::oauth_grants::grant_tx(&mut tx, instance_id, &row.grant_id).await?.ok_or_else(invalid)?;
    if grant.oauth_application_id != app.id {
        return Err(invalid());
    }
    if row.used_at.is_some() || tessera_store::oauth_grants::use_code(&mut tx, instance_id, &row.id, now).await? == 0 {
        // A replayed code: whoever holds it may have stolen it, so what it issued is revoked (RFC 6749 §4.1.2).
        tessera_store::oauth_grants::revoke_grant(&mut tx, instance_id, &grant.id, "Authorization code replayed", now)
            .await?;
        tx.commit().await?;
        return Err(invalid());
    }
    if row.expire_at <= now || grant.revoked {
        return Err(invalid());
    }
    if p.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request."));
    }
    match (&row.code_challenge, p.code_verifier.as_deref().filter(|v| !v.is_empty())) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (None, None) => {}
        _ => return Err(OAuthError::invalid_grant("The PKCE code_verifier does not match the code_challenge.")),
    }
    check_resource(p, &grant)?;
    let minted = tokens::mint_tx(ctx, &mut tx, &grant, &grant.scopes, jwt).await?;
    tx.commit().await?;
    let scopes = grant.scopes.clone();
    Ok((grant, scopes, minted, row.nonce))
}

async fn refresh(
    ctx: &Ctx,
    instance_id: &str,
    app: &OAuthApplication,
    p: &TokenParams,
    jwt: bool,
) -> Result<Issued, OAuthError> {
    let presented = p.refresh_token.as_deref().filter(|t| !t.is_empty());
    let presented = presented.ok_or_else(|| OAuthError::invalid_request("refresh_token is required."))?;
    let invalid = || OAuthError::invalid_grant("The refresh token is invalid or revoked.");
    if presented.len() > 256 {
        return Err(invalid());
    }
    let token_hash = ctx.secrets.digest(presented);
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::oauth_grants::token_by_hash_tx(&mut tx, instance_id, &token_hash)
        .await?
        .filter(|t| t.kind == "refresh")
        .ok_or_else(invalid)?;
    let grant =
        tessera_store::oauth_grants::grant_tx(&mut tx, instance_id, &row.grant_id).await?.ok_or_else(invalid)?;
    if grant.oauth_application_id != app.id || row.revoked || grant.revoked {
        return Err(invalid());
    }
    if row.used_at.is_some() || tessera_store::oauth_grants::use_token(&mut tx, instance_id, &row.id, now).await? == 0 {
        // Reuse of a rotated refresh token: revoke the whole family (OAuth 2.1 §4.3.1).
        tessera_store::oauth_grants::revoke_grant(&mut tx, instance_id, &grant.id, "Refresh token reused", now).await?;
        tx.commit().await?;
        return Err(invalid());
    }
    let granted = split_scopes(&row.scopes);
    let scopes = match p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        None => granted.join(" "),
        Some(asked) => {
            let asked = split_scopes(asked);
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                // `invalid_grant`: the grant does not cover it (Clerk's spec has no `invalid_scope` here).
                return Err(OAuthError::invalid_grant(format!("The scope {extra} was not granted.")));
            }
            asked.join(" ")
        }
    };
    check_resource(p, &grant)?;
    let minted = tokens::mint_tx(ctx, &mut tx, &grant, &scopes, jwt).await?;
    tx.commit().await?;
    Ok((grant, scopes, minted, None))
}

/// RFC 8707: a `resource` at the token endpoint must be the one the grant was given for.
fn check_resource(p: &TokenParams, grant: &GrantRow) -> Result<(), OAuthError> {
    match p.resource.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if grant.resource.as_deref() != Some(r) => {
            // `invalid_grant` rather than RFC 8707's `invalid_target`, which Clerk's spec does not list.
            Err(OAuthError::invalid_grant("resource is not the one the authorization was granted for."))
        }
        _ => Ok(()),
    }
}

/// `POST /oauth/token/revoke` (RFC 7009): revokes the grant of an opaque token of the authenticated client. A
/// token that is unknown or another client's changes nothing and still answers success; JWT access tokens cannot
/// be revoked (400 `unsupported_token_type`).
pub async fn revoke(ctx: &Ctx, instance_id: &str, creds: &ClientCredentials, token: &str) -> Result<(), OAuthError> {
    let app = authenticate(ctx, instance_id, creds).await?;
    if token.is_empty() {
        return Err(OAuthError::invalid_request("token is required."));
    }
    if tokens::is_jwt(token) {
        return Err(OAuthError::new(400, "unsupported_token_type", "JWT access tokens cannot be revoked."));
    }
    if let Some(found) = tokens::lookup(ctx, instance_id, token).await?.filter(|t| t.oauth_application_id == app.id) {
        tokens::revoke_grant(ctx, instance_id, &found.token.grant_id, "Revoked by the client").await?;
    }
    Ok(())
}

/// An introspection answer (RFC 7662).
#[derive(Debug, Clone, Default)]
pub struct Introspection {
    /// Live.
    pub active: bool,
    /// The client.
    pub client_id: Option<String>,
    /// Issued at, Unix seconds.
    pub iat: Option<i64>,
    /// Scopes, space-separated.
    pub scope: Option<String>,
    /// The user.
    pub sub: Option<String>,
    /// Organization.
    pub org_id: Option<String>,
}

/// `POST /oauth/token_info`: whether an access or refresh token of the authenticated client is live. Tokens of
/// other clients, and dead ones, are `{active: false}`.
pub async fn introspect(
    ctx: &Ctx,
    instance_id: &str,
    creds: &ClientCredentials,
    token: &str,
) -> Result<Introspection, OAuthError> {
    let app = authenticate(ctx, instance_id, creds).await?;
    let now = ctx.now_ms();
    if tokens::is_jwt(token) {
        return Ok(match tokens::verify(ctx, instance_id, token).await {
            Ok(tokens::Verified::Active(t)) if t.client_id == app.client_id => Introspection {
                active: true,
                client_id: Some(t.client_id),
                iat: Some(t.created_at / 1000),
                scope: Some(t.scopes.join(" ")),
                sub: Some(t.subject),
                org_id: t.org_id,
            },
            _ => Introspection::default(),
        });
    }
    let found = tokens::lookup(ctx, instance_id, token).await?.filter(|t| {
        t.oauth_application_id == app.id
            && !t.token.revoked
            && t.token.expiration.is_none_or(|e| e > now)
            && (t.token.kind == "access" || t.token.used_at.is_none())
    });
    Ok(match found {
        Some(t) => Introspection {
            active: true,
            client_id: Some(t.client_id),
            iat: Some(t.token.created_at / 1000),
            scope: Some(t.token.scopes),
            sub: Some(t.user_id),
            org_id: t.org_id,
        },
        None => Introspection::default(),
    })
}
