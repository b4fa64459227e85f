//! Sign-ins on the browser's client (`/v1/client/sign_ins…`). Every answer is `{response: SignIn, client}`; a
//! sign-in of another client is a 404, as is any sign-in id for a browser without a client.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::{ApiError, ApiResult};
use tessera_core::browser_clients::{self, BrowserClient};
use tessera_core::sign_ins::{self, SignIn, factors};
use tessera_core::{Ctx, Error};

use crate::extract::{Browser, Fapi, Form};
use crate::objects::sign_in::SignInObject;
use crate::respond;
use crate::routes::client::ensure_client;
use tessera_api::extract::Path;

/// The sign-in in progress on a client (none once it completed or was abandoned).
pub async fn in_progress(ctx: &Ctx, fapi: &Fapi, client: &BrowserClient) -> Result<Option<SignIn>, Error> {
    sign_ins::in_progress(ctx, &fapi.instance.id, &client.id, client.sign_in_id.as_deref()).await
}

/// `{sign_in_id}`; a segment that is no string is an unknown sign-in.
pub struct SignInId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SignInId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(sign_ins::not_found().into()),
        }
    }
}

/// The browser's client id, or 404 for the sign-in (a browser without a client has no sign-ins).
fn client_id(browser: &Browser) -> Result<String, ApiError> {
    browser.client.as_ref().map(|c| c.id.clone()).ok_or_else(|| sign_ins::not_found().into())
}

async fn answer(app: &AppState, browser: &Browser, s: &SignIn) -> ApiResult<Response> {
    respond::wrapped(app, browser, SignInObject::new(s, &browser.fapi.base_url)).await
}

/// Body of `POST /v1/client/sign_ins` (clerk-js's other fields — `locale`, captcha, redirect URLs — are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateSignInForm {
    identifier: Option<String>,
    strategy: Option<String>,
    password: Option<String>,
    ticket: Option<String>,
    redirect_url: Option<String>,
    action_complete_redirect_url: Option<String>,
    /// `true`: continue the client's enterprise SSO sign-up that found an existing account (clerk-js's
    /// `signIn.create({transfer: true})`).
    transfer: Option<String>,
}

/// What an enterprise SSO verification needs from the request: clerk-js's return URLs and the base URL.
pub(crate) fn sso_start(
    browser: &Browser,
    redirect_url: Option<String>,
    action_complete_redirect_url: Option<String>,
) -> tessera_core::enterprise_sso::Start {
    tessera_core::enterprise_sso::Start {
        redirect_url,
        action_complete_redirect_url,
        base_url: browser.fapi.base_url.clone(),
    }
}

/// `POST /v1/client/sign_ins` (createSignIn). A browser without a client yet (production, no cookie) gets one;
/// it is forgotten again if the sign-in is refused.
pub async fn create_sign_in(
    State(app): State<AppState>,
    mut browser: Browser,
    Form(form): Form<CreateSignInForm>,
) -> ApiResult<Response> {
    let transfer = crate::routes::sign_ups::form_bool("transfer", form.transfer.clone())?.unwrap_or(false);
    let created = browser.client.is_none();
    ensure_client(&app, &mut browser).await?;
    let id = client_id(&browser)?;
    let instance = &browser.fapi.instance;
    let result = if transfer {
        tessera_core::enterprise_sso::transfer::to_sign_in(&app.ctx, instance, &id).await
    } else {
        let input = sign_ins::NewSignIn {
            identifier: form.identifier,
            strategy: form.strategy,
            password: form.password,
            ticket: form.ticket,
            sso: Some(sso_start(&browser, form.redirect_url, form.action_complete_redirect_url)),
        };
        sign_ins::create(&app.ctx, instance, &id, input).await
    };
    match result {
        Ok(s) => answer(&app, &browser, &s).await,
        Err(e) => {
            if created {
                // Best effort: the refusal is the answer either way.
                let _ = browser_clients::destroy(&app.ctx, &browser.fapi.instance.id, &id).await;
            }
            Err(e.into())
        }
    }
}

