//! `GET /v1/tickets/accept?ticket=…`: the URL of an invitation, a sign-in token, an actor token or an agent task.
//!
//! An invitation's link leads on, signing nobody in, to the invitation's `redirect_url` (else the hosted sign-up
//! page, or the sign-in page when a user holds the invited address) with `__clerk_ticket` and `__clerk_status`
//! (`sign_up` / `sign_in`), where clerk-js redeems the ticket by the `ticket` strategy (errors, such as an
//! expired invitation, are reported there).
//!
//! The browser that opens any other ticket's link is signed in on its own client (a development browser gets a dev browser when it has none; a
//! production browser its `__client` cookie) and sent on: to the agent task's `redirect_url`, to a checked
//! `redirect_url` of the link, or to the hosted user profile. In development the dev browser travels in the
//! redirect (`__clerk_db_jwt`), as after a handshake, so that the app's clerk-js and backend pick the session up.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::browser_clients::{self, CLIENT_TOKEN_PREFIX};
use tessera_core::{Error, invitation_tickets, origins, ticket_links};

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
    if let Some(invitation_id) = invitation_tickets::parse(ctx, &instance.id, &ticket)? {
        return invitation_link(&app, &fapi, &ticket, &invitation_id).await;
    }
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

/// An invitation's link → 303 to where its ticket is redeemed.
async fn invitation_link(app: &AppState, fapi: &Fapi, ticket: &str, invitation_id: &str) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let (invited, _) = invitation_tickets::find(ctx, &fapi.instance.id, invitation_id).await?;
    let holder = tessera_core::sign_ins::find_user(ctx, &fapi.instance.id, &invited.email_address).await?.is_some();
    let status = if holder { "sign_in" } else { "sign_up" };
    // The invitation's redirect URL was set by the application's backend (secret key); the hosted pages are ours.
    let target = match invited.redirect_url {
        Some(url) => url,
        None => format!("{}/{}", fapi.base_url.trim_end_matches('/'), status.replace('_', "-")),
    };
    let mut target = url::Url::parse(&target).map_err(Error::internal)?;
    target.query_pairs_mut().append_pair("__clerk_ticket", ticket).append_pair("__clerk_status", status);
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(target.as_str()).map_err(Error::internal)?);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
