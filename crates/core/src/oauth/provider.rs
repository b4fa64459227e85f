//! The authorization endpoint's rules: validating an authorization request (RFC 6749 §4.1, OAuth 2.1: PKCE S256
//! only, exact `redirect_uri` match, RFC 8707 `resource`), remembered consent, and issuing single-use codes.
//!
//! Errors follow RFC 6749: a request whose client or `redirect_uri` cannot be trusted is answered to the browser
//! ([`Rejection::Show`]); every other error goes back to the client's `redirect_uri` ([`Rejection::Redirect`]).

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_store::oauth_grants::{CodeRow, GrantRow};

use super::{CODE_LIFETIME_MS, OAuthApplication, split_scopes};
use crate::ids::{new_id, random_base62};
use crate::{Ctx, Error, Result};

/// An OAuth error as RFC 6749 answers it: `{error, error_description}` with an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: u16,
    /// RFC 6749 error code.
    pub error: &'static str,
    /// Human-readable description.
    pub description: String,
}

impl OAuthError {
    /// An error with status and code.
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_scope", description)
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        if e.status() >= 500 {
            tracing::error!(error = ?e, "OAuth provider failure");
            Self::new(500, "server_error", "The authorization server failed to process the request.")
        } else {
            Self::new(400, "invalid_request", e.items().first().map_or_else(String::new, |i| i.long_message.clone()))
        }
    }
}

impl From<tessera_store::StoreError> for OAuthError {
    fn from(e: tessera_store::StoreError) -> Self {
        Error::from(e).into()
    }
}

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// Where to send the answer.
    pub redirect_uri: Option<String>,
    /// Requested scopes, space-separated.
    pub scope: Option<String>,
    /// The client's state (echoed).
    pub state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method: `S256` only.
    pub code_challenge_method: Option<String>,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// `none`, `login`, `consent` (space-separated).
    pub prompt: Option<String>,
    /// `query` (default) or `form_post`.
    pub response_mode: Option<String>,
    /// RFC 8707 resource indicator.
    pub resource: Option<String>,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The client.
    pub app: OAuthApplication,
    /// The registered redirect URI the answer goes to.
    pub redirect_uri: String,
    /// The requested scopes.
    pub scopes: Vec<String>,
    /// The client's state.
    pub state: Option<String>,
    /// PKCE challenge (S256).
    pub code_challenge: Option<String>,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// Prompt values.
    pub prompt: Vec<String>,
    /// Answer with an auto-submitting form instead of a redirect.
    pub form_post: bool,
    /// RFC 8707 resource.
    pub resource: Option<String>,
}

impl Authorization {
    /// Whether `prompt` contains `value`.
    pub fn prompts(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }

    /// An error for the client, sent to its `redirect_uri`.
    pub fn reject(&self, error: OAuthError) -> Rejection {
        Rejection::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            form_post: self.form_post,
            error,
        }
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// Shown to the person: the client or its `redirect_uri` cannot be trusted with a redirect.
    Show(OAuthError),
    /// Sent back to the client's `redirect_uri`.
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// The client's state.
        state: Option<String>,
        /// Answer by form post.
        form_post: bool,
        /// The error.
        error: OAuthError,
    },
}

impl From<Error> for Rejection {
    fn from(e: Error) -> Self {
        Self::Show(e.into())
    }
}

/// Scopes any client may ask for, whatever its registered scopes: they name protocol features, not user data.
const PROTOCOL_SCOPES: &[&str] = &["openid", "offline_access"];
/// Shortest `state` accepted (Clerk's rule).
const MIN_STATE: usize = 8;

