//! The authorization endpoint and the consent screen.
//!
//! `GET|POST /oauth/authorize` validates the request, then needs a signed-in person: the browser's client on
//! this frontend host (the `__client` cookie; in development the dev browser, from `__clerk_db_jwt` in the query
//! or the cookie clerk-js sets on this host). A signed-out browser is sent to the hosted sign-in page, which
//! returns it here. Then, unless consent is remembered (or not asked for), the consent screen; its decision is
//! posted to `/v1/me/oauth/consent/{client_id}` with the authorization request in the query and a token bound to
//! the session and request (a keyed digest), so that no other site can post a decision for the person.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Json, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::{ApiError, ApiResult};
use tessera_core::browser_clients::{self, DEV_BROWSER_PREFIX};
use tessera_core::oauth::provider::{self, Authorization, AuthorizeParams, OAuthError, Rejection};
use tessera_core::sessions::Session;
use tessera_core::{Error, ErrorCode};

use crate::extract::{CLIENT_COOKIE, Fapi, Form};
use crate::oauth_pages;
use tessera_api::extract::Path;

/// The cookie clerk-js keeps the dev browser token in (development instances).
const DEV_BROWSER_COOKIE: &str = "__clerk_db_jwt";
/// A `prompt=login` is satisfied by a session signed in this recently (the hosted sign-in round trip).
const FRESH_SIGN_IN_MS: i64 = 10 * 60 * 1000;

/// The browser's signed-in session on this frontend host, if any.
async fn signed_in(app: &AppState, fapi: &Fapi) -> Result<Option<Session>, Error> {
    let ctx = &app.ctx;
    let mut tokens: Vec<String> = Vec::new();
    if fapi.development() {
        tokens.extend(fapi.query.dev_browser.clone());
        tokens.extend(
            fapi.cookies
                .iter()
                .filter(|(n, _)| n == DEV_BROWSER_COOKIE || n.starts_with("__clerk_db_jwt_"))
                .map(|(_, v)| v.clone()),
        );
        tokens.retain(|t| t.starts_with(DEV_BROWSER_PREFIX));
    }
    tokens.extend(fapi.cookie(CLIENT_COOKIE).map(str::to_owned));
    for token in tokens {
        if let Some(client) = browser_clients::by_token(ctx, &fapi.instance.id, &token).await? {
            let wanted = client.last_active_session_id.clone();
            if let Some(s) = wanted.and_then(|id| client.live_sessions().find(|s| s.id == id).cloned()) {
                return Ok(Some(s));
            }
        }
    }
    Ok(None)
}

/// The authorization request as a query string (where the sign-in page returns to, where consent is posted).
fn query_of(p: &AuthorizeParams, drop_login: bool) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let prompt = p.prompt.as_deref().map(|v| {
        if drop_login { v.split(' ').filter(|x| *x != "login").collect::<Vec<_>>().join(" ") } else { v.to_owned() }
    });
    for (k, v) in [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("nonce", &p.nonce),
        ("prompt", &prompt.filter(|v| !v.is_empty())),
        ("response_mode", &p.response_mode),
        ("resource", &p.resource),
    ] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

/// Sends a result to the client: a 302 to its `redirect_uri` with the parameters in the query, or the
/// auto-submitting form of `form_post`.
fn to_client(redirect_uri: &str, form_post: bool, fields: Vec<(&str, String)>) -> Response {
    if form_post {
        return oauth_pages::form_post(redirect_uri, &fields);
    }
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return oauth_pages::error("invalid_request", "The redirect_uri is not a valid URI."),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &fields {
            q.append_pair(k, v);
        }
    }
    redirect(StatusCode::FOUND, url.as_str())
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn rejected(r: Rejection) -> Response {
    match r {
        Rejection::Show(e) => oauth_pages::error(e.error, &e.description),
        Rejection::Redirect { redirect_uri, state, form_post, error } => {
            let mut fields = vec![("error", error.error.to_owned()), ("error_description", error.description)];
            fields.extend(state.map(|s| ("state", s)));
            to_client(&redirect_uri, form_post, fields)
        }
    }
}

fn code_answer(a: &Authorization, code: String) -> Response {
    let mut fields = vec![("code", code)];
    fields.extend(a.state.clone().map(|s| ("state", s)));
    to_client(&a.redirect_uri, a.form_post, fields)
}

/// The anti-forgery token of a consent decision: a keyed digest of the session and the request it decides.
fn consent_token(app: &AppState, session_id: &str, a: &Authorization) -> String {
    let material = format!(
        "oauth-consent\n{session_id}\n{}\n{}\n{}\n{}",
        a.app.client_id,
        a.redirect_uri,
        a.scopes.join(" "),
        a.code_challenge.as_deref().unwrap_or_default()
    );
    hex::encode(app.ctx.secrets.digest(&material))
}

