//! Sign-ups on the browser's client (`/v1/client/sign_ups…`): create (it becomes the client's sign-up in
//! progress), read, fill in, and verify the email address or phone number by code. Each answers
//! `{response: SignUp, client}`; the attempt that completes opens a session on this client, in the transaction that
//! creates the user. Only the client an attempt was made on reaches it: another's answers 404.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::browser_clients::BrowserClient;
use tessera_core::sign_ups::{self, NewSignUp};
use tessera_core::{Ctx, Error, enterprise_sso};

use crate::extract::{Browser, Fapi, Form};
use crate::objects::sign_up::SignUpObject;
use crate::respond;
use crate::routes::client::ensure_client;
use tessera_api::extract::Path;

/// The sign-up in progress on a client, as its object (for the client object): the client's latest attempt until
/// it completes.
pub async fn in_progress(ctx: &Ctx, fapi: &Fapi, client: &BrowserClient) -> Result<Option<SignUpObject>, Error> {
    let Some(id) = &client.sign_up_id else { return Ok(None) };
    match sign_ups::get_on_client(ctx, &fapi.instance.id, &client.id, id).await {
        Ok(s) => Ok(Some(SignUpObject::new(&s))),
        Err(e) if e.status() == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// The form of `POST /v1/client/sign_ups` and `PATCH /v1/client/sign_ups/{id}`. clerk-js sends `null` as an empty
/// string, so every field is a string here; unknown keys (captcha, Protect, redirect URLs) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct SignUpForm {
    email_address: Option<String>,
    phone_number: Option<String>,
    email_address_or_phone_number: Option<String>,
    username: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// A JSON object, stringified.
    unsafe_metadata: Option<String>,
    legal_accepted: Option<String>,
    locale: Option<String>,
    strategy: Option<String>,
    ticket: Option<String>,
    /// With `strategy=enterprise_sso|saml`: clerk-js's `sso-callback` URL.
    redirect_url: Option<String>,
    /// With `strategy=enterprise_sso|saml`: where clerk-js goes once signed up.
    action_complete_redirect_url: Option<String>,
    /// `true`: continue the client's enterprise SSO sign-in that found no account (clerk-js's
    /// `signUp.create({transfer: true})`).
    transfer: Option<String>,
}

pub(crate) fn form_bool(param: &str, v: Option<String>) -> Result<Option<bool>, Error> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(Error::param_format_invalid(param, format!("{param} must be true or false."))),
    }
}

fn form_metadata(v: Option<String>) -> Result<Option<Map<String, Value>>, Error> {
    let Some(text) = v.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(Value::Null) => Ok(None),
        _ => Err(Error::param_format_invalid("unsafe_metadata", "unsafe_metadata must be a JSON object.")),
    }
}

impl SignUpForm {
    fn into_input(self) -> Result<NewSignUp, Error> {
        // Code strategies (and none: password) and invitation tickets are supported here (enterprise SSO by
        // `create_sign_ups` itself); OAuth and Web3 are not.
        let ticket = match self.strategy.as_deref().map(str::trim) {
            None | Some("" | "email_code" | "phone_code" | "password") => None,
            Some("ticket") => {
                Some(self.ticket.filter(|t| !t.trim().is_empty()).ok_or_else(|| Error::param_missing("ticket"))?)
            }
            Some(_) => {
                return Err(Error::param_value_invalid(
                    "strategy",
                    "This server supports sign-ups with a password, email or phone codes, invitation tickets and \
                     enterprise SSO (enterprise_sso, saml) only.",
                ));
            }
        };
        let (mut email, mut phone) = (self.email_address, self.phone_number);
        if let Some(either) = self.email_address_or_phone_number.filter(|v| !v.trim().is_empty()) {
            if either.contains('@') {
                email = email.filter(|e| !e.is_empty()).or(Some(either));
            } else {
                phone = phone.filter(|p| !p.is_empty()).or(Some(either));
            }
        }
        Ok(NewSignUp {
            email_address: email,
            phone_number: phone,
            username: self.username,
            password: self.password,
            first_name: self.first_name,
            last_name: self.last_name,
            unsafe_metadata: form_metadata(self.unsafe_metadata)?,
            legal_accepted: form_bool("legal_accepted", self.legal_accepted)?,
            locale: self.locale,
            ticket,
        })
    }
}

/// The browser's client id, or 404 for the sign-up (a browser without a client has no sign-ups).
fn client_id(browser: &Browser) -> Result<String, Error> {
    browser.client.as_ref().map(|c| c.id.clone()).ok_or_else(sign_ups::not_found)
}

