//! The OAuth 2.1 / OpenID Connect provider's back-channel endpoints on the frontend host: token (RFC 6749 §3.2),
//! userinfo (OIDC Core §5.3), introspection (RFC 7662, `token_info`), revocation (RFC 7009) and dynamic client
//! registration (RFC 7591). Clients call them directly, not through clerk-js: bodies are form-encoded, errors are
//! RFC 6749's `{error, error_description}` (userinfo: the ClerkErrors envelope, as the spec declares), and
//! answers are never cached.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;
use tessera_api::AppState;
use tessera_api::error::{ApiError, ApiResult};
use tessera_api::json::Json;
use tessera_core::oauth::grants::{self, ClientCredentials, TokenParams};
use tessera_core::oauth::provider::OAuthError;
use tessera_core::{Error, ErrorCode};

use crate::extract::Fapi;

/// Largest body of these endpoints.
const MAX_BODY: usize = 64 * 1024;

/// `{error, error_description}` with the error's status; `Cache-Control: no-store` like every token answer.
pub fn oauth_error(e: &OAuthError, basic_auth: bool) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        error: &'a str,
        error_description: &'a str,
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(Body { error: e.error, error_description: &e.description })).into_response();
    no_store(&mut response);
    if status == StatusCode::UNAUTHORIZED && basic_auth {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
    }
    response
}

fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The form fields of a body: form-encoded (JSON objects of strings are accepted too). A parameter sent twice is
/// refused (RFC 6749 §3.1).
fn form_fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let bad = |why: &str| OAuthError::invalid_request(why.to_owned());
    if body.len() > MAX_BODY {
        return Err(bad("The request body is too large."));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let pairs: Vec<(String, String)> = if json {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| bad("The body must be a JSON object."))?;
        map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned()))).collect()
    } else {
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    };
    for (i, (k, v)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(other, _)| other == k) {
            return Err(bad(&format!("The parameter {k} must not be sent more than once.")));
        }
        if k.contains('\0') || v.contains('\0') {
            return Err(bad("Parameters must not contain NUL characters."));
        }
    }
    Ok(pairs)
}

fn field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-url-encoded) or the body.
fn credentials(headers: &HeaderMap, pairs: &[(String, String)]) -> Result<(ClientCredentials, bool), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    if let Some(encoded) = basic {
        let failed = || OAuthError::invalid_client("Malformed HTTP Basic client credentials.");
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| failed())?;
        let text = String::from_utf8(decoded).map_err(|_| failed())?;
        let (id, secret) = text.split_once(':').ok_or_else(failed)?;
        let unescape =
            |s: &str| url::form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        let creds = ClientCredentials { client_id: unescape(id), client_secret: unescape(secret) };
        if field(pairs, "client_secret").is_some() {
            return Err(OAuthError::invalid_request("Use one client authentication method, not two."));
        }
        return Ok((creds, true));
    }
    Ok((
        ClientCredentials { client_id: field(pairs, "client_id"), client_secret: field(pairs, "client_secret") },
        false,
    ))
}

/// The token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
struct TokenBody {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

/// `POST /oauth/token`: the `authorization_code` and `refresh_token` grants.
pub async fn get_o_auth_token(
    State(app): State<AppState>,
    fapi: Fapi,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match form_fields(&headers, &body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e, false),
    };
    let (creds, basic) = match credentials(&headers, &pairs) {
        Ok(c) => c,
        Err(e) => return oauth_error(&e, false),
    };
    let params = TokenParams {
        grant_type: field(&pairs, "grant_type"),
        code: field(&pairs, "code"),
        redirect_uri: field(&pairs, "redirect_uri"),
        code_verifier: field(&pairs, "code_verifier"),
        refresh_token: field(&pairs, "refresh_token"),
        scope: field(&pairs, "scope"),
        resource: field(&pairs, "resource"),
        client_id: None,
        client_secret: None,
    };
    match grants::token(&app.ctx, &fapi.instance, &fapi.base_url, &creds, &params).await {
        Ok(t) => {
            let mut response = Json(TokenBody {
                access_token: t.access_token,
                token_type: "Bearer",
                expires_in: t.expires_in,
                refresh_token: t.refresh_token,
                scope: t.scope,
                id_token: t.id_token,
            })
            .into_response();
            no_store(&mut response);
            response
        }
        Err(e) => oauth_error(&e, basic),
    }
}

/// 401 for userinfo without a live access token: the ClerkErrors envelope (as the spec declares), with RFC
/// 6750's `WWW-Authenticate`.
fn userinfo_unauthorized(why: &str) -> Response {
    let mut response =
        ApiError(Error::with(ErrorCode::OAuthAccessTokenInvalid, "invalid access token", why, None)).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}

async fn userinfo(app: &AppState, fapi: &Fapi, token: Option<String>) -> Response {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return userinfo_unauthorized("An access token is required (Authorization: Bearer).");
    };
    match tessera_core::oauth::claims::userinfo(&app.ctx, &fapi.instance.id, &token, &fapi.base_url).await {
        Ok(info) => {
            let mut response = Json(info).into_response();
            no_store(&mut response);
            response
        }
        Err(e) if e.status == 401 => userinfo_unauthorized(&e.description),
        Err(e) => ApiError(Error::with(ErrorCode::BadRequest, e.error, e.description, None)).into_response(),
    }
}

/// `GET /oauth/userinfo`
pub async fn get_o_auth_user_info(State(app): State<AppState>, fapi: Fapi) -> Response {
    let token = fapi.bearer.clone();
    userinfo(&app, &fapi, token).await
}

