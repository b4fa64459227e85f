//! Enterprise SSO sign-in through an OIDC connection, Tessera being the relying party:
//!
//! 1. The sign-in is created (or prepared) with `enterprise_sso` and an address in the connection's domains. The
//!    IdP's discovery document is read (before the transaction) and an authorization request recorded
//!    ([`tessera_store::oidc_requests`]): a random `state` and `nonce` (kept as digests), a PKCE verifier (sealed)
//!    whose S256 challenge is sent, the sign-in and client it continues. The sign-in's verification carries the
//!    authorization URL as `external_verification_redirect_url`.
//! 2. The IdP sends the browser back to `GET /v1/oauth_callback?code&state` on the frontend host ([`callback`]):
//!    the arriving browser must hold the client that started the sign-in ([`super::binding`]: its `__client` cookie,
//!    which a top-level GET carries; refused, the request is not spent), then the request the `state` names is spent
//!    at once (a second callback with it is refused, whatever happened to
//!    the first), the code is exchanged at the token endpoint with the verifier and the client secret, the ID token
//!    verified against the IdP's JWKS ([`crate::oidc::verify_id_token`]) — completed from the userinfo endpoint when
//!    it lacks the address or a name —, and the sign-in ends as a SAML one does
//!    ([`super::finish`]). An address is linked to an existing account only when the IdP says `email_verified`.

use serde_json::{Map, Value};
use tessera_store::oidc_requests::{self as store, OidcRequestRow};

use super::binding::{self, Arrival};
use super::finish::{self, Identity};
use super::{Attempt, Ready};
use crate::crypto::constant_time_eq;
use crate::enterprise_connections::{self as connections, By, EnterpriseConnection};
use crate::instances::{Environment, Instance};
use crate::oidc::{self, Provider};
use crate::users::identifiers;
use crate::{Ctx, Error, ErrorCode, Result, ids};

/// How long the IdP has to send the browser back.
pub const REQUEST_TTL_MS: i64 = 10 * 60 * 1000;
/// Associated data of sealed PKCE verifiers.
const VERIFIER_PURPOSE: &str = "oidc_request.code_verifier";

/// A refused callback: 400 `oidc_callback_invalid` with the reason.
fn refused(why: &str) -> Error {
    Error::with(ErrorCode::OidcCallbackInvalid, ErrorCode::OidcCallbackInvalid.message(), why, None)
}

fn unavailable(why: &str) -> Error {
    Error::with(
        ErrorCode::EnterpriseSsoIdpUnavailable,
        ErrorCode::EnterpriseSsoIdpUnavailable.message(),
        format!("The identity provider is unusable: {why}."),
        None,
    )
}

/// Development instances may reach an IdP on a private address (a local one, the tests' loopback IdP);
/// production ones only public addresses.
fn allow_private(instance: &Instance) -> bool {
    instance.environment == Environment::Development
}

/// The IdP's endpoints: its discovery document, with the connection's explicit URLs taking priority. A discovery
/// URL is required: the ID token's issuer and keys come from it.
pub(crate) async fn provider(instance: &Instance, c: &EnterpriseConnection) -> Result<Provider> {
    let url = c.row.oidc_discovery_url.as_deref().ok_or_else(|| {
        unavailable(
            "the connection has no discovery URL, which names the issuer and the keys ID tokens are checked with",
        )
    })?;
    let mut p = oidc::discover(url, allow_private(instance)).await.map_err(|why| unavailable(&why))?;
    if let Some(u) = &c.row.oidc_auth_url {
        p.authorization_endpoint.clone_from(u);
    }
    if let Some(u) = &c.row.oidc_token_url {
        p.token_endpoint.clone_from(u);
    }
    if let Some(u) = &c.row.oidc_user_info_url {
        p.userinfo_endpoint = Some(u.clone());
    }
    Ok(p)
}

/// Records an authorization request for `attempt` through `c`, inside the caller's transaction, and returns the IdP
/// URL to send the browser to.
pub(crate) async fn start_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    (c, p): (&EnterpriseConnection, &Provider),
    attempt: Attempt<'_>,
    ready: &Ready,
    login_hint: Option<&str>,
) -> Result<String> {
    let start = &ready.start;
    let client = c.row.oidc_client_id.as_deref().ok_or_else(|| unavailable("the connection has no client id"))?;
    let (state, nonce, verifier) = (oidc::random_token(), oidc::random_token(), oidc::random_token());
    let callback_url = format!("{}/v1/oauth_callback", start.base_url.trim_end_matches('/'));
    let login_hint = login_hint.filter(|_| c.row.login_hint_mode == "email_address");
    let request = oidc::AuthorizationRequest {
        client_id: client,
        redirect_uri: &callback_url,
        state: &state,
        nonce: &nonce,
        code_verifier: &verifier,
        login_hint,
    };
    let url = oidc::authorization_url(p, &request).map_err(|why| unavailable(&why))?;
    let now = ctx.now_ms();
    let row = OidcRequestRow {
        id: ids::new_id("oidcr"),
        instance_id: c.row.instance_id.clone(),
        connection_id: c.row.id.clone(),
        state_hash: ctx.secrets.digest(&state),
        nonce_hash: ctx.secrets.digest(&nonce),
        code_verifier: ctx.secrets.seal(VERIFIER_PURPOSE, verifier.as_bytes()),
        sign_in_id: attempt.sign_in_id().map(str::to_owned),
        client_id: attempt.client_id().map(str::to_owned),
        test_run_id: attempt.test_run_id().map(str::to_owned),
        sign_up_id: attempt.sign_up_id().map(str::to_owned),
        callback_url,
        // A test run returns to its result page, not to clerk-js.
        redirect_url: Some(ready.redirect_url.clone()).filter(|s| !s.is_empty()),
        action_complete_redirect_url: start.action_complete_redirect_url.clone(),
        used_at: None,
        expires_at: now + REQUEST_TTL_MS,
        created_at: now,
    };
    store::insert(tx, &row).await?;
    Ok(url)
}