/// `GET /v1/client/sign_ins/{sign_in_id}` (getSignIn).
pub async fn get_sign_in(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = sign_ins::get(&app.ctx, &browser.fapi.instance.id, &client, &sign_in_id).await?;
    answer(&app, &browser, &s).await
}

/// Body of `prepare_first_factor` / `prepare_second_factor`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrepareForm {
    strategy: Option<String>,
    email_address_id: Option<String>,
    phone_number_id: Option<String>,
    redirect_url: Option<String>,
    action_complete_redirect_url: Option<String>,
}

impl PrepareForm {
    fn into_prepare(self, browser: &Browser) -> factors::Prepare {
        factors::Prepare {
            sso: Some(sso_start(browser, self.redirect_url, self.action_complete_redirect_url)),
            strategy: self.strategy,
            email_address_id: self.email_address_id,
            phone_number_id: self.phone_number_id,
        }
    }
}

/// Body of `attempt_first_factor` / `attempt_second_factor`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AttemptForm {
    strategy: Option<String>,
    code: Option<String>,
    password: Option<String>,
}

impl From<AttemptForm> for factors::Attempt {
    fn from(f: AttemptForm) -> Self {
        Self { strategy: f.strategy, code: f.code, password: f.password }
    }
}

/// `POST /v1/client/sign_ins/{sign_in_id}/prepare_first_factor` (prepareSignInFactorOne).
pub async fn prepare_sign_in_factor_one(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
    Form(form): Form<PrepareForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let input = form.into_prepare(&browser);
    let s = factors::prepare_first_factor(&app.ctx, &browser.fapi.instance, &client, &sign_in_id, input).await?;
    answer(&app, &browser, &s).await
}

/// `POST /v1/client/sign_ins/{sign_in_id}/attempt_first_factor` (attemptSignInFactorOne).
pub async fn attempt_sign_in_factor_one(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
    Form(form): Form<AttemptForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = factors::attempt_first_factor(&app.ctx, &browser.fapi.instance, &client, &sign_in_id, form.into()).await?;
    answer(&app, &browser, &s).await
}

/// `POST /v1/client/sign_ins/{sign_in_id}/prepare_second_factor` (prepareSignInFactorTwo).
pub async fn prepare_sign_in_factor_two(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
    Form(form): Form<PrepareForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let input = form.into_prepare(&browser);
    let s = factors::prepare_second_factor(&app.ctx, &browser.fapi.instance, &client, &sign_in_id, input).await?;
    answer(&app, &browser, &s).await
}

/// `POST /v1/client/sign_ins/{sign_in_id}/attempt_second_factor` (attemptSignInFactorTwo).
pub async fn attempt_sign_in_factor_two(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
    Form(form): Form<AttemptForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = factors::attempt_second_factor(&app.ctx, &browser.fapi.instance, &client, &sign_in_id, form.into()).await?;
    answer(&app, &browser, &s).await
}

/// Body of `reset_password`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetPasswordForm {
    password: Option<String>,
    sign_out_of_other_sessions: Option<String>,
}

/// `POST /v1/client/sign_ins/{sign_in_id}/reset_password` (resetPassword): the new password after a verified
/// reset-password code.
pub async fn reset_password(
    State(app): State<AppState>,
    browser: Browser,
    SignInId(sign_in_id): SignInId,
    Form(form): Form<ResetPasswordForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let sign_out = match form.sign_out_of_other_sessions.as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => {
            return Err(Error::param_value_invalid(
                "sign_out_of_other_sessions",
                "sign_out_of_other_sessions must be true or false.",
            )
            .into());
        }
    };
    let s = factors::reset_password(&app.ctx, &browser.fapi.instance, &client, &sign_in_id, form.password, sign_out)
        .await?;
    answer(&app, &browser, &s).await
}
