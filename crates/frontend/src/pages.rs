//! Hosted pages (Clerk's Account Portal) on the frontend host: sign-in, sign-up and the user profile, rendered by
//! clerk-js's own components (`@clerk/ui`), served by Tessera from `/npm/…`. Apps that redirect to hosted pages
//! land here; OAuth consent and SSO reuse the sign-in page. The pages hold no secret: they are the same clerk-js
//! an app would embed, pointed at this Frontend API.
//!
//! `redirect_url` (where to go after signing in or up) is checked against the instance's origins and redirect
//! URLs, so a page never forwards a browser to a foreign site. Every value written into the page is escaped by
//! handlebars (HTML) or encoded as JSON with `<`, `>` and `&` escaped (script data).

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use handlebars::Handlebars;
use serde_json::json;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::Error;

use crate::extract::Fapi;

/// The clerk-js and UI majors the pages load (any version is served from the configured `dist` directories).
const CLERK_JS_MAJOR: &str = "6";
const CLERK_UI_MAJOR: &str = "1";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
  body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #f4f4f5; font-family: system-ui, sans-serif; }
  noscript { color: #52525b; }
</style>
</head>
<body>
<div id="tessera-page" data-page="{{page}}"></div>
<noscript>This page needs JavaScript: it runs Clerk's sign-in components.</noscript>
<script id="tessera-config" type="application/json">{{{config}}}</script>
<script src="{{ui_url}}" crossorigin="anonymous"></script>
<script src="{{clerk_js_url}}" crossorigin="anonymous" data-clerk-publishable-key="{{publishable_key}}"
        data-clerk-proxy-url="{{base_url}}"></script>
<script>
(async () => {
  const config = JSON.parse(document.getElementById('tessera-config').textContent);
  const clerk = window.Clerk;
  await clerk.load({ ui: { ClerkUI: window.__internal_ClerkUICtor }, telemetry: false,
                     signInUrl: config.signInUrl, signUpUrl: config.signUpUrl });
  const el = document.getElementById('tessera-page');
  const redirect = config.redirectUrl ? { forceRedirectUrl: config.redirectUrl } : {};
  if (config.page === 'sign-in') clerk.mountSignIn(el, { routing: 'hash', signUpUrl: config.signUpUrl, ...redirect });
  else if (config.page === 'sign-up') clerk.mountSignUp(el, { routing: 'hash', signInUrl: config.signInUrl, ...redirect });
  else if (!clerk.user) clerk.redirectToSignIn({ signInForceRedirectUrl: window.location.href });
  else clerk.mountUserProfile(el, { routing: 'hash' });
})();
</script>
</body>
</html>
"#;

fn templates() -> &'static Handlebars<'static> {
    static HB: OnceLock<Handlebars<'static>> = OnceLock::new();
    HB.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_template_string("page", PAGE).unwrap_or_else(|e| panic!("hosted page template: {e}"));
        hb
    })
}

/// JSON for a `<script type="application/json">` block: nothing in it can close the element or open a comment.
fn script_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

async fn render(app: &AppState, fapi: &Fapi, page: &str, title: &str, uri: &axum::http::Uri) -> ApiResult<Response> {
    let redirect = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "redirect_url")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty());
    let redirect_url = match redirect {
        Some(u) => Some(tessera_core::origins::check_redirect_url(&app.ctx, &fapi.instance, &u).await?.to_string()),
        None => None,
    };
    let base = fapi.base_url.as_str();
    let config = json!({
        "page": page,
        "redirectUrl": redirect_url,
        "signInUrl": format!("{base}/sign-in"),
        "signUpUrl": format!("{base}/sign-up"),
    });
    let data = json!({
        "title": title,
        "page": page,
        "config": script_json(&config),
        "ui_url": format!("{base}/npm/@clerk/ui@{CLERK_UI_MAJOR}/dist/ui.browser.js"),
        "clerk_js_url": format!("{base}/npm/@clerk/clerk-js@{CLERK_JS_MAJOR}/dist/clerk.browser.js"),
        "publishable_key": fapi.instance.publishable_key,
        "base_url": base,
    });
    let html = templates().render("page", &data).map_err(Error::internal)?;
    let mut response = Html(html).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// `GET /sign-in`: the hosted sign-in page.
pub async fn sign_in(State(app): State<AppState>, fapi: Fapi, uri: axum::http::Uri) -> ApiResult<Response> {
    render(&app, &fapi, "sign-in", "Sign in", &uri).await
}

/// `GET /sign-up`: the hosted sign-up page.
pub async fn sign_up(State(app): State<AppState>, fapi: Fapi, uri: axum::http::Uri) -> ApiResult<Response> {
    render(&app, &fapi, "sign-up", "Sign up", &uri).await
}

/// `GET /user`: the hosted user profile (signs in first when signed out).
pub async fn user_profile(State(app): State<AppState>, fapi: Fapi, uri: axum::http::Uri) -> ApiResult<Response> {
    render(&app, &fapi, "user", "Your account", &uri).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&json!({"x": "</script><script>alert(1)</script>&\u{2028}"}));
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
    }
}