/// The query of `GET /v1/oauth_callback`.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The state the request sent.
    pub state: Option<String>,
    /// The IdP's error, when it did not authenticate the person.
    pub error: Option<String>,
    /// The IdP's explanation of `error`.
    pub error_description: Option<String>,
}

/// `GET /v1/oauth_callback`: checks the arriving browser holds the client that started the sign-in, spends the
/// request, verifies the IdP's answer and completes the sign-in; returns the URL to send the browser to.
pub async fn callback(ctx: &Ctx, instance: &Instance, q: Callback, arrival: Arrival<'_>) -> Result<String> {
    let state =
        q.state.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| refused("The callback carries no state."))?;
    let now = ctx.now_ms();
    let state_hash = ctx.secrets.digest(state);
    // A test run's request continues no sign-in, so no client is bound to it.
    if let Some(client_id) = store::pending(&ctx.db, &instance.id, &state_hash).await?.and_then(|r| r.client_id) {
        let arriving = binding::arriving(ctx, &instance.id, arrival).await?;
        binding::check(instance, &arriving, &client_id, refused)?;
    }
    let request = store::take(&ctx.db, &instance.id, &state_hash, now)
        .await?
        .ok_or_else(|| refused("The state names no pending sign-in: it is unknown or was used before."))?;
    if request.expires_at <= now {
        return Err(refused("The sign-in's request to the identity provider has expired."));
    }
    let c = connections::get(ctx, &instance.id, By::Id, &request.connection_id).await?;
    let mut tokens = None;
    let outcome = answer(ctx, instance, &c, &request, q, &mut tokens).await;
    if let Some(run_id) = &request.test_run_id {
        let mut artifacts = Map::new();
        if let Some(t) = tokens {
            let mut oauth = Map::new();
            oauth.insert("id_token".into(), Value::String(t.id_token));
            if let Some(a) = t.access_token {
                oauth.insert("access_token".into(), Value::String(a));
            }
            artifacts.insert("oauth".into(), Value::Object(oauth));
        }
        return super::test_runs::record(ctx, instance, &c, run_id, outcome, artifacts).await;
    }
    let who = outcome?;
    finish::precheck(ctx, instance, &c, &who, refused).await?;
    let client_id = request.client_id.as_deref().ok_or_else(|| refused("The request continues no sign-in."))?;
    let mut tx = ctx.db.begin().await?;
    match (request.sign_up_id.as_deref(), request.sign_in_id.as_deref()) {
        (Some(sign_up_id), _) => {
            finish::sign_up_tx(ctx, &mut tx, (instance, &c), who, (client_id, sign_up_id), refused).await?;
        }
        (None, Some(sign_in_id)) => {
            finish::sign_in_tx(ctx, &mut tx, (instance, &c), who, (client_id, sign_in_id), refused).await?;
        }
        (None, None) => return Err(refused("The request continues no sign-in.")),
    }
    tx.commit().await?;
    Ok(request.redirect_url.unwrap_or_default())
}

