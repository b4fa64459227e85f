//! The small operations: health and proxy health, checked redirects, clearing the browser's data, and joining the
//! waitlist.

use serde_json::json;
use tessera_testkit::TestApp;

use crate::events_of;

#[tokio::test]
async fn health_and_proxy_health() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    assert_eq!(b.get("/v1/health").send().await.assert_status(200).json, json!({ "status": "healthy" }));

    let domains = app.get("/v1/domains").send().await.assert_status(200).json;
    let domain_id = domains["data"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/proxy-health?domain_id={domain_id}");
    b.get("/v1/proxy-health").send().await.assert_error(400, "query_param_missing", Some("domain_id"));
    // Straight to the Frontend API, not through a proxy.
    let r = b.get(&path).send().await.assert_status(503);
    assert_eq!(r.json["status"], "unhealthy");
    // Through a proxy, as Clerk's helpers forward.
    let proxied = |path: &str, xff: bool| {
        let mut req = b
            .get(path)
            .header("clerk-proxy-url", "https://app.example.com/__clerk")
            .header("clerk-secret-key", &app.secret_key);
        if xff {
            req = req.header("x-forwarded-for", "203.0.113.7");
        }
        req
    };
    let r = proxied(&path, true).send().await.assert_status(200);
    assert_eq!(r.json, json!({ "status": "healthy", "x_forwarded_for": "203.0.113.7" }));
    let r = proxied(&path, false).send().await.assert_status(503);
    assert!(r.json["message"].as_str().unwrap().contains("X-Forwarded-For"), "{}", r.json);
    let r = proxied("/v1/proxy-health?domain_id=dmn_unknown", true).send().await.assert_status(503);
    assert_eq!(r.json["status"], "unhealthy");

    // Production: a proxy URL other than the one configured for the domain is not this proxy.
    let (prod, sk) = app.create_instance(tessera_core::instances::Environment::Production).await;
    let mut pb = app.browser_for(&prod).await;
    pb.origin = None;
    let domains = app.get("/v1/domains").bearer(&sk).send().await.assert_status(200).json;
    let domain_id = domains["data"][0]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/domains/{domain_id}"), json!({ "proxy_url": "https://app.example.com/__clerk" }))
        .bearer(&sk)
        .send()
        .await
        .assert_status(200);
    let via = |proxy_url: &str| {
        pb.get(&format!("/v1/proxy-health?domain_id={domain_id}"))
            .header("clerk-proxy-url", proxy_url)
            .header("clerk-secret-key", &sk)
            .header("x-forwarded-for", "203.0.113.7")
    };
    via("https://app.example.com/__clerk").send().await.assert_status(200);
    via("https://elsewhere.example.com/__clerk").send().await.assert_status(503);
}

#[tokio::test]
async fn redirects_are_checked_and_site_data_cleared() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    let enc = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();
    let r = b.get(&format!("/v1/redirect?redirect_url={}", enc("http://localhost:3000/after?x=1"))).send().await;
    let r = r.assert_status(307);
    assert_eq!(r.headers.get("location").unwrap(), "http://localhost:3000/after?x=1");
    for bad in ["https://evil.example.com/", "javascript:alert(1)", "//evil.example.com/", "not a url"] {
        b.get(&format!("/v1/redirect?redirect_url={}", enc(bad))).send().await.assert_error(
            400,
            "redirect_url_not_allowed",
            Some("redirect_url"),
        );
    }
    let r = b.get("/v1/redirect").send().await.assert_status(307);
    let default = r.headers.get("location").unwrap().to_str().unwrap().to_owned();
    assert!(default.ends_with("/sign-in") || default.starts_with("http://localhost"), "{default}");

    let r = b.get("/v1/clear-site-data").send().await.assert_status(200);
    assert_eq!(r.headers.get("clear-site-data").unwrap(), "\"*\"");
}

#[tokio::test]
async fn joining_the_waitlist_creates_one_entry_per_address() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    let r = b.post("/v1/waitlist", &[("email_address", "Ada@Example.com")]).send().await.assert_status(200);
    assert_eq!(r.json["object"], "waitlist_entry");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let again = b.post("/v1/waitlist", &[("email_address", "ada@example.com")]).send().await.assert_status(200);
    assert_eq!(again.json["id"], id.as_str(), "already on the waitlist: the existing entry");
    let listed = app.get("/v1/waitlist_entries").send().await.assert_status(200).json;
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert_eq!(events_of(&app, "waitlistEntry.created").await.len(), 1);
    b.post("/v1/waitlist", &[]).send().await.assert_error(422, "form_param_missing", Some("email_address"));
    b.post("/v1/waitlist", &[("email_address", "not-an-address")]).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
}
