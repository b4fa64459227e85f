//! `GET /v1/tickets/accept?ticket=…`: the URL of a sign-in token, actor token or agent task. The browser that
//! opens it is signed in on its own client (a development browser gets a dev browser when it has none; a
//! production browser its `__client` cookie) and sent on: to the agent task's `redirect_url`, to a checked
//! `redirect_url` of the link, or to the hosted user profile. In development the dev browser travels in the
//! redirect (`__clerk_db_jwt`), as after a handshake, so that the app's clerk-js and backend pick the session up.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::browser_clients::{self, CLIENT_TOKEN_PREFIX};
use tessera_core::{Error, origins, ticket_links};

use crate::extract::{Browser, Fapi, navigating_client};
use crate::respond;

/// `GET /v1/tickets/accept` → 303 to where the ticket leads, signed in.
pub async fn accept_ticket(State(app): State<AppState>, fapi: Fapi, uri: axum::http::Uri) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let instance = fapi.instance.clone();
    let (mut ticket, mut redirect) = (None, None);
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        match &*k {
            "ticket" if !v.is_empty() => ticket = Some(v.into_owned()),
            "redirect_url" if !v.is_empty() => redirect = Some(v.into_owned()),
            _ => {}
        }
    }
    let ticket = ticket.ok_or_else(|| Error::query_param_missing("ticket"))?;
    let redirect = match redirect {
        Some(r) => Some(origins::check_redirect_url(ctx, &instance, &r).await?),
        None => None,
    };
    // The browser's client, or a new one.
    let (dev, found) = navigating_client(ctx, &fapi).await?;
    let (token, client) = match found {
        Some(found) => found,
        None => browser_clients::create(ctx, &instance.id, CLIENT_TOKEN_PREFIX).await?,
    };
    let accepted = ticket_links::accept(ctx, &instance, &client, &ticket).await?;
    let mut target = match (accepted.redirect_url, redirect) {
        (Some(task_redirect), _) => url::Url::parse(&task_redirect).map_err(Error::internal)?,
        (None, Some(checked)) => checked,
        (None, None) => url::Url::parse(&format!("{}/user", fapi.base_url)).map_err(Error::internal)?,
    };
    if dev {
        target.query_pairs_mut().append_pair("__clerk_db_jwt", &token);
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(target.as_str()).map_err(Error::internal)?);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if !dev {
        let fresh = browser_clients::get(ctx, &instance.id, &client.id).await?;
        let browser = Browser { fapi, client: Some(fresh.clone()), token: Some(token) };
        respond::set_client_cookies(&mut response, &browser, Some(&fresh));
    }
    Ok(response)
}