/// The person the IdP's answer names: its error, or the code exchanged (the tokens left in `tokens`), the ID
/// token verified and its claims read.
async fn answer(
    ctx: &Ctx,
    instance: &Instance,
    c: &EnterpriseConnection,
    request: &OidcRequestRow,
    q: Callback,
    tokens: &mut Option<oidc::Tokens>,
) -> Result<Identity> {
    if let Some(error) = q.error.filter(|e| !e.is_empty()) {
        let detail = q.error_description.map(|d| format!(": {d}")).unwrap_or_default();
        return Err(refused(&format!("The identity provider answered {error}{detail}.")));
    }
    let code = q.code.filter(|c| !c.is_empty()).ok_or_else(|| refused("The identity provider sent no code."))?;
    super::ensure_usable(c)?;
    let p = provider(instance, c).await?;
    let client_id = c.row.oidc_client_id.as_deref().ok_or_else(|| unavailable("the connection has no client id"))?;
    let secret = c.oidc_client_secret(ctx)?;
    let verifier = ctx.secrets.open_string(VERIFIER_PURPOSE, &request.code_verifier).map_err(Error::internal)?;
    let private = allow_private(instance);
    let exchanged =
        oidc::exchange_code(&p, (client_id, secret.as_deref()), &code, &request.callback_url, &verifier, private)
            .await
            .map_err(|why| refused(&format!("The code exchange failed: {why}.")))?;
    let id_token = tokens.insert(exchanged).id_token.clone();
    let jwks = oidc::fetch_jwks(&p, private, false).await.map_err(|why| unavailable(&why))?;
    let mut verified = verify(ctx, request, (&p, client_id), &id_token, &jwks);
    if verified.is_err() {
        // The kept key set may predate a key the IdP rotated in: verified once more against a fresh one.
        let fresh = oidc::fetch_jwks(&p, private, true).await.map_err(|why| unavailable(&why))?;
        verified = verify(ctx, request, (&p, client_id), &id_token, &fresh);
    }
    let mut claims = verified.map_err(|why| {
        tracing::info!(connection = %c.row.id, reason = %why, "ID token refused");
        refused(&format!("The ID token was refused: {why}."))
    })?;
    let access_token = tokens.as_ref().and_then(|t| t.access_token.clone());
    complete_from_userinfo(c, &p, access_token.as_deref(), &mut claims, private).await?;
    identity(c, &claims)
}

/// Verifies the ID token against `jwks` and the request's nonce (a plain function: the expectations' nonce check
/// must not live across an await).
fn verify(
    ctx: &Ctx,
    request: &OidcRequestRow,
    (p, client_id): (&Provider, &str),
    id_token: &str,
    jwks: &Value,
) -> std::result::Result<Map<String, Value>, String> {
    let nonce_ok = |n: &str| constant_time_eq(&ctx.secrets.digest(n), &request.nonce_hash);
    let e = oidc::Expectations { issuer: &p.issuer, client_id, now_ms: ctx.now_ms(), nonce_ok: &nonce_ok };
    oidc::verify_id_token(id_token, jwks, &e)
}

/// Claims an ID token may leave to the userinfo endpoint (OIDC Core §5.4: many IdPs put only `sub` in it).
const PROFILE_CLAIMS: &[&str] = &["email", "email_verified", "given_name", "family_name"];

/// When the ID token lacks the e-mail address or a name and the IdP has a userinfo endpoint, reads it with the
/// access token and adds the claims the ID token lacks (never replacing one it carries); the answer must be about
/// the ID token's subject.
async fn complete_from_userinfo(
    c: &EnterpriseConnection,
    p: &oidc::Provider,
    access_token: Option<&str>,
    claims: &mut Map<String, Value>,
    private: bool,
) -> Result<()> {
    let (Some(token), Some(_)) = (access_token, p.userinfo_endpoint.as_deref()) else { return Ok(()) };
    if ["email", "given_name", "family_name"].iter().all(|k| claim(claims, k).is_some()) {
        return Ok(());
    }
    let sub = claim(claims, "sub").unwrap_or_default().to_owned();
    let info = oidc::fetch_userinfo(p, token, &sub, private).await.map_err(|why| {
        tracing::info!(connection = %c.row.id, reason = %why, "userinfo refused");
        refused(&format!("The userinfo answer was refused: {why}."))
    })?;
    let custom: Vec<&str> = c.custom_attributes.iter().filter_map(|a| a.sso_path.as_deref()).collect();
    for key in PROFILE_CLAIMS.iter().copied().chain(custom) {
        if !claims.contains_key(key)
            && let Some(v) = info.get(key)
        {
            claims.insert(key.to_owned(), v.clone());
        }
    }
    Ok(())
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The person an ID token names.
fn identity(c: &EnterpriseConnection, claims: &Map<String, Value>) -> Result<Identity> {
    let raw = claim(claims, "email").ok_or_else(|| refused("The ID token carries no e-mail address."))?;
    let email = identifiers::email("email_address", raw).map_err(|_| refused("The ID token's e-mail is invalid."))?;
    // Some IdPs send the flag as a string.
    let email_verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || claims.get("email_verified").and_then(Value::as_str) == Some("true");
    let mut metadata = Map::new();
    for a in &c.custom_attributes {
        let Some(v) = a.sso_path.as_deref().and_then(|p| claims.get(p)) else { continue };
        let v = match (a.multi_valued, v) {
            (true, Value::Array(_)) | (false, Value::String(_) | Value::Number(_) | Value::Bool(_)) => v.clone(),
            (true, single) => Value::Array(vec![single.clone()]),
            (false, Value::Array(items)) => match items.first() {
                Some(first) => first.clone(),
                None => continue,
            },
            _ => continue,
        };
        metadata.insert(a.key.clone(), v);
    }
    Ok(Identity {
        subject: claim(claims, "sub").unwrap_or_default().to_owned(),
        email,
        email_verified,
        first_name: claim(claims, "given_name").map(str::to_owned),
        last_name: claim(claims, "family_name").map(str::to_owned),
        metadata,
    })
}
