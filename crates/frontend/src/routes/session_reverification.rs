//! Session reverification (`/v1/client/sessions/{session_id}/verify…`): clerk-js's `session.startVerification`
//! and its factor steps, for `<UserVerification/>` and `useReverification`. Every answer is
//! `{response: SessionReverification, client}`; the session inside carries a token whose `fva` claim shows the
//! factors just verified.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::{ApiError, ApiResult};
use tessera_core::session_reverification::{self as reverification, Attempt, Prepare, Reverification};
use tessera_core::sessions;

use crate::extract::{Browser, Form};
use crate::objects::session_reverification::SessionReverificationObject;
use crate::respond;
use tessera_api::extract::Path;

/// The browser's client id, or 404 for the session (a browser without a client has no sessions).
fn client_id(browser: &Browser) -> Result<String, ApiError> {
    browser.client.as_ref().map(|c| c.id.clone()).ok_or_else(|| sessions::not_found().into())
}

async fn answer(app: &AppState, browser: &Browser, r: &Reverification) -> ApiResult<Response> {
    let session = respond::session_json(&app.ctx, &browser.fapi, &r.session).await?;
    respond::wrapped(app, browser, SessionReverificationObject::new(r, session)).await
}

/// Body of `verify`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    level: Option<String>,
}

/// `POST /v1/client/sessions/{session_id}/verify` (startSessionReverification).
pub async fn start_session_reverification(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<StartForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let instance = &browser.fapi.instance.id;
    let r = reverification::start(&app.ctx, instance, &client, &session_id, form.level.as_deref()).await?;
    answer(&app, &browser, &r).await
}

/// Body of the prepare steps.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrepareForm {
    strategy: Option<String>,
    email_address_id: Option<String>,
    phone_number_id: Option<String>,
}

impl From<PrepareForm> for Prepare {
    fn from(f: PrepareForm) -> Self {
        Self {
            strategy: f.strategy,
            email_address_id: f.email_address_id,
            phone_number_id: f.phone_number_id,
            sso: None,
        }
    }
}

/// Body of the attempt steps.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AttemptForm {
    strategy: Option<String>,
    code: Option<String>,
    password: Option<String>,
}

impl From<AttemptForm> for Attempt {
    fn from(f: AttemptForm) -> Self {
        Self { strategy: f.strategy, code: f.code, password: f.password }
    }
}

/// `POST /v1/client/sessions/{session_id}/verify/prepare_first_factor` (prepareSessionReverificationFirstFactor).
pub async fn prepare_session_reverification_first_factor(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<PrepareForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let instance = &browser.fapi.instance;
    let r = reverification::prepare_first_factor(&app.ctx, instance, &client, &session_id, form.into()).await?;
    answer(&app, &browser, &r).await
}

/// `POST /v1/client/sessions/{session_id}/verify/attempt_first_factor` (attemptSessionReverificationFirstFactor).
pub async fn attempt_session_reverification_first_factor(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<AttemptForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let instance = &browser.fapi.instance;
    let r = reverification::attempt_first_factor(&app.ctx, instance, &client, &session_id, form.into()).await?;
    answer(&app, &browser, &r).await
}

/// `POST /v1/client/sessions/{session_id}/verify/prepare_second_factor` (prepareSessionReverificationSecondFactor).
pub async fn prepare_session_reverification_second_factor(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<PrepareForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let instance = &browser.fapi.instance;
    let r = reverification::prepare_second_factor(&app.ctx, instance, &client, &session_id, form.into()).await?;
    answer(&app, &browser, &r).await
}

/// `POST /v1/client/sessions/{session_id}/verify/attempt_second_factor` (attemptSessionReverificationSecondFactor).
pub async fn attempt_session_reverification_second_factor(
    State(app): State<AppState>,
    browser: Browser,
    Path(session_id): Path<String>,
    Form(form): Form<AttemptForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let instance = &browser.fapi.instance;
    let r = reverification::attempt_second_factor(&app.ctx, instance, &client, &session_id, form.into()).await?;
    answer(&app, &browser, &r).await
}
