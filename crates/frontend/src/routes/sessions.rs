//! The browser's sessions (`/v1/client/sessions…`): activate (touch), mint tokens, end, remove, sign out.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::{ApiError, ApiResult};
use tessera_api::json::Json;
use tessera_core::browser_clients::{self, BrowserClient, OrganizationChoice};
use tessera_core::sessions::{self, status};
use tessera_core::{Error, ErrorCode};

use crate::extract::{Browser, Form};
use crate::objects::client::TokenObject;
use crate::respond;
use tessera_api::extract::Path;

/// The browser's client, or 404 for a browser that has none (so it has no sessions).
fn client_of(browser: &Browser) -> Result<&BrowserClient, ApiError> {
    browser.client.as_ref().ok_or_else(|| ApiError(sessions::not_found()))
}

/// `GET /v1/client/sessions/{session_id}` → `{response: Session, client}`.
pub async fn get_session(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let session = browser_clients::session_of(client_of(&browser)?, &session_id)?.clone();
    let body = respond::session_json(&app.ctx, &browser.fapi, &session).await?;
    respond::wrapped(&app, &browser, body).await
}

/// The body of `touch`. Its `intent` (`select_session`, `select_org`, `focus`) changes nothing here and is ignored
/// like every unknown key.
#[derive(Debug, Deserialize)]
pub struct TouchForm {
    active_organization_id: Option<String>,
}

/// `POST /v1/client/sessions/{session_id}/touch`: makes the session the client's active one and, with
/// `active_organization_id`, switches its organization (empty: the personal account) → `{response: Session,
/// client}`.
pub async fn touch_session(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<TouchForm>,
) -> ApiResult<Response> {
    let client = client_of(&browser)?;
    let choice = OrganizationChoice::from_field(form.active_organization_id.as_deref());
    let session = browser_clients::activate_session(
        &app.ctx,
        &browser.fapi.instance.id,
        &client.id,
        &session_id,
        choice,
        "active_organization_id",
    )
    .await?;
    let body = respond::session_json(&app.ctx, &browser.fapi, &session).await?;
    respond::wrapped(&app, &browser, body).await
}

/// The body of `tokens`.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    organization_id: Option<String>,
}

/// `POST /v1/client/sessions/{session_id}/tokens` → `{object: "token", jwt}` (not wrapped). `organization_id`
/// switches the session's active organization first (empty: the personal account; absent: unchanged). A session
/// that is no longer active answers 401 `signed_out`, on which clerk-js signs the browser out.
pub async fn create_session_token(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<TokenForm>,
) -> ApiResult<Response> {
    let client = client_of(&browser)?;
    let instance = &browser.fapi.instance;
    let choice = OrganizationChoice::from_field(form.organization_id.as_deref());
    if choice != OrganizationChoice::Keep {
        browser_clients::activate_session(&app.ctx, &instance.id, &client.id, &session_id, choice, "organization_id")
            .await
            .map_err(|e| if e.status() == 422 { Error::new(ErrorCode::NotAMemberInOrganization) } else { e })?;
    } else {
        live_session(client, &session_id)?;
    }
    let jwt =
        sessions::create_session_token(&app.ctx, instance, &session_id, None, browser.fapi.origin.as_deref()).await?;
    Ok(Json(TokenObject::new(jwt)).into_response())
}

/// A session of the client that is still active: 404 when it is not the client's, 401 `signed_out` when over.
fn live_session<'a>(client: &'a BrowserClient, session_id: &str) -> Result<&'a sessions::Session, ApiError> {
    let session = browser_clients::session_of(client, session_id)?;
    if session.status != status::ACTIVE {
        return Err(ApiError(Error::new(ErrorCode::SignedOut)));
    }
    Ok(session)
}

/// `POST /v1/client/sessions/{session_id}/tokens/{template_name}` → `{object: "token", jwt}` rendered from the
/// instance's JWT template.
pub async fn create_session_token_with_template(
    State(app): State<AppState>,
    browser: Browser,
    Path((session_id, template_name)): Path<(String, String)>,
) -> ApiResult<Response> {
    live_session(client_of(&browser)?, &session_id)?;
    let jwt = tessera_core::jwt_templates::mint(
        &app.ctx,
        &browser.fapi.instance,
        &session_id,
        &template_name,
        None,
        &browser.fapi.base_url,
    )
    .await?;
    Ok(Json(TokenObject::new(jwt)).into_response())
}

/// `POST /v1/client/sessions/{session_id}/end` → `{response: Session, client}`.
pub async fn end_session(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    finish(app, browser, session_id, status::ENDED).await
}

/// `POST /v1/client/sessions/{session_id}/remove` → `{response: Session, client}`.
pub async fn remove_session(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    finish(app, browser, session_id, status::REMOVED).await
}

async fn finish(app: AppState, browser: Browser, session_id: String, to: &'static str) -> ApiResult<Response> {
    let client = client_of(&browser)?;
    let session =
        browser_clients::end_session(&app.ctx, &browser.fapi.instance.id, &client.id, &session_id, to).await?;
    let body = respond::session_json(&app.ctx, &browser.fapi, &session).await?;
    respond::wrapped(&app, &browser, body).await
}

/// `DELETE /v1/client/sessions`: signs the browser out of every session and keeps the client →
/// `{response: Client, client}`.
pub async fn remove_client_sessions_and_retain_cookie(
    State(app): State<AppState>,
    browser: Browser,
) -> ApiResult<Response> {
    if let Some(client) = &browser.client {
        browser_clients::sign_out(&app.ctx, &browser.fapi.instance.id, &client.id).await?;
    }
    respond::wrapped_client(&app, &browser).await
}
