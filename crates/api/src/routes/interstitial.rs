//! `GET /v1/public/interstitial` (no secret key): Clerk's interstitial page, which loads clerk-js from the
//! Frontend API (or the proxy, or the satellite's domain), lets it settle an undetermined authentication state
//! with `Clerk.load({isInterstitial: true})`, and reloads.
//!
//! Every query value reaches the page escaped for where it lands: in HTML attributes through Handlebars' HTML
//! escaping, in the inline script as a JSON string literal with `<`, `>`, `&`, U+2028 and U+2029 escaped (so no
//! value can close the script element or break the string). Values are also checked for their kind first:
//! host names are host names, URLs are `http(s)` URLs or site paths.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use handlebars::Handlebars;
use serde::Deserialize;
use serde_json::json;
use tessera_core::{Error, Result};

use crate::error::ApiResult;
use crate::extract::{Params, lenient_bool};

/// The clerk-js major version the page loads.
const CLERK_JS_MAJOR: &str = "6";
/// Longest value accepted for any parameter.
const MAX_VALUE: usize = 2048;

/// The page. `{{…}}` values are HTML-escaped; `{{{js.…}}}` values are JSON literals made safe for a script.
const TEMPLATE: &str = r#"<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="robots" content="noindex">
<style>@media (prefers-color-scheme: dark) { body { background-color: black; } }</style>
</head>
<body>
<script>
window.__clerk_frontend_api = {{{js.frontend_api}}};
window.__clerk_publishable_key = {{{js.publishable_key}}};
window.__clerk_proxy_url = {{{js.proxy_url}}};
window.__clerk_domain = {{{js.domain}}};
window.startClerk = async function () {
  var Clerk = window.Clerk;
  try {
    await Clerk.load({ isSatellite: {{{js.is_satellite}}}, isInterstitial: true, signInUrl: {{{js.sign_in_url}}} });
    if (Clerk.loaded) {
      var href = window.location.href;
      if (href.indexOf('#') === href.length - 1) {
        window.location.href = href.substring(0, href.length - 1);
      } else {
        window.location.reload();
      }
    }
  } catch (err) {
    console.error('Clerk: ', err);
  }
};
</script>
<script src="{{script_url}}" data-clerk-publishable-key="{{publishable_key}}" data-clerk-frontend-api="{{frontend_api}}"{{#if domain}} data-clerk-domain="{{domain}}"{{/if}}{{#if proxy_url}} data-clerk-proxy-url="{{proxy_url}}"{{/if}} crossorigin="anonymous" async onload="window.startClerk()"></script>
</body>
</html>
"#;

/// Query of `GET /public/interstitial`.
#[derive(Debug, Deserialize)]
pub struct InterstitialQuery {
    /// Deprecated spelling of `frontend_api`.
    #[serde(rename = "frontendApi")]
    frontend_api_deprecated: Option<String>,
    frontend_api: Option<String>,
    publishable_key: Option<String>,
    proxy_url: Option<String>,
    domain: Option<String>,
    sign_in_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    use_domain_for_script: Option<bool>,
}

fn handlebars() -> &'static Handlebars<'static> {
    static HB: OnceLock<Handlebars<'static>> = OnceLock::new();
    HB.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        // The template is a constant: a failure here is caught by the tests before anything ships.
        if let Err(e) = hb.register_template_string("interstitial", TEMPLATE) {
            tracing::error!(error = %e, "interstitial template does not compile");
        }
        hb
    })
}

/// A string as a JavaScript string literal that is also inert inside an HTML `<script>` element.
pub fn js_string(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    let mut out = String::with_capacity(quoted.len());
    for c in quoted.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// An optional string as a script literal: `null` when absent.
fn js_opt(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_owned(), js_string)
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn invalid(param: &str, what: &str) -> Error {
    Error::query_param_invalid(param, format!("Invalid query parameter {param}: must be {what}."))
}

/// A host name with an optional port (`clerk.example.com`, `localhost:3000`).
fn host(param: &str, value: &str) -> Result<String> {
    let ok = value.len() <= 260
        && value.split_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_ok_and(|p| p > 0))
        && tessera_core::settings::validate::host_name(value.split(':').next().unwrap_or_default()).is_some();
    if ok { Ok(value.to_ascii_lowercase()) } else { Err(invalid(param, "a host name")) }
}

/// An absolute `http(s)` URL or a path on the site (`/__clerk`), as given.
fn url_or_path(param: &str, value: &str) -> Result<String> {
    let path = value.starts_with('/') && !value.starts_with("//") && !value.contains('\\');
    let absolute = url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if (path || absolute) && value.len() <= MAX_VALUE && !value.chars().any(char::is_control) {
        Ok(value.to_owned())
    } else {
        Err(invalid(param, "an http(s) URL or a path"))
    }
}

