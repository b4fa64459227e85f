//! Health of the Frontend API: `GET /v1/health` (the database answers) and `GET /v1/proxy-health`, which a proxy
//! check (the Backend API's `POST /v1/proxy_checks`, or Clerk's dashboard) requests through an app's proxy to learn
//! whether the proxy forwards to this instance's Frontend API as Clerk's proxy helpers do.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::Error;

use crate::extract::Fapi;

/// The answer of the health operations.
#[derive(Debug, Serialize)]
struct Health<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x_forwarded_for: Option<&'a str>,
}

fn unhealthy(message: &str) -> Response {
    let body = Health { status: "unhealthy", message: Some(message), x_forwarded_for: None };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// `GET /v1/health`: 200 `healthy` when the database answers, else 503 `unhealthy`.
pub async fn get_health(State(app): State<AppState>, _fapi: Fapi) -> Response {
    match app.ctx.db.ping().await {
        Ok(()) => Json(Health { status: "healthy", message: None, x_forwarded_for: None }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "frontend health: the database does not answer");
            unhealthy("The database does not answer.")
        }
    }
}

/// The query of `GET /v1/proxy-health`.
#[derive(Debug, Default, Deserialize)]
pub struct ProxyHealthQuery {
    domain_id: Option<String>,
}

/// `GET /v1/proxy-health?domain_id=…`: healthy (with the `X-Forwarded-For` the proxy added) when the request came
/// through a proxy as Clerk's helpers send it — `Clerk-Proxy-Url` naming the domain's proxy URL, the instance's
/// `Clerk-Secret-Key`, `X-Forwarded-For` — for a domain of the instance; 503 `unhealthy` with the reason otherwise.
pub async fn get_proxy_health(
    State(app): State<AppState>,
    fapi: Fapi,
    headers: HeaderMap,
    tessera_api::extract::Params(q): tessera_api::extract::Params<ProxyHealthQuery>,
) -> ApiResult<Response> {
    let domain_id = q.domain_id.filter(|d| !d.is_empty()).ok_or_else(|| Error::query_param_missing("domain_id"))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let (Some(proxy_url), Some(_)) = (header("clerk-proxy-url"), header("clerk-secret-key")) else {
        return Ok(unhealthy("Not proxied: Clerk-Proxy-Url and Clerk-Secret-Key are missing."));
    };
    let domains = tessera_core::domains::list_domains(&app.ctx, &fapi.instance).await?;
    let Some(domain) = domains.iter().find(|d| d.id == domain_id) else {
        return Ok(unhealthy("The domain is not one of this instance's domains."));
    };
    if let Some(configured) = domain.proxy_url.as_deref().filter(|u| !u.is_empty())
        && configured.trim_end_matches('/') != proxy_url.trim_end_matches('/')
    {
        return Ok(unhealthy("Clerk-Proxy-Url is not the proxy URL configured for the domain."));
    }
    let Some(forwarded_for) = header("x-forwarded-for") else {
        return Ok(unhealthy("The proxy did not send X-Forwarded-For."));
    };
    Ok(Json(Health { status: "healthy", message: None, x_forwarded_for: Some(forwarded_for) }).into_response())
}
