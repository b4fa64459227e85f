//! Proxy checks: Tessera requests `GET {proxy_url}/v1/proxy-health?domain_id=…` of a local test proxy (healthy,
//! unhealthy, failing, redirecting), never follows redirects, never sends the secret key, refuses private targets
//! for production instances, and keeps one record per (domain, proxy URL).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::users::T0;

/// A request the test proxy received: the mode (first path segment), the headers, the query.
type Seen = (String, HeaderMap, Option<String>);

/// A local stand-in for a proxy in front of the Frontend API. `/{mode}/v1/proxy-health` answers by mode.
#[derive(Clone, Default)]
struct TestProxy {
    got: Arc<Mutex<Vec<Seen>>>,
}

impl TestProxy {
    /// Starts the proxy; returns it and its base URL (`http://127.0.0.1:port`).
    async fn start() -> (Self, String) {
        let p = Self::default();
        let router = axum::Router::new()
            .route("/{mode}/v1/proxy-health", axum::routing::get(Self::health))
            .with_state(p.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        (p, base)
    }

    async fn health(
        State(p): State<Self>,
        Path(mode): Path<String>,
        headers: HeaderMap,
        RawQuery(query): RawQuery,
    ) -> Response {
        p.got.lock().unwrap().push((mode.clone(), headers, query));
        match mode.as_str() {
            "healthy" => axum::Json(json!({ "status": "healthy", "x_forwarded_for": "127.0.0.1" })).into_response(),
            "unhealthy" => {
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "unhealthy", "message": "no" })))
                    .into_response()
            }
            "unhealthy200" => axum::Json(json!({ "status": "unhealthy", "message": "no" })).into_response(),
            "text" => "healthy".into_response(),
            "redirect" => (StatusCode::FOUND, [(header::LOCATION, "/healthy/v1/proxy-health")]).into_response(),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        }
    }

    fn received(&self) -> Vec<Seen> {
        self.got.lock().unwrap().clone()
    }
}

async fn primary_domain_id(app: &TestApp, key: &str) -> String {
    let list = app.get("/v1/domains").bearer(key).send().await.assert_status(200).json;
    list["data"][0]["id"].as_str().unwrap().to_owned()
}

async fn check(app: &TestApp, body: Value) -> Value {
    app.post("/v1/proxy_checks", body).send().await.assert_status(200).json
}

#[tokio::test]
async fn a_healthy_proxy_passes_and_the_record_is_updated_in_place() {
    let app = TestApp::with_clock(T0).await;
    let (proxy, base) = TestProxy::start().await;
    let domain = primary_domain_id(&app, &app.secret_key).await;
    let proxy_url = format!("{base}/healthy");
    let c = check(&app, json!({ "domain_id": domain, "proxy_url": format!("{proxy_url}/") })).await;
    assert_eq!(c["object"], "proxy_check");
    assert!(c["id"].as_str().unwrap().starts_with("proxchk_"), "{c}");
    assert_eq!(c["domain_id"], domain.as_str());
    assert_eq!(c["proxy_url"], proxy_url.as_str(), "normalized without the trailing slash");
    assert_eq!(c["successful"], true);
    assert_eq!(
        (c["last_run_at"].as_i64(), c["created_at"].as_i64(), c["updated_at"].as_i64()),
        (Some(T0), Some(T0), Some(T0))
    );

    let got = proxy.received();
    assert_eq!(got.len(), 1);
    let (_, headers, query) = &got[0];
    assert_eq!(query.as_deref(), Some(format!("domain_id={domain}").as_str()));
    assert_eq!(headers.get("clerk-proxy-url").and_then(|v| v.to_str().ok()), Some(proxy_url.as_str()));
    // The secret key is the proxy's to add: Tessera sends no credential.
    assert!(headers.get("clerk-secret-key").is_none() && headers.get("authorization").is_none());
    let all = format!("{headers:?}");
    assert!(!all.contains(&app.secret_key), "{all}");

    // Running it again updates the same record.
    app.clock.advance_ms(60_000);
    let again = check(&app, json!({ "domain_id": domain, "proxy_url": proxy_url })).await;
    assert_eq!(again["id"], c["id"]);
    assert_eq!(again["created_at"], T0);
    assert_eq!(again["last_run_at"], T0 + 60_000);
    assert_eq!(again["updated_at"], T0 + 60_000);
    // Another proxy URL of the same domain is another record.
    let other = check(&app, json!({ "domain_id": domain, "proxy_url": format!("{base}/unhealthy200") })).await;
    assert_ne!(other["id"], c["id"]);
    assert_eq!(other["successful"], false);
}

