//! The dev browser, the browser's client, the frontend host and the proxy path.

use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

#[tokio::test]
async fn a_dev_browser_reaches_its_own_empty_client() {
    let app = TestApp::new().await;
    let browser = app.browser().await;
    let token = browser.dev_browser.clone().expect("dev browser");
    assert!(token.starts_with("dvb_") && token.len() > 40, "{token}");
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let r = b.get("/v1/client").send().await.assert_status(200);
        assert_eq!(r.json["response"]["object"], "client");
        assert_eq!(r.json["response"]["sessions"], serde_json::json!([]));
        assert_eq!(r.json["client"]["id"], r.json["response"]["id"]);
    }
    // Two browsers, two clients.
    let other = app.browser().await;
    let a = browser.get("/v1/client").send().await.json["response"]["id"].clone();
    let b = other.get("/v1/client").send().await.json["response"]["id"].clone();
    assert_ne!(a, b);
}

#[tokio::test]
async fn an_unknown_dev_browser_is_unauthenticated() {
    let app = TestApp::new().await;
    let mut browser = app.browser().await;
    browser.dev_browser = Some("dvb_forged000000000000000000000000000000000000".into());
    browser.get("/v1/client").send().await.assert_error(401, "dev_browser_unauthenticated", None);
}

#[tokio::test]
async fn deleting_the_client_forgets_it() {
    let app = TestApp::new().await;
    let browser = app.browser().await;
    let r = browser.delete("/v1/client").send().await.assert_status(200);
    assert!(r.json["response"].is_null() && r.json["client"].is_null(), "{}", r.json);
    browser.get("/v1/client").send().await.assert_error(401, "dev_browser_unauthenticated", None);
}

#[tokio::test]
async fn a_production_browser_keeps_its_client_in_an_http_only_cookie() {
    let app = TestApp::new().await;
    let (instance, _) = app.create_instance(Environment::Production).await;
    let mut browser = app.browser_for(&instance).await;
    assert!(browser.dev_browser.is_none());
    // Same-origin requests (the app proxies the Frontend API) carry no foreign Origin.
    browser.origin = None;
    let r = browser.get("/v1/client").send().await.assert_status(200);
    assert!(r.json["response"].is_null(), "no client before one is made: {}", r.json);
    let r = browser.request(axum::http::Method::PUT, "/v1/client").send().await.assert_status(200);
    let id = r.json["response"]["id"].as_str().expect("client id").to_owned();
    let set: Vec<_> = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let client_cookie = set.iter().find(|c| c.starts_with("__client=")).expect("__client cookie");
    assert!(client_cookie.contains("HttpOnly") && client_cookie.contains("SameSite=Lax"), "{client_cookie}");
    assert!(set.iter().any(|c| c.starts_with("__client_uat=0")), "{set:?}");
    let r = browser.get("/v1/client").send().await.assert_status(200);
    assert_eq!(r.json["response"]["id"], id.as_str());
}

#[tokio::test]
async fn development_instances_get_a_dev_suffix_host() {
    let app = TestApp::new().await;
    assert!(app.instance.frontend_host().ends_with(".tessera-accounts.dev"), "{}", app.instance.frontend_host());
}
