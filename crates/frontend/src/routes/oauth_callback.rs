//! `/v1/oauth_callback`: where an identity provider sends the browser back after an OAuth/OIDC authorization.
//! Tessera's OIDC enterprise connections are what it answers today (the protocol checks and the sign-in are in
//! `tessera_core::enterprise_sso::oidc`); a `state` that names none of their requests is refused.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::enterprise_sso::binding::Arrival;
use tessera_core::enterprise_sso::oidc::{self, Callback};
use tessera_core::{Error, ErrorCode};

use crate::extract::{CLIENT_COOKIE, Fapi, Form};

/// The callback's parameters (in the query, or the form of a POST).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn see_other(target: &str) -> ApiResult<Response> {
    let location = HeaderValue::from_str(target).map_err(Error::internal)?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /v1/oauth_callback` (getOauthCallback): verifies the IdP's answer, completes the sign-in in the browser's
/// client (its `__client` cookie, which this top-level GET carries) and sends the browser back to clerk-js (303).
pub async fn get_oauth_callback(State(app): State<AppState>, fapi: Fapi, uri: Uri) -> ApiResult<Response> {
    let p: CallbackParams = serde_html_form::from_str(uri.query().unwrap_or_default()).map_err(|_| {
        Error::with(ErrorCode::BadRequest, "invalid request", "The callback's query is malformed.", None)
    })?;
    let q = Callback { code: p.code, state: p.state, error: p.error, error_description: p.error_description };
    let arrival = Arrival { client_token: fapi.cookie(CLIENT_COOKIE), reposted: false };
    let target = oidc::callback(&app.ctx, &fapi.instance, q, arrival).await?;
    see_other(&target)
}

/// `POST /v1/oauth_callback` (postOauthCallback): an IdP that posts its answer (`response_mode=form_post`) is
/// sent on to the GET with the same parameters (303).
pub async fn post_oauth_callback(fapi: Fapi, Form(p): Form<CallbackParams>) -> ApiResult<Response> {
    let mut url = url::Url::parse(&format!("{}/v1/oauth_callback", fapi.base_url.trim_end_matches('/')))
        .map_err(Error::internal)?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in
            [("code", p.code), ("state", p.state), ("error", p.error), ("error_description", p.error_description)]
        {
            if let Some(v) = v {
                q.append_pair(k, &v);
            }
        }
    }
    see_other(url.as_str())
}
