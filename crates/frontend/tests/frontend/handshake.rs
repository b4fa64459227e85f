//! The handshake: cookie directives for the app's backend, as a signed token or under a one-time nonce.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestBrowser, jwt_claims};

fn location(r: &tessera_testkit::TestResponse) -> url::Url {
    let l = r.headers.get("location").expect("Location").to_str().expect("ascii");
    url::Url::parse(l).expect("absolute Location")
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn signed_in(app: &TestApp) -> (TestBrowser<'_>, String, String) {
    let r = app
        .post("/v1/users", json!({"email_address": ["ada@example.com"], "password": "correct horse battery staple"}))
        .send()
        .await
        .assert_status(200);
    let user_id = r.json["id"].as_str().unwrap().to_owned();
    let b = app.browser().await;
    let sid = b.sign_in_as(&user_id).await;
    (b, user_id, sid)
}

fn handshake_path(format: &str) -> String {
    let redirect = url::form_urlencoded::byte_serialize(b"http://localhost:3000/protected?x=1").collect::<String>();
    format!("/v1/client/handshake?redirect_url={redirect}&format={format}&suffixed_cookies=true")
}

#[tokio::test]
async fn token_format_carries_the_session_cookie() {
    let app = TestApp::new().await;
    let (b, user_id, sid) = signed_in(&app).await;
    let r = b.get(&handshake_path("token")).send().await.assert_status(307);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let to = location(&r);
    assert_eq!((to.host_str(), to.path()), (Some("localhost"), "/protected"));
    assert_eq!(param(&to, "x").as_deref(), Some("1"));
    assert_eq!(param(&to, "__clerk_db_jwt"), b.dev_browser.clone());
    let token = param(&to, "__clerk_handshake").expect("handshake token");
    let directives: Vec<String> = serde_json::from_value(jwt_claims(&token)["handshake"].clone()).unwrap();
    let session = directives.iter().find(|d| d.starts_with("__session=")).expect("__session directive");
    let jwt = session.trim_start_matches("__session=").split(';').next().unwrap();
    let claims = jwt_claims(jwt);
    assert_eq!((claims["sid"].as_str(), claims["sub"].as_str()), (Some(sid.as_str()), Some(user_id.as_str())));
    assert_eq!(claims["azp"], "http://localhost:3000");
    assert!(directives.iter().any(|d| d.starts_with("__client_uat=") && !d.starts_with("__client_uat=0")));
    assert!(directives.iter().any(|d| d.starts_with("__clerk_db_jwt=dvb_")));
    assert!(directives.iter().any(|d| d.starts_with("__session_")), "suffixed twins: {directives:?}");
}

#[tokio::test]
async fn nonce_format_is_fetched_once_through_the_backend_api() {
    let app = TestApp::new().await;
    let (b, _user_id, sid) = signed_in(&app).await;
    let r = b.get(&handshake_path("nonce")).send().await.assert_status(307);
    let nonce = param(&location(&r), "__clerk_handshake_nonce").expect("nonce");
    let path = format!("/v1/clients/handshake_payload?nonce={nonce}");
    let r = app.get(&path).send().await.assert_status(200);
    let directives = r.json["directives"].as_array().expect("directives");
    assert!(directives.iter().any(|d| d.as_str().is_some_and(|d| d.starts_with("__session=") && d.contains('.'))));
    let _ = sid;
    app.get(&path).send().await.assert_status(404);
    // Another instance's key cannot read it either.
    let r = b.get(&handshake_path("nonce")).send().await.assert_status(307);
    let nonce = param(&location(&r), "__clerk_handshake_nonce").expect("nonce");
    let (_, other_key) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/clients/handshake_payload?nonce={nonce}")).bearer(&other_key).send().await.assert_status(404);
}

#[tokio::test]
async fn a_signed_out_browser_gets_cleared_cookies_and_a_missing_dev_browser_gets_one() {
    let app = TestApp::new().await;
    let mut b = app.browser().await;
    let r = b.get(&handshake_path("token")).send().await.assert_status(307);
    let token = param(&location(&r), "__clerk_handshake").unwrap();
    let directives: Vec<String> = serde_json::from_value(jwt_claims(&token)["handshake"].clone()).unwrap();
    assert!(directives.iter().any(|d| d.starts_with("__client_uat=0")));
    assert!(directives.iter().any(|d| d.starts_with("__session=;") && d.contains("Max-Age=0")));
    b.dev_browser = None;
    let r = b.get(&handshake_path("token")).send().await.assert_status(307);
    let fresh = param(&location(&r), "__clerk_db_jwt").expect("a new dev browser");
    assert!(fresh.starts_with("dvb_"));
}

#[tokio::test]
async fn no_open_redirects() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    b.get("/v1/client/handshake?format=token").send().await.assert_error(400, "query_param_missing", None);
    for bad in ["https://evil.example/", "javascript:alert(1)", "//evil.example", "not a url"] {
        let enc = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>();
        b.get(&format!("/v1/client/handshake?redirect_url={enc}")).send().await.assert_error(
            400,
            "redirect_url_not_allowed",
            Some("redirect_url"),
        );
    }
    let (prod, _) = app.create_instance(Environment::Production).await;
    let mut pb = app.browser_for(&prod).await;
    pb.origin = None;
    let enc = url::form_urlencoded::byte_serialize(b"http://localhost:3000/").collect::<String>();
    pb.get(&format!("/v1/client/handshake?redirect_url={enc}")).send().await.assert_error(
        400,
        "redirect_url_not_allowed",
        Some("redirect_url"),
    );
}