/// `POST /oauth/userinfo` (the token as `Authorization: Bearer`, or `access_token` in the form: RFC 6750 §2.2).
pub async fn get_o_auth_user_info_post(
    State(app): State<AppState>,
    fapi: Fapi,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let token = match fapi.bearer.clone() {
        Some(t) => Some(t),
        None => form_fields(&headers, &body).ok().and_then(|p| field(&p, "access_token")),
    };
    userinfo(&app, &fapi, token).await
}

/// The introspection answer (RFC 7662 §2.2).
#[derive(Debug, Serialize)]
struct TokenInfoBody {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
}

/// `POST /oauth/token_info`: introspection for the authenticated client's own tokens.
pub async fn get_o_auth_token_info(
    State(app): State<AppState>,
    fapi: Fapi,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let pairs = form_fields(&headers, &body)?;
        let (creds, _) = credentials(&headers, &pairs)?;
        let token = field(&pairs, "token").unwrap_or_default();
        grants::introspect(&app.ctx, &fapi.instance.id, &creds, &token).await
    }
    .await;
    match result {
        Ok(i) => {
            let mut response = Json(TokenInfoBody {
                active: i.active,
                client_id: i.client_id,
                iat: i.iat,
                scope: i.scope,
                sub: i.sub,
                org_id: i.org_id,
            })
            .into_response();
            no_store(&mut response);
            response
        }
        Err(e) => oauth_error(&e, false),
    }
}

/// `POST /oauth/token/revoke` (RFC 7009): 200 with no body, whether or not the token was known.
pub async fn revoke_o_auth_token(
    State(app): State<AppState>,
    fapi: Fapi,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let pairs = form_fields(&headers, &body).map_err(|e| (e, false))?;
        let (creds, basic) = credentials(&headers, &pairs).map_err(|e| (e, false))?;
        let token = field(&pairs, "token").unwrap_or_default();
        grants::revoke(&app.ctx, &fapi.instance.id, &creds, &token).await.map_err(|e| (e, basic))
    };
    match result.await {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err((e, basic)) => oauth_error(&e, basic),
    }
}

/// The RFC 7591 registration request (unknown metadata is ignored, as RFC 7591 §2 requires).
#[derive(Debug, serde::Deserialize)]
struct RegistrationRequest {
    redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    scope: Option<String>,
}

/// The RFC 7591 registration answer.
#[derive(Debug, Serialize)]
struct Registration {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    client_id_issued_at: i64,
    client_secret_expires_at: i64,
    client_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_uri: Option<String>,
    redirect_uris: Vec<String>,
    grant_types: &'static [&'static str],
    response_types: &'static [&'static str],
    scope: String,
    token_endpoint_auth_method: String,
}

/// `POST /oauth/register` (RFC 7591): only while the instance allows dynamic registration (else 422). The new
/// client always asks for consent; `token_endpoint_auth_method=none` registers a public (PKCE) client. Scopes
/// default to the instance's default scopes.
pub async fn register_o_auth_client(
    State(app): State<AppState>,
    fapi: Fapi,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let settings = tessera_core::settings::oauth_application_settings(ctx, &fapi.instance.id).await?;
    if !settings.dynamic_oauth_client_registration {
        return Err(ApiError(Error::with(
            ErrorCode::FormParamValueInvalid,
            "dynamic client registration is disabled",
            "Dynamic client registration is not enabled for this instance.",
            None,
        )));
    }
    let metadata_error = |error: &'static str, why: String| {
        let mut response = oauth_error(&OAuthError::new(400, error, why), false);
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    };
    let req: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return Ok(metadata_error("invalid_client_metadata", format!("The body is not valid metadata: {e}"))),
    };
    let redirect_uris = req.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Ok(metadata_error("invalid_redirect_uri", "redirect_uris must list at least one URI.".into()));
    }
    let method = req.token_endpoint_auth_method.unwrap_or_else(|| "client_secret_basic".into());
    if !matches!(method.as_str(), "client_secret_basic" | "client_secret_post" | "none") {
        return Ok(metadata_error(
            "invalid_client_metadata",
            "token_endpoint_auth_method must be client_secret_basic, client_secret_post or none.".into(),
        ));
    }
    let scope =
        req.scope.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| settings.effective_default_scopes().join(" "));
    let input = tessera_core::oauth::applications::NewApplication {
        name: req.client_name.clone().filter(|n| !n.trim().is_empty()),
        redirect_uris: Some(redirect_uris),
        callback_url: None,
        scopes: Some(scope),
        consent_screen_enabled: Some(true),
        pkce_required: Some(false),
        public: Some(method == "none"),
        client_uri: req.client_uri.clone(),
        dynamically_registered: true,
    };
    let created = match tessera_core::oauth::applications::create(ctx, &fapi.instance.id, input).await {
        Ok(c) => c,
        Err(e) if e.status() == 422 => {
            let item = &e.items()[0];
            let param = item.meta.as_ref().and_then(|m| m.param_name.as_deref()).unwrap_or_default();
            let error = if param == "redirect_uris" { "invalid_redirect_uri" } else { "invalid_client_metadata" };
            return Ok(metadata_error(error, item.long_message.clone()));
        }
        Err(e) => return Err(ApiError(e)),
    };
    let a = &created.application;
    let mut response = (
        StatusCode::CREATED,
        Json(Registration {
            client_id: a.client_id.clone(),
            client_secret: (!a.public).then(|| created.client_secret.clone()),
            client_id_issued_at: a.created_at / 1000,
            client_secret_expires_at: 0,
            client_name: a.name.clone(),
            client_uri: a.client_uri.clone(),
            logo_uri: req.logo_uri,
            redirect_uris: a.redirect_uris.clone(),
            grant_types: &["authorization_code", "refresh_token"],
            response_types: &["code"],
            scope: a.scopes.clone(),
            token_endpoint_auth_method: method,
        }),
    )
        .into_response();
    no_store(&mut response);
    Ok(response)
}