/// `POST /v1/client/sign_ups`: a new sign-up on the browser's client (made if it has none). With
/// `strategy=enterprise_sso|saml` and `email_address`, the attempt goes through the address's enterprise
/// connection: its external-account verification names the IdP URL (`sign_ups::sso`).
pub async fn create_sign_ups(
    State(app): State<AppState>,
    mut browser: Browser,
    Form(form): Form<SignUpForm>,
) -> ApiResult<Response> {
    if form_bool("transfer", form.transfer.clone())?.unwrap_or(false) {
        let metadata = form_metadata(form.unsafe_metadata)?;
        ensure_client(&app, &mut browser).await?;
        let client = client_id(&browser)?;
        let instance = &browser.fapi.instance;
        let s = enterprise_sso::transfer::to_sign_up(&app.ctx, instance, &client, metadata).await?;
        return respond::wrapped(&app, &browser, SignUpObject::new(&s)).await;
    }
    let strategy = form.strategy.as_deref().map(str::trim).unwrap_or_default();
    if let Some(sso) = enterprise_sso::STRATEGIES.iter().find(|s| **s == strategy) {
        ensure_client(&app, &mut browser).await?;
        let client = client_id(&browser)?;
        let start = crate::routes::sign_ins::sso_start(&browser, form.redirect_url, form.action_complete_redirect_url);
        let instance = &browser.fapi.instance;
        let s = sign_ups::sso::create(&app.ctx, instance, &client, (form.email_address, sso), start).await?;
        return respond::wrapped(&app, &browser, SignUpObject::new(&s)).await;
    }
    let input = form.into_input()?;
    ensure_client(&app, &mut browser).await?;
    let client = client_id(&browser)?;
    let s = sign_ups::create_sign_up(&app.ctx, &browser.fapi.instance.id, &client, input).await?;
    let s = send_first_code(&app, &browser, &client, s).await?;
    respond::wrapped(&app, &browser, SignUpObject::new(&s)).await
}

/// Like Clerk, a sign-up made with an e-mail address (else a phone number) gets its first code at once: `@clerk/ui`
/// shows the code form and goes straight to `attempt_verification` for an unverified `email_code` verification.
/// A code that cannot be delivered (no SMTP for a production instance) is left to an explicit
/// `prepare_verification`, which reports why.
async fn send_first_code(
    app: &AppState,
    browser: &Browser,
    client: &str,
    s: sign_ups::SignUp,
) -> ApiResult<sign_ups::SignUp> {
    let strategy = match (&s.email_address, &s.email_verification, &s.phone_number, &s.phone_verification) {
        (Some(_), Some(v), _, _) if v.attempts.is_none() => "email_code",
        (None, _, Some(_), Some(v)) if v.attempts.is_none() => "phone_code",
        _ => return Ok(s),
    };
    let instance = &browser.fapi.instance;
    match sign_ups::verification::prepare(&app.ctx, instance, client, &s.id, Some(strategy)).await {
        Ok(prepared) => Ok(prepared),
        Err(e) if e.status() < 500 => Ok(s),
        Err(e) => Err(e.into()),
    }
}

/// `GET /v1/client/sign_ups/{sign_up_id}`.
pub async fn get_sign_ups(
    State(app): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = sign_ups::get_on_client(&app.ctx, &browser.fapi.instance.id, &client, &id).await?;
    respond::wrapped(&app, &browser, SignUpObject::new(&s)).await
}

/// `PATCH /v1/client/sign_ups/{sign_up_id}`: fills in missing fields.
pub async fn update_sign_ups(
    State(app): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Form(form): Form<SignUpForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let input = form.into_input()?;
    let s = sign_ups::update_on_client(&app.ctx, &browser.fapi.instance.id, &client, &id, input).await?;
    let s = send_first_code(&app, &browser, &client, s).await?;
    respond::wrapped(&app, &browser, SignUpObject::new(&s)).await
}

/// Form of `…/prepare_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct PrepareForm {
    strategy: Option<String>,
}

/// `POST /v1/client/sign_ups/{sign_up_id}/prepare_verification` (`email_code` / `phone_code`).
pub async fn prepare_sign_ups_verification(
    State(app): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Form(form): Form<PrepareForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = sign_ups::verification::prepare(&app.ctx, &browser.fapi.instance, &client, &id, form.strategy.as_deref())
        .await?;
    respond::wrapped(&app, &browser, SignUpObject::new(&s)).await
}

/// Form of `…/attempt_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct AttemptForm {
    strategy: Option<String>,
    code: Option<String>,
}

/// `POST /v1/client/sign_ups/{sign_up_id}/attempt_verification`: checks a code; the attempt that completes the
/// sign-up opens a session on this client.
pub async fn attempt_sign_ups_verification(
    State(app): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Form(form): Form<AttemptForm>,
) -> ApiResult<Response> {
    let client = client_id(&browser)?;
    let s = sign_ups::verification::attempt(
        &app.ctx,
        &browser.fapi.instance.id,
        &client,
        &id,
        form.strategy.as_deref(),
        form.code.as_deref(),
    )
    .await?;
    respond::wrapped(&app, &browser, SignUpObject::new(&s)).await
}
