//! Outbound HTTP for requests whose target an API caller chooses (webhook endpoints, proxy checks): redirects
//! are never followed, no environment proxy is used, and a target must be public unless the instance may reach
//! private addresses (development instances, or the operator's opt-out for webhooks).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::webhooks::is_public;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves names to public addresses only: a name that resolves to nothing public fails, so a public-looking
/// host cannot reach the private network (checked at connection time, which also defeats DNS rebinding).
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address (private targets are not allowed)").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A pair of clients with the same settings: one that reaches public addresses only, one that reaches any.
#[derive(Clone)]
pub struct Outbound {
    public_only: reqwest::Client,
    any_target: reqwest::Client,
}

impl Outbound {
    /// Clients that give up after `timeout` (connecting, and the whole request) and send `user_agent`.
    pub fn new(user_agent: &str, connect_timeout: Duration, timeout: Duration) -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(timeout)
                .connect_timeout(connect_timeout)
                .user_agent(user_agent)
        };
        Ok(Self { public_only: builder().dns_resolver(Arc::new(PublicOnly)).build()?, any_target: builder().build()? })
    }

    /// The client for `url`, or why it may not be requested: a literal loopback or private address without
    /// `allow_private` is refused here (a name is checked when it is resolved).
    pub fn client_for(&self, url: &url::Url, allow_private: bool) -> Result<&reqwest::Client, String> {
        if allow_private {
            return Ok(&self.any_target);
        }
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err("private target refused (allowed only for development instances)".into());
        }
        Ok(&self.public_only)
    }
}

/// The error chain of a failed request (without the URL).
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_owned() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Reads at most `limit` bytes of a response body (the rest is left unread).
pub async fn body_excerpt(response: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(limit);
    body
}
