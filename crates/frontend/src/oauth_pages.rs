//! The provider's server-rendered pages: the consent screen, the error page shown when a request cannot be sent
//! back to its client, and the auto-submitting form of `response_mode=form_post`. No script but form_post's
//! one-line submit; every value escaped by handlebars; never cached, never framed (clickjacking a consent
//! screen is a way to forge consent).

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use handlebars::Handlebars;
use serde::Serialize;

const STYLE: &str = "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
background:#f4f4f5;font-family:system-ui,sans-serif}main{background:#fff;border-radius:12px;padding:32px;\
max-width:420px;box-shadow:0 1px 3px #0002}button{font-size:1rem;padding:8px 16px;margin-right:8px}\
ul{padding-left:20px}img{max-height:48px}";

const CONSENT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {{name}}</title><style>{{style}}</style></head>
<body><main id="tessera-oauth-consent">
{{#if logo}}<img src="{{logo}}" alt="">{{/if}}
<h1>{{name}} wants to access your account</h1>
<p>Signed in as <strong>{{user}}</strong>.</p>
<p>{{name}} will be able to:</p>
<ul>{{#each scopes}}<li>{{this}}</li>{{/each}}</ul>
<p>You will be sent to <strong>{{redirect_host}}</strong>.</p>
<form method="post" action="{{action}}">
<input type="hidden" name="csrf_token" value="{{csrf}}">
<button type="submit" name="consented" value="true" id="tessera-oauth-allow">Allow</button>
<button type="submit" name="consented" value="false" id="tessera-oauth-deny">Deny</button>
</form>
</main></body></html>
"#;

const ERROR: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title><style>{{style}}</style></head>
<body><main><h1>This authorization request cannot be completed</h1>
<p><code>{{error}}</code>: {{description}}</p></main></body></html>
"#;

const FORM_POST: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{action}}">
{{#each fields}}<input type="hidden" name="{{this.0}}" value="{{this.1}}">{{/each}}
<noscript><button type="submit">Continue</button></noscript>
</form></body></html>
"#;

fn templates() -> &'static Handlebars<'static> {
    static HB: OnceLock<Handlebars<'static>> = OnceLock::new();
    HB.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(false);
        for (name, text) in [("consent", CONSENT), ("error", ERROR), ("form_post", FORM_POST)] {
            hb.register_template_string(name, text).unwrap_or_else(|e| panic!("OAuth page template {name}: {e}"));
        }
        hb
    })
}

fn page(status: StatusCode, name: &str, data: &impl Serialize) -> Response {
    let html = templates().render(name, data).unwrap_or_else(|e| {
        tracing::error!(error = %e, "OAuth page rendering failed");
        String::from("<!doctype html><title>Error</title><p>This page could not be rendered.</p>")
    });
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("content-security-policy", HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// What the consent screen shows.
#[derive(Debug, Serialize)]
pub struct Consent<'a> {
    /// The application's name.
    pub name: &'a str,
    /// Its logo.
    pub logo: Option<String>,
    /// The signed-in person (an email address or user id).
    pub user: String,
    /// What each scope allows.
    pub scopes: Vec<&'static str>,
    /// The host the answer goes to.
    pub redirect_host: String,
    /// Where the decision is posted.
    pub action: String,
    /// The anti-forgery token bound to this session and request.
    pub csrf: String,
}

/// The consent screen (200).
pub fn consent(c: &Consent<'_>) -> Response {
    #[derive(Serialize)]
    struct Data<'a> {
        #[serde(flatten)]
        c: &'a Consent<'a>,
        style: &'static str,
    }
    page(StatusCode::OK, "consent", &Data { c, style: STYLE })
}

/// The error page for a request that cannot go back to its client (400).
pub fn error(error: &str, description: &str) -> Response {
    #[derive(Serialize)]
    struct Data<'a> {
        error: &'a str,
        description: &'a str,
        style: &'static str,
    }
    page(StatusCode::BAD_REQUEST, "error", &Data { error, description, style: STYLE })
}

/// `response_mode=form_post`: a page that posts `fields` to `action` (200).
pub fn form_post(action: &str, fields: &[(&str, String)]) -> Response {
    #[derive(Serialize)]
    struct Data<'a> {
        action: &'a str,
        fields: &'a [(&'a str, String)],
    }
    page(StatusCode::OK, "form_post", &Data { action, fields })
}
