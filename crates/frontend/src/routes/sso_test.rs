//! The pages of enterprise connection test runs on the frontend host (outside the Frontend API spec): the
//! one-time URL the Backend API hands out, which sends the browser to the IdP in test mode, and the result page
//! the ACS or the OIDC callback sends it back to. The result shows the status and the log messages only (the
//! parsed user and the raw exchange are for the Backend API); every value is HTML-escaped.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_api::AppState;
use tessera_core::enterprise_sso::test_runs;

use crate::extract::Fapi;
use tessera_api::extract::Path;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body><h1>{t}</h1>{body}\
         </body></html>",
        t = esc(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    r
}

/// `GET /enterprise-sso/test/{token}`: opens the run once and sends the browser to the IdP (303).
pub async fn open_test_run(State(app): State<AppState>, fapi: Fapi, Path(token): Path<String>) -> Response {
    match test_runs::open(&app.ctx, &fapi.instance, &token).await {
        Ok(url) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                let mut r = StatusCode::SEE_OTHER.into_response();
                r.headers_mut().insert(header::LOCATION, location);
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(_) => page(StatusCode::INTERNAL_SERVER_ERROR, "Test run", "<p>The IdP URL is unusable.</p>"),
        },
        Err(e) if e.status() == 404 => page(
            StatusCode::NOT_FOUND,
            "Test run",
            "<p>This test link is unknown, has expired, or was opened before. Create another test run.</p>",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "test run could not start");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Test run", "<p>The test run could not start.</p>")
        }
    }
}

/// `GET /enterprise-sso/test-runs/{run_id}`: the run's status and log messages.
pub async fn test_run_result(State(app): State<AppState>, fapi: Fapi, Path(id): Path<String>) -> Response {
    let Ok(run) = test_runs::get(&app.ctx, &fapi.instance.id, &id).await else {
        return page(StatusCode::NOT_FOUND, "Test run", "<p>No such test run.</p>");
    };
    let mut body = format!("<p id=\"status\">Status: <strong>{}</strong></p><ul>", esc(&run.row.status));
    for l in &run.logs {
        let level = l.get("level").and_then(|v| v.as_str()).unwrap_or_default();
        let message = l.get("message").and_then(|v| v.as_str()).unwrap_or_default();
        body.push_str(&format!("<li>{}: {}</li>", esc(level), esc(message)));
    }
    body.push_str("</ul><p>No user and no session were created: this was a test.</p>");
    page(StatusCode::OK, "Enterprise connection test run", &body)
}