#[tokio::test]
async fn unhealthy_failing_and_redirecting_proxies_fail() {
    let app = TestApp::new().await;
    let (proxy, base) = TestProxy::start().await;
    let domain = primary_domain_id(&app, &app.secret_key).await;
    for mode in ["unhealthy", "unhealthy200", "text", "broken", "redirect"] {
        let c = check(&app, json!({ "domain_id": domain, "proxy_url": format!("{base}/{mode}") })).await;
        assert_eq!(c["successful"], false, "{mode}");
    }
    // The redirect was not followed.
    let modes: Vec<String> = proxy.received().into_iter().map(|(m, _, _)| m).collect();
    assert_eq!(modes, ["unhealthy", "unhealthy200", "text", "broken", "redirect"]);

    // Nothing listens here: a failed check, not an error.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    let c = check(&app, json!({ "domain_id": domain, "proxy_url": dead })).await;
    assert_eq!(c["successful"], false);
}

#[tokio::test]
async fn production_defaults_to_the_domains_proxy_and_refuses_private_targets() {
    let app = TestApp::new().await;
    let (proxy, base) = TestProxy::start().await;
    let (_, key) = app.create_instance(Environment::Production).await;
    let https_base = base.replace("http://", "https://");
    let sat = app
        .post(
            "/v1/domains",
            json!({ "name": "example.com", "is_satellite": true, "proxy_url": format!("{https_base}/healthy") }),
        )
        .bearer(&key)
        .send()
        .await
        .assert_status(200)
        .json;
    let sat_id = sat["id"].as_str().unwrap();
    let c =
        app.post("/v1/proxy_checks", json!({ "domain_id": sat_id })).bearer(&key).send().await.assert_status(200).json;
    assert_eq!(c["proxy_url"], format!("{https_base}/healthy"));
    assert_eq!(c["successful"], false, "loopback is refused for production instances");
    assert!(proxy.received().is_empty(), "no request reached the private address");
    // A production proxy must be https.
    app.post("/v1/proxy_checks", json!({ "domain_id": sat_id, "proxy_url": format!("{base}/healthy") }))
        .bearer(&key)
        .send()
        .await
        .assert_error(422, "form_param_format_invalid", Some("proxy_url"));
    // A domain without a proxy URL needs one in the request.
    let primary = primary_domain_id(&app, &key).await;
    app.post("/v1/proxy_checks", json!({ "domain_id": primary })).bearer(&key).send().await.assert_error(
        422,
        "form_param_missing",
        Some("proxy_url"),
    );
}

#[tokio::test]
async fn invalid_requests_are_refused() {
    let app = TestApp::new().await;
    let domain = primary_domain_id(&app, &app.secret_key).await;
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let domain_b = primary_domain_id(&app, &key_b).await;
    let post = |body: Value| app.post("/v1/proxy_checks", body).send();
    post(json!({})).await.assert_error(422, "form_param_missing", Some("domain_id"));
    post(json!({ "proxy_url": "https://example.com/__clerk" })).await.assert_error(
        422,
        "form_param_missing",
        Some("domain_id"),
    );
    post(json!({ "domain_id": domain })).await.assert_error(422, "form_param_missing", Some("proxy_url"));
    for bad in ["ftp://example.com/x", "not a url", "https://example.com/x?y=1", "https://u:p@example.com/x"] {
        post(json!({ "domain_id": domain, "proxy_url": bad })).await.assert_error(
            422,
            "form_param_format_invalid",
            Some("proxy_url"),
        );
    }
    // Another instance's domain is unknown here (the operation declares no 404).
    for unknown in [domain_b.as_str(), "dmn_unknown"] {
        post(json!({ "domain_id": unknown, "proxy_url": "https://example.com/__clerk" })).await.assert_error(
            422,
            "form_param_value_invalid",
            Some("domain_id"),
        );
    }
    post(json!({ "domain_id": 7 })).await.assert_status(422);
    app.post("/v1/proxy_checks", json!({ "domain_id": domain })).anonymous().send().await.assert_status(401);
}