/// Validates an authorization request against the instance's applications.
pub async fn validate(ctx: &Ctx, instance_id: &str, p: &AuthorizeParams) -> Result<Authorization, Rejection> {
    let client_id = p
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Rejection::Show(OAuthError::invalid_request("The client_id parameter is required.")))?;
    let (app, _) = super::applications::by_client_id(ctx, instance_id, client_id)
        .await?
        .ok_or_else(|| Rejection::Show(OAuthError::invalid_client("No OAuth application has this client_id.")))?;
    // Exact match only (OAuth 2.1): no prefix, no wildcard. Without one, the single registered URI.
    let redirect_uri = match p.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if app.redirect_uris.iter().any(|u| u == r) => r.to_owned(),
        Some(_) => {
            return Err(Rejection::Show(OAuthError::invalid_request(
                "The redirect_uri is not registered for this OAuth application.",
            )));
        }
        None if app.redirect_uris.len() == 1 => app.redirect_uris[0].clone(),
        None => return Err(Rejection::Show(OAuthError::invalid_request("The redirect_uri parameter is required."))),
    };
    let form_post = match p.response_mode.as_deref() {
        None | Some("" | "query") => false,
        Some("form_post") => true,
        Some(_) => {
            return Err(Rejection::Redirect {
                redirect_uri,
                state: p.state.clone(),
                form_post: false,
                error: OAuthError::invalid_request("response_mode must be query or form_post."),
            });
        }
    };
    let mut a = Authorization {
        app,
        redirect_uri,
        scopes: Vec::new(),
        state: p.state.clone().filter(|s| !s.is_empty()),
        code_challenge: None,
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        prompt: Vec::new(),
        form_post,
        resource: None,
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(a.reject(OAuthError::new(
            400,
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        )));
    }
    let requested = p.scope.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or(super::applications::DEFAULT_SCOPES);
    a.scopes = split_scopes(requested);
    if let Some(bad) = a.scopes.iter().find(|s| !PROTOCOL_SCOPES.contains(&s.as_str()) && !a.app.allows_scope(s)) {
        return Err(a.reject(OAuthError::invalid_scope(format!("The scope {bad} is not allowed for this client."))));
    }
    match (p.code_challenge.as_deref().filter(|c| !c.is_empty()), p.code_challenge_method.as_deref()) {
        (Some(challenge), Some("S256")) => {
            if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(challenge).is_err() {
                return Err(a.reject(OAuthError::invalid_request("code_challenge must be a base64url SHA-256.")));
            }
            a.code_challenge = Some(challenge.to_owned());
        }
        (Some(_), _) => {
            return Err(a.reject(OAuthError::invalid_request("code_challenge_method must be S256.")));
        }
        (None, _) if a.app.requires_pkce() => {
            return Err(a.reject(OAuthError::invalid_request(
                "This client must use PKCE: code_challenge with code_challenge_method=S256.",
            )));
        }
        (None, _) => {}
    }
    match &a.state {
        Some(s) if s.chars().count() < MIN_STATE => {
            return Err(a.reject(OAuthError::invalid_request("state must be at least 8 characters.")));
        }
        None if a.code_challenge.is_none() => {
            return Err(a.reject(OAuthError::invalid_request("state is required unless PKCE is used.")));
        }
        _ => {}
    }
    a.prompt = split_scopes(p.prompt.as_deref().unwrap_or_default());
    if a.prompt.iter().any(|v| !matches!(v.as_str(), "none" | "login" | "consent"))
        || (a.prompts("none") && a.prompt.len() > 1)
    {
        return Err(a.reject(OAuthError::invalid_request("prompt must be none, login or consent.")));
    }
    if let Some(resource) = p.resource.as_deref().filter(|r| !r.is_empty()) {
        let ok = url::Url::parse(resource).is_ok_and(|u| u.fragment().is_none() && !u.cannot_be_a_base());
        if !ok || resource.len() > 1024 {
            return Err(a.reject(OAuthError::new(
                400,
                "invalid_target",
                "resource must be an absolute URI without a fragment.",
            )));
        }
        a.resource = Some(resource.to_owned());
    }
    Ok(a)
}

