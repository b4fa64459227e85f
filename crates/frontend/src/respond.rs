//! Answers of the Frontend API: `{response, client}` envelopes carrying the browser's full current client (clerk-js
//! replaces its in-memory client with it after every mutation), and the cookies a production browser keeps.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::browser_clients::{self, BrowserClient};
use tessera_core::sessions::{self, Session};
use tessera_core::{Ctx, Error};

use crate::extract::{Browser, CLIENT_COOKIE, Fapi};
use crate::objects::client::{ClientObject, SessionObject, SessionParts, SessionUserData, TokenObject};
use crate::objects::sign_in::SignInObject;
use crate::objects::user::UserObject;

/// What a session object needs besides the session, loaded once per session.
struct Loaded {
    user: tessera_core::users::User,
    memberships: Vec<tessera_core::organizations::memberships::Membership>,
    token: Option<String>,
}

async fn load_session(ctx: &Ctx, fapi: &Fapi, session: &Session, with_token: bool) -> Result<Option<Loaded>, Error> {
    let user = match tessera_core::users::get_user(ctx, &fapi.instance.id, &session.user_id).await {
        Ok(u) => u,
        Err(e) if e.status() == 404 => return Ok(None),
        Err(e) => return Err(e),
    };
    let memberships =
        tessera_core::organizations::memberships::of_user(ctx, &fapi.instance.id, &session.user_id).await?;
    let token = if with_token && session.status == sessions::status::ACTIVE {
        Some(sessions::create_session_token(ctx, &fapi.instance, &session.id, None, fapi.origin.as_deref()).await?)
    } else {
        None
    };
    Ok(Some(Loaded { user, memberships, token }))
}

/// A client as JSON: its live sessions (each with its user and a fresh token), the sign-in and sign-up in
/// progress.
pub async fn client_json(ctx: &Ctx, fapi: &Fapi, client: &BrowserClient) -> Result<Value, Error> {
    let now = ctx.now_ms();
    let live: Vec<&Session> = client.live_sessions().collect();
    let mut loaded = Vec::with_capacity(live.len());
    for s in &live {
        loaded.push(load_session(ctx, fapi, s, true).await?);
    }
    let sessions = live
        .iter()
        .zip(&loaded)
        .filter_map(|(s, l)| {
            let l = l.as_ref()?;
            Some(session_object(fapi, s, l, now))
        })
        .collect();
    let sign_in = crate::routes::sign_ins::in_progress(ctx, fapi, client).await?;
    let sign_in = sign_in.as_ref().map(|s| SignInObject::new(s, &fapi.base_url));
    let sign_up = crate::routes::sign_ups::in_progress(ctx, fapi, client).await?;
    serde_json::to_value(ClientObject::new(client, sessions, sign_in, sign_up)).map_err(Error::internal)
}

fn session_object<'a>(fapi: &Fapi, s: &'a Session, l: &'a Loaded, now: i64) -> SessionObject<'a> {
    let parts = SessionParts {
        user: Some(UserObject::new(&l.user, &l.memberships, &fapi.base_url)),
        public_user_data: Some(SessionUserData::new(&l.user, &fapi.base_url)),
        last_active_token: l.token.clone().map(TokenObject::new),
    };
    SessionObject::new(s, parts, now)
}

/// One session as JSON (with its user and, when active, a fresh token).
pub async fn session_json(ctx: &Ctx, fapi: &Fapi, session: &Session) -> Result<Value, Error> {
    let Some(l) = load_session(ctx, fapi, session, true).await? else {
        return Err(sessions::not_found());
    };
    serde_json::to_value(session_object(fapi, session, &l, ctx.now_ms())).map_err(Error::internal)
}

/// The browser's current client, re-read (answers show the state after the change), and its JSON.
async fn current_client(app: &AppState, browser: &Browser) -> ApiResult<(Option<BrowserClient>, Value)> {
    let ctx = &app.ctx;
    let client = match browser.client.as_ref() {
        Some(c) => match browser_clients::get(ctx, &browser.fapi.instance.id, &c.id).await {
            Ok(c) => Some(c),
            Err(e) if e.status() == 404 => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let json = match &client {
        Some(c) => client_json(ctx, &browser.fapi, c).await?,
        None => Value::Null,
    };
    Ok((client, json))
}

fn reply(browser: &Browser, body: Value, client: Option<&BrowserClient>) -> Response {
    let mut out = Json(body).into_response();
    set_client_cookies(&mut out, browser, client);
    out
}

/// `{response, client}` with the browser's current client (re-read: the answer shows the state after the change).
pub async fn wrapped(app: &AppState, browser: &Browser, response: impl Serialize) -> ApiResult<Response> {
    let (client, client_json) = current_client(app, browser).await?;
    let body = serde_json::json!({ "response": response, "client": client_json });
    Ok(reply(browser, body, client.as_ref()))
}

/// `{response: Client, client: Client}` (both `null` without a client): the client is the answer, built once
/// (each build mints a token per live session).
pub async fn wrapped_client(app: &AppState, browser: &Browser) -> ApiResult<Response> {
    let (client, client_json) = current_client(app, browser).await?;
    let body = serde_json::json!({ "response": client_json, "client": client_json });
    Ok(reply(browser, body, client.as_ref()))
}

/// In production (and for a development browser without a dev browser), the client lives in the HttpOnly
/// `__client` cookie on the Frontend API host, and `__client_uat` tells the app's backend when the client last
/// signed in (0: signed out).
pub fn set_client_cookies(out: &mut Response, browser: &Browser, client: Option<&BrowserClient>) {
    if browser.fapi.query.dev_browser.is_some() || browser.fapi.query.is_native {
        return;
    }
    let secure = cookie_secure(&browser.fapi.base_url);
    let attrs = format!("Path=/; SameSite=Lax{}", if secure { "; Secure" } else { "" });
    let year = 365 * 24 * 3600;
    let mut cookies = Vec::new();
    match (client, browser.token.as_deref()) {
        (Some(_), Some(token)) => cookies.push(format!("{CLIENT_COOKIE}={token}; {attrs}; HttpOnly; Max-Age={year}")),
        (None, Some(_)) => cookies.push(format!("{CLIENT_COOKIE}=; {attrs}; HttpOnly; Max-Age=0")),
        _ => {}
    }
    let uat = client.filter(|c| c.signed_in()).map_or(0, |c| c.updated_at.div_euclid(1000));
    let suffix = cookie_suffix(&browser.fapi.instance.publishable_key);
    for name in ["__client_uat".to_owned(), format!("__client_uat_{suffix}")] {
        cookies.push(format!("{name}={uat}; {attrs}; Max-Age={year}"));
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            out.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Cookies are `Secure` over https and on loopback hosts (which browsers treat as secure contexts).
pub fn cookie_secure(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else { return false };
    url.scheme() == "https"
        || matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
}

/// The suffix clerk-js and `@clerk/backend` give cookie names: the first 8 characters of the URL-safe base64 of
/// SHA-1(publishable key).
pub fn cookie_suffix(publishable_key: &str) -> String {
    tessera_core::handshake::cookie_suffix(publishable_key)
}
