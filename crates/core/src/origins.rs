//! Which browser origins may use an instance's Frontend API, and where it may redirect a browser. Development
//! instances accept any origin and any `http(s)` redirect on a loopback or `localhost` host, as Clerk's development
//! instances accept any local app; production instances accept their domains (primary and satellites, with
//! subdomains), the instance's `allowed_origins`, and its redirect URLs.

use crate::instances::{Environment, Instance};
use crate::{Ctx, Error, ErrorCode, Result};

fn host_of(url: &url::Url) -> Option<String> {
    url.host_str().map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

fn is_local(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` is one of the instance's domains or a subdomain of one.
async fn under_instance_domains(ctx: &Ctx, instance: &Instance, host: &str) -> Result<bool> {
    let domains = crate::domains::list_domains(ctx, instance).await?;
    Ok(domains.iter().any(|d| {
        let name = d.name.to_ascii_lowercase();
        host == name || host.ends_with(&format!(".{name}"))
    }))
}

/// Whether a browser at `origin` (`scheme://host[:port]`) may call the instance's Frontend API.
pub async fn origin_allowed(ctx: &Ctx, instance: &Instance, origin: &str) -> Result<bool> {
    let Ok(url) = url::Url::parse(origin) else { return Ok(false) };
    if !matches!(url.scheme(), "http" | "https") {
        // Extensions and native shells must be listed in allowed_origins.
        return listed_origin(ctx, instance, origin).await;
    }
    let Some(host) = host_of(&url) else { return Ok(false) };
    if instance.environment == Environment::Development {
        return Ok(true);
    }
    if url.scheme() == "https" && under_instance_domains(ctx, instance, &host).await? {
        return Ok(true);
    }
    listed_origin(ctx, instance, origin).await
}

async fn listed_origin(ctx: &Ctx, instance: &Instance, origin: &str) -> Result<bool> {
    let config = crate::settings::instance_config(ctx, &instance.id).await?;
    let origin = origin.trim_end_matches('/');
    Ok(config.allowed_origins.unwrap_or_default().iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin)))
}

/// Checks a `redirect_url` a browser will be sent to: 400 `redirect_url_not_allowed` unless it is an absolute
/// `http(s)` URL on a local host (development), on the instance's domains (https), on an allowed origin, or one
/// of the instance's redirect URLs. No open redirects.
pub async fn check_redirect_url(ctx: &Ctx, instance: &Instance, redirect_url: &str) -> Result<url::Url> {
    let refused = || {
        Error::with(
            ErrorCode::RedirectUrlNotAllowed,
            ErrorCode::RedirectUrlNotAllowed.message(),
            ErrorCode::RedirectUrlNotAllowed.long_message(),
            Some("redirect_url"),
        )
    };
    let url = url::Url::parse(redirect_url).map_err(|_| refused())?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || !url.username().is_empty() {
        return Err(refused());
    }
    let host = host_of(&url).ok_or_else(refused)?;
    if instance.environment == Environment::Development
        && (is_local(&host) || under_instance_domains(ctx, instance, &host).await?)
    {
        return Ok(url);
    }
    if url.scheme() == "https" && under_instance_domains(ctx, instance, &host).await? {
        return Ok(url);
    }
    if listed_origin(ctx, instance, url.origin().ascii_serialization().as_str()).await? {
        return Ok(url);
    }
    let (listed, _) = crate::redirect_urls::list(ctx, &instance.id, 500, 0).await?;
    if listed.iter().any(|r| listed_prefix(&r.url, redirect_url)) {
        return Ok(url);
    }
    Err(refused())
}

/// Whether `url` is the listed redirect URL or lies under it (a path, query or fragment boundary follows).
fn listed_prefix(listed: &str, url: &str) -> bool {
    match url.strip_prefix(listed) {
        Some("") => true,
        Some(rest) => listed.ends_with('/') || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_prefixes_stop_at_boundaries() {
        assert!(listed_prefix("https://a.com/cb", "https://a.com/cb"));
        assert!(listed_prefix("https://a.com/cb", "https://a.com/cb?x=1"));
        assert!(listed_prefix("https://a.com/", "https://a.com/anything"));
        assert!(!listed_prefix("https://a.com", "https://a.com.evil.com/"));
        assert!(!listed_prefix("https://a.com/cb", "https://a.com/cbx"));
    }

    #[test]
    fn local_hosts() {
        for h in ["localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_local(h), "{h}");
        }
        for h in ["example.com", "localhost.evil.com", "10.0.0.1"] {
            assert!(!is_local(h), "{h}");
        }
    }
}
