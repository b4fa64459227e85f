//! The portals: small server-rendered HTML pages opened by a one-time link, for people who are not the app's
//! developers — the webhook endpoint portal (`webhooks`) and the admin portal where an organization's IT
//! administrator sets up its enterprise connection and directory (`admin`).
//!
//! Security, the same for both: the link carries a one-time token (stored as a digest, single use, short-lived) that
//! opens a session cookie (`HttpOnly`, `SameSite=Lax`, digest stored, scoped to the portal's path and the link's
//! instance); every form carries the session's CSRF token; pages are `no-store`, unframeable, send no referrer and
//! allow no script.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::lazy_route::MakeHandlers;
use crate::route_table::RouteTable;

pub mod admin;
pub mod webhooks;

/// Adds the portals' routes to `table`.
pub fn routes(table: RouteTable<AppState>, state: &AppState) -> RouteTable<AppState> {
    admin::routes(webhooks::routes(table, state), state)
}

/// A portal route, bound to its state on first use (see [`crate::lazy_route`]); other methods answer the Backend
/// API's 405.
fn lazy(handlers: MakeHandlers<AppState>, state: &AppState) -> crate::lazy_route::LazyRoute<AppState> {
    crate::lazy_route::LazyRoute::new(handlers, crate::routes::fallback::method_not_allowed, state)
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

/// A page: `title` as the heading, `body` already escaped HTML.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;\
         vertical-align:top}}code{{word-break:break-all}}.err{{color:#b00}}form.inline{{display:inline}}\
         fieldset{{margin:.5rem 0}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    secure_headers((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

fn see_other(to: &str) -> Response {
    secure_headers((StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response())
}

/// A redirect to `to` that sets the session cookie `name`, scoped to `path`.
fn open_session(to: &str, name: &str, path: &str, session: &str, max_age_ms: i64) -> Response {
    let mut r = see_other(to);
    let cookie = format!("{name}={session}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}", max_age_ms / 1000);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The value of the request's cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (n, value) = c.trim().split_once('=')?;
        (n == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// A posted form, read only when it carries a CSRF token that `valid` accepts.
// The error is the page the handler answers with at once; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn checked_form<T: DeserializeOwned>(title: &str, body: &Bytes, valid: impl Fn(&str) -> bool) -> Result<T, Response> {
    #[derive(Deserialize)]
    struct Csrf {
        csrf: Option<String>,
    }
    let csrf: Csrf = serde_html_form::from_bytes(body).map_err(|_| bad_form(title))?;
    if !csrf.csrf.is_some_and(|c| valid(&c)) {
        return Err(page(StatusCode::FORBIDDEN, title, "<p class=\"err\">The form expired. Reload the page.</p>"));
    }
    serde_html_form::from_bytes(body).map_err(|_| bad_form(title))
}

fn bad_form(title: &str) -> Response {
    page(StatusCode::BAD_REQUEST, title, "<p class=\"err\">The form could not be read.</p>")
}

fn internal(title: &str, e: &tessera_core::Error) -> Response {
    tracing::error!(error = %e, source = ?e.source_error(), portal = title, "portal page failed");
    page(StatusCode::INTERNAL_SERVER_ERROR, title, "<p class=\"err\">Something went wrong. Try again.</p>")
}

/// The message of a validation error, for the page; `None` for a server error.
fn user_message(e: &tessera_core::Error) -> Option<String> {
    (e.code().status() < 500).then(|| e.items().first().map(|i| i.long_message.clone()).unwrap_or_default())
}

/// A form without fields of its own (buttons).
#[derive(Deserialize)]
struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn reads_a_cookie() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; tessera_webhooks_portal=wps_x; c=d"));
        assert_eq!(cookie(&h, "tessera_webhooks_portal").as_deref(), Some("wps_x"));
        h.insert(header::COOKIE, HeaderValue::from_static("tessera_webhooks_portal="));
        assert_eq!(cookie(&h, "tessera_webhooks_portal"), None);
    }
}