/// The directive named `name` (`name=value; …`) and its value.
fn directive<'d>(directives: &'d [String], name: &str) -> Option<(&'d str, &'d str)> {
    directives.iter().find_map(|d| {
        let value = d.strip_prefix(name)?.strip_prefix('=')?;
        Some((d.as_str(), value.split(';').next().unwrap_or_default()))
    })
}

#[tokio::test]
async fn a_production_app_refreshes_an_expired_session_token_with_the_refresh_cookie() {
    let app = TestApp::with_clock(crate::T0).await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    app.patch("/v1/instance", json!({ "allowed_origins": ["https://app.example.com"] }))
        .bearer(&key)
        .send()
        .await
        .assert_status(204);
    let r = app
        .post("/v1/users", json!({"email_address": ["ada@example.com"], "password": "correct horse battery staple"}))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    let user_id = r.json["id"].as_str().unwrap().to_owned();
    let mut b = app.browser_for(&prod).await;
    b.origin = None;
    b.request(axum::http::Method::PUT, "/v1/client").send().await.assert_status(200);
    let sid = b.sign_in_as(&user_id).await;
    let suffix = tessera_core::handshake::cookie_suffix(&prod.publishable_key);
    let redirect = url::form_urlencoded::byte_serialize(b"https://app.example.com/dashboard").collect::<String>();
    let hs = format!("/v1/client/handshake?redirect_url={redirect}&format=token&suffixed_cookies=true");

    let handshake = |r: tessera_testkit::TestResponse| {
        let token = param(&location(&r), "__clerk_handshake").expect("handshake token");
        serde_json::from_value::<Vec<String>>(jwt_claims(&token)["handshake"].clone()).unwrap()
    };
    let directives = handshake(b.get(&hs).send().await.assert_status(307));
    let (cookie, refresh) = directive(&directives, &format!("__refresh_{suffix}")).expect("the refresh cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Secure"), "{cookie}");
    let refresh = refresh.to_owned();
    let (_, expired) = directive(&directives, "__session").expect("the session cookie");
    let expired = expired.to_owned();
    // No refresh cookie in development (the dev browser's handshake does the work there).
    let (db, _, _) = signed_in(&app).await;
    let dev = handshake(db.get(&handshake_path("token")).send().await.assert_status(307));
    assert!(!dev.iter().any(|d| d.starts_with("__refresh")), "{dev:?}");

    // Long past the token's lifetime, the app's backend refreshes it as @clerk/backend does.
    app.clock.advance_ms(10 * 60_000);
    let body = |refresh: &str| {
        json!({ "expired_token": expired, "refresh_token": refresh, "request_origin": "https://app.example.com",
                "request_headers": { "cookie": ["__refresh"] }, "format": "cookie" })
    };
    let path = format!("/v1/sessions/{sid}/refresh?suffixed_cookies=true");
    let r = app.post(&path, body(&refresh)).bearer(&key).send().await.assert_status(200);
    let cookies: Vec<String> = serde_json::from_value(r.json["cookies"].clone()).unwrap();
    let (_, fresh) = directive(&cookies, &format!("__session_{suffix}")).expect("the suffixed session cookie");
    let claims = jwt_claims(fresh);
    assert_eq!((claims["sid"].as_str(), claims["sub"].as_str()), (Some(sid.as_str()), Some(user_id.as_str())));
    assert_eq!(claims["iat"], (crate::T0 + 10 * 60_000) / 1000);
    assert_eq!(claims["azp"], "https://app.example.com");
    assert!(directive(&cookies, "__session").is_some(), "{cookies:?}");
    // The browser refreshes client-side too (its client cookie, not the token, names it).
    let r = b.post(&format!("/v1/client/sessions/{sid}/tokens"), &[]).send().await.assert_status(200);
    assert_eq!(jwt_claims(r.json["jwt"].as_str().unwrap())["iat"], (crate::T0 + 10 * 60_000) / 1000);

    // The next handshake rotates the refresh token: the old one no longer refreshes.
    let directives = handshake(b.get(&hs).send().await.assert_status(307));
    let (_, rotated) = directive(&directives, &format!("__refresh_{suffix}")).expect("a new refresh cookie");
    assert_ne!(rotated, refresh);
    app.post(&path, body(&refresh)).bearer(&key).send().await.assert_error(401, "session_refresh_invalid", None);
    app.post(&path, body(rotated)).bearer(&key).send().await.assert_status(200);
    // Signed out: the refresh cookie is cleared, and the session no longer refreshes.
    b.delete("/v1/client/sessions").send().await.assert_status(200);
    let directives = handshake(b.get(&hs).send().await.assert_status(307));
    let (cleared, value) = directive(&directives, &format!("__refresh_{suffix}")).expect("a cleared refresh cookie");
    assert!(value.is_empty() && cleared.contains("Max-Age=0"), "{cleared}");
    app.post(&path, body(rotated)).bearer(&key).send().await.assert_error(401, "session_refresh_invalid", None);
}