/// The Frontend API host encoded in a publishable key (`pk_test_` / `pk_live_` + base64(`host$`)), and whether
/// it is a development key.
fn decode_publishable_key(key: &str) -> Result<(String, bool)> {
    let bad = || invalid("publishable_key", "a publishable key (pk_test_… or pk_live_…)");
    let (dev, encoded) = if let Some(rest) = key.strip_prefix("pk_test_") {
        (true, rest)
    } else if let Some(rest) = key.strip_prefix("pk_live_") {
        (false, rest)
    } else {
        return Err(bad());
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let fapi = text.strip_suffix('$').ok_or_else(bad)?;
    Ok((host("publishable_key", fapi).map_err(|_| bad())?, dev))
}

/// `clerk.` in front of a satellite domain (once), as clerk-js's `addClerkPrefix`.
fn clerk_prefixed(domain: &str) -> String {
    let bare = domain.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
    if bare.starts_with("clerk.") { bare.to_owned() } else { format!("clerk.{bare}") }
}

/// `GET /v1/public/interstitial`: the page as `text/html; charset=utf-8`; 400 `query_param_missing` without
/// `frontend_api` (or `frontendApi`) and `publishable_key`, 400 `query_param_invalid` for a value of the wrong kind.
pub async fn get_public_interstitial(Params(q): Params<InterstitialQuery>) -> ApiResult<Response> {
    let publishable_key = nonempty(q.publishable_key);
    let decoded = publishable_key.as_deref().map(decode_publishable_key).transpose()?;
    let frontend_api = match nonempty(q.frontend_api).or_else(|| nonempty(q.frontend_api_deprecated)) {
        Some(f) => host("frontend_api", f.trim_start_matches("https://").trim_end_matches('/'))?,
        None => match &decoded {
            Some((fapi, _)) => fapi.clone(),
            None => return Err(Error::query_param_missing("frontend_api").into()),
        },
    };
    let development = decoded.as_ref().is_none_or(|(_, dev)| *dev);
    let proxy_url = nonempty(q.proxy_url).map(|p| url_or_path("proxy_url", &p)).transpose()?;
    let domain = nonempty(q.domain)
        .map(|d| {
            let bare = d.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
            host("domain", bare)
        })
        .transpose()?;
    let sign_in_url = nonempty(q.sign_in_url).map(|s| url_or_path("sign_in_url", &s)).transpose()?;
    let script_path = format!("/npm/@clerk/clerk-js@{CLERK_JS_MAJOR}/dist/clerk.browser.js");
    let script_url = match (&proxy_url, &domain) {
        (Some(p), _) => format!("{}{script_path}", p.trim_end_matches('/')),
        (None, Some(d)) if q.use_domain_for_script == Some(true) && !development => {
            format!("https://{}{script_path}", clerk_prefixed(d))
        }
        _ => format!("https://{frontend_api}{script_path}"),
    };
    let data = json!({
        "script_url": script_url,
        "publishable_key": publishable_key.clone().unwrap_or_default(),
        "frontend_api": frontend_api,
        "domain": domain,
        "proxy_url": proxy_url,
        "js": {
            "frontend_api": js_string(&frontend_api),
            "publishable_key": js_opt(publishable_key.as_deref()),
            "proxy_url": js_opt(proxy_url.as_deref()),
            "domain": js_opt(domain.as_deref()),
            "sign_in_url": js_opt(sign_in_url.as_deref()),
            "is_satellite": domain.is_some().to_string(),
        },
    });
    let html = handlebars().render("interstitial", &data).map_err(Error::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_literals_cannot_close_the_script_or_the_string() {
        assert_eq!(js_string("a"), r#""a""#);
        assert_eq!(js_string(r#"</script><b x="1">&"#), r#""\u003c/script\u003e\u003cb x=\"1\"\u003e\u0026""#);
        assert_eq!(js_string("'\u{2028}\u{2029}\\"), "\"'\\u2028\\u2029\\\\\"");
    }

    #[test]
    fn the_template_compiles() {
        let mut hb = Handlebars::new();
        hb.register_template_string("t", TEMPLATE).unwrap();
    }

    #[test]
    fn publishable_keys_decode_to_their_host() {
        let key = tessera_core::instances::publishable_key(
            tessera_core::instances::Environment::Production,
            "clerk.example.com",
        );
        assert_eq!(decode_publishable_key(&key).unwrap(), ("clerk.example.com".to_owned(), false));
        assert!(decode_publishable_key("pk_test_!!!").is_err());
        assert!(decode_publishable_key("sk_test_abc").is_err());
        let hostile = format!("pk_test_{}", base64::engine::general_purpose::STANDARD.encode("\"><script>$"));
        assert!(decode_publishable_key(&hostile).is_err());
        assert_eq!(clerk_prefixed("satellite.dev"), "clerk.satellite.dev");
        assert_eq!(clerk_prefixed("clerk.satellite.dev"), "clerk.satellite.dev");
    }
}
