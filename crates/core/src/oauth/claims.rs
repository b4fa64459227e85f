//! What the provider says about the person: ID tokens (OpenID Connect Core §2, RS256 from the instance keyring)
//! and the userinfo answer, each limited to the granted scopes.

use serde::Serialize;
use serde_json::{Map, Value};
use tessera_store::oauth_grants::GrantRow;

use super::OAuthApplication;
use super::provider::OAuthError;
use super::split_scopes;
use crate::users::User;
use crate::{Ctx, Result};

/// What an ID token is minted from.
#[derive(Debug)]
pub struct IdTokenInput<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// The client (`aud`, `azp`).
    pub app: &'a OAuthApplication,
    /// The grant (`sub`, `sid`).
    pub grant: &'a GrantRow,
    /// Granted scopes.
    pub scopes: &'a str,
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
}

/// The person's identity claims by scope: `email`, `email_verified` (email); `name`, `given_name`,
/// `family_name`, `preferred_username`, `picture` (profile).
fn identity_claims(user: &User, scopes: &[String], picture_base: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("email") {
        let primary = user.email_addresses.iter().find(|e| Some(&e.id) == user.primary_email_address_id.as_ref());
        out.insert("email".into(), primary.map(|e| e.value.clone()).into());
        let verified = primary.and_then(|e| e.verification.as_ref()).is_some_and(|v| v.status == "verified");
        out.insert("email_verified".into(), primary.map(|_| verified).into());
    }
    if has("profile") {
        let name = match (&user.first_name, &user.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        out.insert("name".into(), name.into());
        out.insert("given_name".into(), user.first_name.clone().into());
        out.insert("family_name".into(), user.last_name.clone().into());
        out.insert("preferred_username".into(), user.username.clone().into());
        let picture = user.image_id.as_deref().map(|id| crate::users::objects::image_url(picture_base, Some(id)));
        out.insert("picture".into(), picture.into());
    }
    out
}

/// Signs an ID token for the grant's person.
pub async fn id_token(ctx: &Ctx, input: &IdTokenInput<'_>, lifetime_ms: i64) -> Result<String, OAuthError> {
    let user = crate::users::get_user(ctx, &input.grant.instance_id, &input.grant.user_id)
        .await
        .map_err(|_| OAuthError::invalid_grant("The user of this grant no longer exists."))?;
    let iat = ctx.clock.now_secs();
    let mut claims = identity_claims(&user, &split_scopes(input.scopes), input.issuer);
    claims.insert("iss".into(), input.issuer.into());
    claims.insert("sub".into(), user.id.clone().into());
    claims.insert("aud".into(), input.app.client_id.clone().into());
    claims.insert("azp".into(), input.app.client_id.clone().into());
    claims.insert("iat".into(), iat.into());
    claims.insert("exp".into(), (iat + lifetime_ms / 1000).into());
    claims.insert("auth_time".into(), (input.grant.created_at / 1000).into());
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(sid) = &input.grant.session_id {
        claims.insert("sid".into(), sid.clone().into());
    }
    Ok(crate::keyring::sign_jwt(ctx, &input.grant.instance_id, &[], &Value::Object(claims)).await?)
}

/// The userinfo answer (`GET|POST /oauth/userinfo`).
#[derive(Debug, Serialize)]
pub struct UserInfo {
    object: &'static str,
    instance_id: String,
    user_id: String,
    sub: String,
    #[serde(flatten)]
    identity: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsafe_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
}

/// What an access token lets its client read about the person. 401 `invalid_token` for a token that is not live.
pub async fn userinfo(
    ctx: &Ctx,
    instance_id: &str,
    access_token: &str,
    picture_base: &str,
) -> Result<UserInfo, OAuthError> {
    let invalid = || OAuthError::new(401, "invalid_token", "The access token is invalid, expired or revoked.");
    let token = match super::tokens::verify(ctx, instance_id, access_token).await {
        Ok(super::tokens::Verified::Active(t)) => *t,
        Ok(super::tokens::Verified::Inactive) => return Err(invalid()),
        Err(e) if e.status() == 404 => return Err(invalid()),
        Err(e) => return Err(e.into()),
    };
    let user = crate::users::get_user(ctx, instance_id, &token.subject).await.map_err(|_| invalid())?;
    let has = |s: &str| token.scopes.iter().any(|x| x == s);
    Ok(UserInfo {
        object: "oauth_user_info",
        instance_id: instance_id.to_owned(),
        user_id: user.id.clone(),
        sub: user.id.clone(),
        identity: identity_claims(&user, &token.scopes, picture_base),
        username: has("profile").then(|| user.username.clone()),
        public_metadata: has("public_metadata").then(|| user.public_metadata.clone()),
        unsafe_metadata: has("public_metadata").then(|| user.unsafe_metadata.clone()),
        private_metadata: has("private_metadata").then(|| user.private_metadata.clone()),
        org_id: if has("user:org:read") { token.org_id } else { None },
    })
}