/// Whether the person must see the consent screen: the application asks for consent and there is no remembered
/// consent covering every requested scope (or the client asked with `prompt=consent`).
pub async fn consent_needed(ctx: &Ctx, instance_id: &str, user_id: &str, a: &Authorization) -> Result<bool> {
    if !a.app.consent_screen_enabled {
        return Ok(false);
    }
    if a.prompts("consent") {
        return Ok(true);
    }
    let remembered = tessera_store::oauth_grants::consent(&ctx.db, instance_id, user_id, &a.app.id).await?;
    let remembered = remembered.map(|s| split_scopes(&s)).unwrap_or_default();
    Ok(!a.scopes.iter().all(|s| remembered.contains(s)))
}

/// Issues an authorization code for a signed-in person (a new grant), remembering the consent when the person
/// gave it. Returns the code, to be sent to the client once.
pub async fn issue_code(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    session_id: &str,
    a: &Authorization,
    org_id: Option<String>,
    consented: bool,
) -> Result<String> {
    let code = random_base62(43);
    let code_hash = ctx.secrets.digest(&code);
    let now = ctx.now_ms();
    let scopes = a.scopes.join(" ");
    let grant = GrantRow {
        id: new_id("oag"),
        instance_id: instance_id.to_owned(),
        oauth_application_id: a.app.id.clone(),
        user_id: user_id.to_owned(),
        session_id: Some(session_id.to_owned()),
        scopes: scopes.clone(),
        resource: a.resource.clone(),
        org_id,
        revoked: false,
        revocation_reason: None,
        created_at: now,
        updated_at: now,
    };
    let row = CodeRow {
        id: new_id("oac"),
        instance_id: instance_id.to_owned(),
        grant_id: grant.id.clone(),
        redirect_uri: a.redirect_uri.clone(),
        code_challenge: a.code_challenge.clone(),
        nonce: a.nonce.clone(),
        expire_at: now + CODE_LIFETIME_MS,
        used_at: None,
        created_at: now,
    };
    let remembered = if consented {
        let old = tessera_store::oauth_grants::consent(&ctx.db, instance_id, user_id, &a.app.id).await?;
        let mut all = old.map(|s| split_scopes(&s)).unwrap_or_default();
        all.extend(a.scopes.iter().filter(|s| !all.contains(s)).cloned().collect::<Vec<_>>());
        Some(all.join(" "))
    } else {
        None
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::oauth_grants::insert_grant(&mut tx, &grant).await?;
    tessera_store::oauth_grants::insert_code(&mut tx, &row, &code_hash).await?;
    if let Some(scopes) = remembered {
        tessera_store::oauth_grants::upsert_consent(
            &mut tx,
            &new_id("ocs"),
            instance_id,
            user_id,
            &a.app.id,
            &scopes,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(code)
}

/// Withdraws a person's consent to an application and revokes what it granted. Returns whether there was one.
pub async fn revoke_consent(ctx: &Ctx, instance_id: &str, user_id: &str, application_id: &str) -> Result<bool> {
    let mut tx = ctx.db.begin().await?;
    let removed = tessera_store::oauth_grants::delete_consent(&mut tx, instance_id, user_id, application_id).await?;
    tessera_store::oauth_grants::revoke_grants_of(
        &mut tx,
        instance_id,
        application_id,
        user_id,
        "Consent withdrawn by the user",
        ctx.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(removed > 0)
}

/// The person's remembered consent to an application (its scopes), if any.
pub async fn remembered_consent(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    application_id: &str,
) -> Result<Option<Vec<String>>> {
    Ok(tessera_store::oauth_grants::consent(&ctx.db, instance_id, user_id, application_id)
        .await?
        .map(|s| split_scopes(&s)))
}

/// Whether a PKCE verifier answers an S256 challenge (RFC 7636 §4.6). The comparison is of digests' encodings,
/// in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
    valid && crate::crypto::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

/// What each scope lets an application see, for the consent screen.
pub fn scope_description(scope: &str) -> &'static str {
    match scope {
        "openid" => "Confirm your identity",
        "profile" => "Read your name, username and profile picture",
        "email" => "Read your email address",
        "public_metadata" => "Read your public and unsafe metadata",
        "private_metadata" => "Read your private metadata",
        "offline_access" => "Stay signed in to the application",
        "user:org:read" => "Read your active organization",
        _ => "Access your account",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_from_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