async fn authorize(app: AppState, fapi: Fapi, p: AuthorizeParams) -> Response {
    let a = match provider::validate(&app.ctx, &fapi.instance.id, &p).await {
        Ok(a) => a,
        Err(r) => return rejected(r),
    };
    let session = match signed_in(&app, &fapi).await {
        Ok(s) => s,
        Err(e) => return ApiError(e).into_response(),
    };
    let now = app.ctx.now_ms();
    let session = session.filter(|s| !a.prompts("login") || now - s.created_at < FRESH_SIGN_IN_MS);
    let Some(session) = session else {
        if a.prompts("none") {
            return rejected(a.reject(OAuthError::new(400, "login_required", "The user is not signed in.")));
        }
        // Back here after signing in, without `prompt=login` (which the fresh sign-in satisfied).
        let back = format!("{}/oauth/authorize?{}", fapi.base_url, query_of(&p, true));
        let mut sign_in = format!("{}/sign-in?", fapi.base_url);
        sign_in.push_str(
            &url::form_urlencoded::Serializer::new(String::new()).append_pair("redirect_url", &back).finish(),
        );
        return redirect(StatusCode::FOUND, &sign_in);
    };
    let needed = match provider::consent_needed(&app.ctx, &fapi.instance.id, &session.user_id, &a).await {
        Ok(n) => n,
        Err(e) => return ApiError(e).into_response(),
    };
    if needed {
        if a.prompts("none") {
            return rejected(a.reject(OAuthError::new(400, "consent_required", "The user has not consented.")));
        }
        return consent_screen(&app, &fapi, &p, &a, &session).await;
    }
    match provider::issue_code(
        &app.ctx,
        &fapi.instance.id,
        &session.user_id,
        &session.id,
        &a,
        default_org(&a, &session),
        false,
    )
    .await
    {
        Ok(code) => code_answer(&a, code),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The organization of a grant with `user:org:read`: the session's active organization.
fn default_org(a: &Authorization, session: &Session) -> Option<String> {
    a.scopes.iter().any(|s| s == "user:org:read").then(|| session.last_active_organization_id.clone()).flatten()
}

async fn consent_screen(
    app: &AppState,
    fapi: &Fapi,
    p: &AuthorizeParams,
    a: &Authorization,
    session: &Session,
) -> Response {
    let user = tessera_core::users::get_user(&app.ctx, &fapi.instance.id, &session.user_id).await.ok();
    let who = user
        .as_ref()
        .and_then(|u| u.email_addresses.iter().find(|e| Some(&e.id) == u.primary_email_address_id.as_ref()))
        .map(|e| e.value.clone())
        .or_else(|| user.as_ref().and_then(|u| u.username.clone()))
        .unwrap_or_else(|| session.user_id.clone());
    let mut action =
        format!("{}/v1/me/oauth/consent/{}?{}", fapi.base_url, urlencode(&a.app.client_id), query_of(p, false));
    if let Some(db) = &fapi.query.dev_browser {
        action.push_str(&format!("&{DEV_BROWSER_COOKIE}={}", urlencode(db)));
    }
    let logo = a
        .app
        .image_id
        .as_ref()
        .map(|img| format!("{}{}/{img}", fapi.base_url, tessera_api::objects::oauth_application::IMAGE_PATH));
    oauth_pages::consent(&oauth_pages::Consent {
        name: &a.app.name,
        logo,
        user: who,
        scopes: a.scopes.iter().map(|s| provider::scope_description(s)).collect(),
        redirect_host: url::Url::parse(&a.redirect_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| a.redirect_uri.clone()),
        action,
        csrf: consent_token(app, &session.id, a),
    })
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /oauth/authorize`
pub async fn request_o_auth_authorize(
    State(app): State<AppState>,
    fapi: Fapi,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    authorize(app, fapi, p).await
}

/// `POST /oauth/authorize` (the request form-encoded in the body).
pub async fn request_o_auth_authorize_post(
    State(app): State<AppState>,
    fapi: Fapi,
    Form(p): Form<AuthorizeParams>,
) -> Response {
    authorize(app, fapi, p).await
}

/// The consent decision (`consented=true` grants; anything else denies).
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    consented: Option<String>,
    organization_id: Option<String>,
    csrf_token: Option<String>,
}

/// `POST /v1/me/oauth/consent/{client_id}`: the person's decision on the consent screen. The authorization
/// request comes in the query (as the consent screen posts it).
pub async fn submit_o_auth_consent(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(client_id): Path<String>,
    uri: Uri,
    Form(form): Form<ConsentForm>,
) -> ApiResult<Response> {
    let p: AuthorizeParams = serde_html_form::from_str(uri.query().unwrap_or_default()).map_err(|_| {
        Error::with(ErrorCode::BadRequest, "invalid request", "The authorization request is malformed.", None)
    })?;
    if p.client_id.as_deref() != Some(client_id.as_str()) {
        return Err(Error::not_found("oauth application").into());
    }
    let a = match provider::validate(&app.ctx, &fapi.instance.id, &p).await {
        Ok(a) => a,
        Err(Rejection::Show(e)) if e.error == "invalid_client" => {
            return Err(Error::not_found("oauth application").into());
        }
        Err(r) => return Ok(rejected(r)),
    };
    let session = signed_in(&app, &fapi).await?.ok_or_else(|| ApiError(Error::new(ErrorCode::SignedOut)))?;
    let expected = consent_token(&app, &session.id, &a);
    let presented = form.csrf_token.unwrap_or_default();
    if !tessera_core::crypto::constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(Error::new(ErrorCode::OAuthConsentForged).into());
    }
    if form.consented.as_deref() != Some("true") {
        return Ok(rejected(a.reject(OAuthError::new(400, "access_denied", "The user denied the request."))));
    }
    let org = match form.organization_id.filter(|o| !o.is_empty()) {
        Some(org) if a.scopes.iter().any(|s| s == "user:org:read") => {
            tessera_core::organizations::access::member_access(&app.ctx, &fapi.instance.id, &org, &session.user_id)
                .await?;
            Some(org)
        }
        _ => default_org(&a, &session),
    };
    let code = provider::issue_code(&app.ctx, &fapi.instance.id, &session.user_id, &session.id, &a, org, true).await?;
    let mut response = code_answer(&a, code);
    if response.status() == StatusCode::FOUND {
        // A redirect after a form POST: 303, so the browser follows with GET.
        *response.status_mut() = StatusCode::SEE_OTHER;
    }
    Ok(response)
}

/// Query of `GET /v1/me/oauth/consent/{client_id}`.
#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    scope: Option<String>,
}

/// One scope on a custom consent screen.
#[derive(Debug, Serialize)]
struct ScopeInfo {
    scope: String,
    description: Option<&'static str>,
    requires_consent: bool,
}

/// The consent information of `GET /v1/me/oauth/consent/{client_id}`.
#[derive(Debug, Serialize)]
struct ConsentInfo {
    oauth_application_name: String,
    oauth_application_logo_url: Option<String>,
    oauth_application_url: Option<String>,
    client_id: String,
    redirect_domain: Option<String>,
    scopes: Vec<ScopeInfo>,
}

/// `GET /v1/me/oauth/consent/{client_id}`: what a custom consent screen shows — the application and, per scope,
/// whether the signed-in person still has to consent to it. `redirect_domain` is always `null`: Tessera has no
/// public suffix list to resolve registrable domains with (the spec's documented fallback).
pub async fn get_o_auth_consent(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(client_id): Path<String>,
    Query(q): Query<ConsentQuery>,
) -> ApiResult<Response> {
    let (a, _) = tessera_core::oauth::applications::by_client_id(&app.ctx, &fapi.instance.id, &client_id)
        .await?
        .ok_or_else(|| Error::not_found("oauth application"))?;
    let session = signed_in(&app, &fapi).await?.ok_or_else(|| ApiError(Error::new(ErrorCode::SignedOut)))?;
    let remembered =
        provider::remembered_consent(&app.ctx, &fapi.instance.id, &session.user_id, &a.id).await?.unwrap_or_default();
    let asked = q.scope.as_deref().map(tessera_core::oauth::split_scopes);
    let scopes = asked.unwrap_or_else(|| tessera_core::oauth::split_scopes(&a.scopes));
    let info = ConsentInfo {
        oauth_application_name: a.name.clone(),
        oauth_application_logo_url: a
            .image_id
            .as_ref()
            .map(|img| format!("{}{}/{img}", fapi.base_url, tessera_api::objects::oauth_application::IMAGE_PATH)),
        oauth_application_url: a.client_uri.clone(),
        client_id: a.client_id.clone(),
        redirect_domain: None,
        scopes: scopes
            .into_iter()
            .map(|s| ScopeInfo {
                description: Some(provider::scope_description(&s)),
                requires_consent: a.consent_screen_enabled && !remembered.contains(&s),
                scope: s,
            })
            .collect(),
    };
    Ok(Json(info).into_response())
}

/// `DELETE /v1/me/oauth/consent/{client_id}` (outside the spec): withdraws the signed-in person's consent to the
/// application and revokes every token it holds for them; the consent screen shows again next time.
pub async fn revoke_o_auth_consent(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(client_id): Path<String>,
) -> ApiResult<Response> {
    let (a, _) = tessera_core::oauth::applications::by_client_id(&app.ctx, &fapi.instance.id, &client_id)
        .await?
        .ok_or_else(|| Error::not_found("oauth application"))?;
    let session = signed_in(&app, &fapi).await?.ok_or_else(|| ApiError(Error::new(ErrorCode::SignedOut)))?;
    provider::revoke_consent(&app.ctx, &fapi.instance.id, &session.user_id, &a.id).await?;
    #[derive(Serialize)]
    struct Deleted<'a> {
        object: &'static str,
        client_id: &'a str,
        deleted: bool,
    }
    Ok(Json(Deleted { object: "oauth_consent", client_id: &a.client_id, deleted: true }).into_response())
}
