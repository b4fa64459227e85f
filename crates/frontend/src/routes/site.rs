//! What a browser navigates to on the Frontend API besides the handshake: `GET /v1/redirect` (a checked redirect)
//! and `GET /v1/clear-site-data` (the browser forgets the Frontend API's cookies and storage).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::Error;
use tessera_core::instances::Environment;

use crate::extract::Fapi;

/// The query of `GET /v1/redirect`.
#[derive(Debug, Default, Deserialize)]
pub struct RedirectQuery {
    redirect_url: Option<String>,
}

/// Where the application lives when no URL is given: the development origin clerk-js last reported, the primary
/// domain of a production instance, else the hosted sign-in page.
async fn default_url(app: &AppState, fapi: &Fapi) -> Result<String, Error> {
    let domain = tessera_core::domains::primary_domain(&app.ctx, &fapi.instance).await?;
    Ok(match fapi.instance.environment {
        Environment::Development if !domain.development_origin.is_empty() => domain.development_origin,
        Environment::Production if !domain.name.eq_ignore_ascii_case(&fapi.instance.frontend_host()) => {
            format!("https://{}/", domain.name)
        }
        _ => format!("{}/sign-in", fapi.base_url.trim_end_matches('/')),
    })
}

/// `GET /v1/redirect`: 307 to `redirect_url` once it is one of the instance's allowed origins or redirect URLs
/// (no open redirect: anything else is 400 `redirect_url_not_allowed`), or to the application's default URL.
pub async fn redirect_to_url(
    State(app): State<AppState>,
    fapi: Fapi,
    tessera_api::extract::Params(q): tessera_api::extract::Params<RedirectQuery>,
) -> ApiResult<Response> {
    let target = match q.redirect_url.filter(|u| !u.is_empty()) {
        Some(u) => tessera_core::origins::check_redirect_url(&app.ctx, &fapi.instance, &u).await?.to_string(),
        None => default_url(&app, &fapi).await?,
    };
    let location = HeaderValue::from_str(&target).map_err(Error::internal)?;
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /v1/clear-site-data`: `Clear-Site-Data: "*"`, on which the browser drops the cookies, storage and cache of
/// the Frontend API's origin (a production browser's `__client`).
pub async fn clear_site_data(_fapi: Fapi) -> Response {
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert("clear-site-data", HeaderValue::from_static("\"*\""));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
