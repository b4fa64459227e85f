//! Proxy checks: `POST /v1/proxy_checks` requests `GET {proxy_url}/v1/proxy-health?domain_id=…` through the
//! outbound client webhooks use (no redirects, short timeouts, private targets only for development instances)
//! and records whether the proxy answered healthy.

use std::sync::OnceLock;
use std::time::Duration;

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::proxy_checks::{self, NewProxyCheck, ProxyTarget};
use tessera_core::{Error, Result};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, SecretKey};
use crate::objects::proxy_check;
use crate::outbound::{Outbound, body_excerpt, describe};

/// How long connecting to the proxy may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the whole probe may take (well inside the request deadline).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the health answer is read.
const BODY_LIMIT: usize = 4096;

/// Body of `POST /proxy_checks`.
#[derive(Debug, Deserialize)]
pub struct VerifyDomainProxyBody {
    domain_id: Option<String>,
    proxy_url: Option<String>,
}

fn clients() -> Result<&'static Outbound> {
    static CLIENTS: OnceLock<Outbound> = OnceLock::new();
    if let Some(c) = CLIENTS.get() {
        return Ok(c);
    }
    let built = Outbound::new("Tessera-ProxyCheck/1", CONNECT_TIMEOUT, PROBE_TIMEOUT).map_err(Error::internal)?;
    Ok(CLIENTS.get_or_init(|| built))
}

/// Runs the probe: healthy means HTTP 200 with `{"status":"healthy"}`. Tessera sends `Clerk-Proxy-Url` as the
/// Frontend API expects from a proxy; `Clerk-Secret-Key` is the proxy's to add, so no secret leaves Tessera.
async fn probe(target: &ProxyTarget) -> Result<bool> {
    let url = proxy_checks::health_url(target)?;
    let client = match clients()?.client_for(&url, target.allow_private) {
        Ok(c) => c,
        Err(why) => {
            tracing::debug!(domain_id = %target.domain_id, %why, "proxy check refused");
            return Ok(false);
        }
    };
    let request = client.get(url).header("clerk-proxy-url", &target.proxy_url).header("accept", "application/json");
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(domain_id = %target.domain_id, error = %describe(&e), "proxy check failed");
            return Ok(false);
        }
    };
    let status = response.status().as_u16();
    let body = body_excerpt(&mut response, BODY_LIMIT).await;
    Ok(proxy_checks::is_healthy(status, &body))
}

/// `POST /v1/proxy_checks`: 200 with `successful` true or false (an unreachable or unhealthy proxy is a result,
/// not an error); 422 for an unknown domain, a bad proxy URL, or neither a given nor a configured proxy URL.
pub async fn verify_domain_proxy(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<VerifyDomainProxyBody>,
) -> ApiResult<Json<Value>> {
    let target =
        proxy_checks::target(&app.ctx, &instance, NewProxyCheck { domain_id: b.domain_id, proxy_url: b.proxy_url })
            .await?;
    let successful = probe(&target).await?;
    let check = proxy_checks::record(&app.ctx, &instance, &target, successful).await?;
    Ok(Json(proxy_check::proxy_check(&check)))
}
