//! Proxy checks (`POST /proxy_checks`): whether a proxy URL in front of the Frontend API works for a domain of
//! the instance, before (or after) the domain is switched to it.
//!
//! The check itself is an outbound request, made by the HTTP layer with the webhook client's SSRF guard:
//! [`target`] validates the request and says where to send it, the caller probes `GET {proxy_url}/v1/proxy-health
//! ?domain_id=…` ([`health_url`]), and [`record`] stores the outcome: one record per (domain, proxy URL), whose
//! `successful` and `last_run_at` each run overwrites.

use tessera_store::proxy_checks::{self as store, ProxyCheckRow};

use crate::instances::{Environment, Instance};
use crate::settings::validate;
use crate::{Ctx, Error, Result, ids};

/// A proxy check record.
pub type ProxyCheck = ProxyCheckRow;

/// Longest proxy URL accepted.
const MAX_URL: usize = 2048;

/// Body of `POST /proxy_checks`.
#[derive(Debug, Default, Clone)]
pub struct NewProxyCheck {
    /// The instance's domain.
    pub domain_id: Option<String>,
    /// The proxy to check; the domain's proxy URL when absent.
    pub proxy_url: Option<String>,
}

/// A validated check, ready to be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyTarget {
    /// The domain.
    pub domain_id: String,
    /// The proxy URL, normalized without a trailing slash.
    pub proxy_url: String,
    /// Whether the probe may reach loopback and private addresses (development instances only, as for webhooks).
    pub allow_private: bool,
}

/// Checks a proxy URL: absolute `https` (or `http` in development, where proxies run locally), no credentials,
/// query or fragment; returned without a trailing slash.
fn proxy_url(environment: Environment, raw: &str) -> Result<String> {
    let dev = environment == Environment::Development;
    let invalid = || {
        Error::param_format_invalid(
            "proxy_url",
            if dev {
                "proxy_url must be an absolute http or https URL without a query."
            } else {
                "proxy_url must be an absolute https URL without a query."
            },
        )
    };
    if raw.len() > MAX_URL || raw.chars().any(char::is_control) {
        return Err(invalid());
    }
    let url = validate::web_url("proxy_url", raw)?;
    if url.query().is_some() || (!dev && url.scheme() != "https") {
        return Err(invalid());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Validates `POST /proxy_checks`: the domain must belong to the instance (422 on `domain_id` otherwise, the
/// operation declares no 404) and a proxy URL must be given or configured on the domain.
pub async fn target(ctx: &Ctx, instance: &Instance, input: NewProxyCheck) -> Result<ProxyTarget> {
    let domain_id = input
        .domain_id
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| Error::param_missing("domain_id"))?;
    let given = input.proxy_url.filter(|p| !p.trim().is_empty());
    let given = given.map(|p| proxy_url(instance.environment, &p)).transpose()?;
    let domains = tessera_store::domains::list(&ctx.db, &instance.id).await?;
    let domain = domains
        .into_iter()
        .find(|d| d.id == domain_id)
        .ok_or_else(|| Error::param_value_invalid("domain_id", format!("No domain was found with id {domain_id}.")))?;
    let proxy_url = match (given, domain.proxy_url) {
        (Some(p), _) => p,
        (None, Some(p)) => p,
        (None, None) => {
            return Err(Error::param_missing("proxy_url"));
        }
    };
    Ok(ProxyTarget { domain_id: domain.id, proxy_url, allow_private: instance.environment == Environment::Development })
}

/// The URL the check requests: `{proxy_url}/v1/proxy-health?domain_id=…`.
pub fn health_url(target: &ProxyTarget) -> Result<url::Url> {
    let mut url = url::Url::parse(&format!("{}/v1/proxy-health", target.proxy_url)).map_err(Error::internal)?;
    url.query_pairs_mut().append_pair("domain_id", &target.domain_id);
    Ok(url)
}

/// Whether a proxy-health answer is healthy: HTTP 200 with a JSON object whose `status` is `healthy`.
pub fn is_healthy(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .is_ok_and(|v| v.get("status").and_then(serde_json::Value::as_str) == Some("healthy"))
}

/// Stores the outcome of a run and returns the record.
pub async fn record(ctx: &Ctx, instance: &Instance, target: &ProxyTarget, successful: bool) -> Result<ProxyCheck> {
    let now = ctx.now_ms();
    let row = ProxyCheckRow {
        id: ids::new_id("proxchk"),
        instance_id: instance.id.clone(),
        domain_id: target.domain_id.clone(),
        proxy_url: target.proxy_url.clone(),
        successful,
        last_run_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    // The domain may have been deleted while the probe ran: then there is nothing to record it for.
    if tessera_store::domains::get_tx(&mut tx, &instance.id, &target.domain_id).await?.is_none() {
        return Err(Error::param_value_invalid(
            "domain_id",
            format!("No domain was found with id {}.", target.domain_id),
        ));
    }
    let stored = store::upsert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_follow_the_environment() {
        let dev = Environment::Development;
        let prod = Environment::Production;
        assert_eq!(proxy_url(prod, "https://example.com/__clerk/").unwrap(), "https://example.com/__clerk");
        assert_eq!(proxy_url(dev, "http://127.0.0.1:8080/__clerk").unwrap(), "http://127.0.0.1:8080/__clerk");
        assert!(proxy_url(prod, "http://example.com/__clerk").is_err());
        assert!(proxy_url(prod, "https://example.com/__clerk?x=1").is_err());
        assert!(proxy_url(prod, "https://u:p@example.com/").is_err());
        assert!(proxy_url(prod, "ftp://example.com/").is_err());
        assert!(proxy_url(prod, "not a url").is_err());
    }

    #[test]
    fn only_a_200_with_a_healthy_status_counts() {
        assert!(is_healthy(200, br#"{"status":"healthy","x_forwarded_for":"1.2.3.4"}"#));
        assert!(!is_healthy(200, br#"{"status":"unhealthy","message":"no"}"#));
        assert!(!is_healthy(503, br#"{"status":"healthy"}"#));
        assert!(!is_healthy(200, b"healthy"));
        assert!(!is_healthy(302, b""));
    }

    #[test]
    fn the_health_url_carries_the_domain() {
        let t = ProxyTarget {
            domain_id: "dmn_1 &x".into(),
            proxy_url: "https://example.com/__clerk".into(),
            allow_private: false,
        };
        assert_eq!(
            health_url(&t).unwrap().as_str(),
            "https://example.com/__clerk/v1/proxy-health?domain_id=dmn_1+%26x"
        );
    }
}
