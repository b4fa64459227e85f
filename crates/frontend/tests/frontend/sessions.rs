//! The browser's sessions: the client object, tokens with organizations, touch, end, remove, sign-out, and what
//! the Backend API does to them.

use serde_json::{Value, json};
use tessera_testkit::{TestApp, TestBrowser, jwt_claims};

async fn user(app: &TestApp, email: &str) -> String {
    let r = app
        .post(
            "/v1/users",
            json!({"email_address": [email], "password": "correct horse battery staple", "first_name": "Ada"}),
        )
        .send()
        .await
        .assert_status(200);
    r.json["id"].as_str().expect("user id").to_owned()
}

async fn organization(app: &TestApp, name: &str, creator: &str) -> String {
    app.patch("/v1/instance/organization_settings", json!({"enabled": true})).send().await.assert_status(200);
    let r = app.post("/v1/organizations", json!({"name": name, "created_by": creator})).send().await.assert_status(200);
    r.json["id"].as_str().expect("org id").to_owned()
}

async fn client(b: &TestBrowser<'_>) -> Value {
    b.get("/v1/client").send().await.assert_status(200).json["response"].clone()
}

#[tokio::test]
async fn a_signed_in_client_shows_its_session_user_and_a_fresh_token() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let org = organization(&app, "Acme", &user_id).await;
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let sid = b.sign_in_as(&user_id).await;
        let c = client(&b).await;
        assert_eq!(c["last_active_session_id"], sid.as_str());
        let s = &c["sessions"][0];
        assert_eq!((s["id"].as_str(), s["status"].as_str()), (Some(sid.as_str()), Some("active")));
        assert_eq!(s["user"]["id"], user_id.as_str());
        assert!(s["user"].get("private_metadata").is_none(), "the browser never sees private metadata");
        assert_eq!(s["user"]["organization_memberships"][0]["organization"]["id"], org.as_str());
        assert_eq!(s["public_user_data"]["identifier"], "ada@example.com");
        let jwt = s["last_active_token"]["jwt"].as_str().expect("token");
        let claims = jwt_claims(jwt);
        assert_eq!((claims["sid"].as_str(), claims["sub"].as_str()), (Some(sid.as_str()), Some(user_id.as_str())));
        assert_eq!(claims["iss"], format!("https://{}", app.instance.frontend_host()));
        assert_eq!(claims["azp"], "http://localhost:3000");
        // client.updated_at never exceeds the token's iat.
        assert!(c["updated_at"].as_i64().unwrap() / 1000 <= claims["iat"].as_i64().unwrap());
    }
    // The Backend API sees the same sessions.
    let r = app.get(&format!("/v1/sessions?user_id={user_id}")).send().await.assert_status(200);
    assert_eq!(r.json.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn tokens_carry_the_organization_the_browser_chose() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let acme = organization(&app, "Acme", &user_id).await;
    let stranger = user(&app, "eve@example.com").await;
    let other = organization(&app, "Other", &stranger).await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&user_id).await;
    let path = format!("/v1/client/sessions/{sid}/tokens");

    let r = b.post(&path, &[]).send().await.assert_status(200);
    assert_eq!(r.json["object"], "token");
    assert!(jwt_claims(r.json["jwt"].as_str().unwrap()).get("o").is_none(), "personal account at first");

    let r = b.post(&path, &[("organization_id", &acme)]).send().await.assert_status(200);
    let claims = jwt_claims(r.json["jwt"].as_str().unwrap());
    assert_eq!(claims["o"]["id"], acme.as_str());
    assert_eq!(claims["o"]["rol"], "admin");
    // Absent keeps the organization; empty switches to the personal account.
    let r = b.post(&path, &[]).send().await.assert_status(200);
    assert_eq!(jwt_claims(r.json["jwt"].as_str().unwrap())["o"]["id"], acme.as_str());
    assert_eq!(client(&b).await["sessions"][0]["last_active_organization_id"], acme.as_str());
    let r = b.post(&path, &[("organization_id", "")]).send().await.assert_status(200);
    assert!(jwt_claims(r.json["jwt"].as_str().unwrap()).get("o").is_none());
    // Not a member: refused, nothing changed.
    b.post(&path, &[("organization_id", &other)]).send().await.assert_error(403, "not_a_member_in_organization", None);
    b.post(&path, &[("organization_id", "org_doesnotexist")]).send().await.assert_status(403);
    assert!(client(&b).await["sessions"][0]["last_active_organization_id"].is_null());
}

#[tokio::test]
async fn touch_switches_the_active_organization() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let acme = organization(&app, "Acme", &user_id).await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&user_id).await;
    let path = format!("/v1/client/sessions/{sid}/touch");
    let r =
        b.post(&path, &[("active_organization_id", &acme), ("intent", "select_org")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["last_active_organization_id"], acme.as_str());
    let token = r.json["response"]["last_active_token"]["jwt"].as_str().expect("token");
    assert_eq!(jwt_claims(token)["o"]["id"], acme.as_str());
    assert!(r.json["client"]["updated_at"].as_i64().unwrap() / 1000 <= jwt_claims(token)["iat"].as_i64().unwrap());
    let r = b.post(&path, &[("intent", "focus")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["last_active_organization_id"], acme.as_str());
    b.post(&path, &[("active_organization_id", "org_nope")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("active_organization_id"),
    );
}

#[tokio::test]
async fn ending_removing_and_signing_out() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let b = app.browser().await;
    let first = b.sign_in_as(&user_id).await;
    let r = b.post(&format!("/v1/client/sessions/{first}/end"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "ended");
    assert_eq!(r.json["client"]["sessions"], json!([]));
    b.post(&format!("/v1/client/sessions/{first}/tokens"), &[]).send().await.assert_error(401, "signed_out", None);

    let second = b.sign_in_as(&user_id).await;
    let r = b.post(&format!("/v1/client/sessions/{second}/remove"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "removed");

    let third = b.sign_in_as(&user_id).await;
    let r = b.delete("/v1/client/sessions").send().await.assert_status(200);
    assert_eq!(r.json["response"]["sessions"], json!([]));
    assert!(r.json["response"]["last_active_session_id"].is_null());
    let r = app.get(&format!("/v1/sessions/{third}")).send().await.assert_status(200);
    assert_eq!(r.json["status"], "removed");
}

#[tokio::test]
async fn the_backend_api_ends_browser_sessions_at_once() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&user_id).await;
    app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).send().await.assert_status(200);
    b.post(&format!("/v1/client/sessions/{sid}/tokens"), &[]).send().await.assert_error(401, "signed_out", None);
    assert_eq!(client(&b).await["sessions"], json!([]));

    let sid = b.sign_in_as(&user_id).await;
    app.post(&format!("/v1/users/{user_id}/ban"), json!({})).send().await.assert_status(200);
    b.post(&format!("/v1/client/sessions/{sid}/tokens"), &[]).send().await.assert_error(401, "signed_out", None);

    app.post(&format!("/v1/users/{user_id}/unban"), json!({})).send().await.assert_status(200);
    let sid = b.sign_in_as(&user_id).await;
    app.post(&format!("/v1/users/{user_id}/lock"), json!({})).send().await.assert_status(200);
    b.post(&format!("/v1/client/sessions/{sid}/tokens"), &[]).send().await.assert_error(401, "signed_out", None);
}

#[tokio::test]
async fn another_browsers_session_is_not_found() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let mine = app.browser().await;
    let theirs = app.browser().await;
    let sid = mine.sign_in_as(&user_id).await;
    for path in ["", "/touch", "/end", "/remove", "/tokens"] {
        let p = format!("/v1/client/sessions/{sid}{path}");
        let r = if path.is_empty() { theirs.get(&p).send().await } else { theirs.post(&p, &[]).send().await };
        r.assert_status(404);
    }
    assert_eq!(client(&mine).await["sessions"][0]["status"], "active");
}

#[tokio::test]
async fn session_lifetimes_and_the_token_lifetime_apply_to_browsers() {
    let app = TestApp::with_clock(crate::T0).await;
    app.patch(
        "/v1/instance/session_settings",
        json!({"max_lifetime_seconds": 3600, "inactivity_timeout_seconds": 600, "token_lifetime_seconds": 30}),
    )
    .send()
    .await
    .assert_status(200);
    let user_id = user(&app, "ada@example.com").await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&user_id).await;
    let tokens = format!("/v1/client/sessions/{sid}/tokens");
    let r = b.post(&tokens, &[]).send().await.assert_status(200);
    let claims = jwt_claims(r.json["jwt"].as_str().unwrap());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 30);

    // Touching and minting are activity: they keep the session from being abandoned.
    app.clock.advance_ms(500_000);
    b.post(&format!("/v1/client/sessions/{sid}/touch"), &[]).send().await.assert_status(200);
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["last_active_at"], crate::T0 + 500_000);
    assert_eq!(s["abandon_at"], crate::T0 + 1_100_000);
    app.clock.advance_ms(500_000);
    b.post(&tokens, &[]).send().await.assert_status(200);
    app.clock.advance_ms(500_000);
    // (Reading the client would be activity too: it carries a fresh token.)
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "active");

    // Past the inactivity timeout: abandoned, gone from the client, no tokens.
    app.clock.advance_ms(100_000);
    let c = client(&b).await;
    assert_eq!((&c["sessions"], &c["last_active_session_id"]), (&json!([]), &Value::Null));
    b.post(&tokens, &[]).send().await.assert_error(401, "signed_out", None);
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "abandoned");

    // Past the maximum lifetime, however active: expired.
    let sid = b.sign_in_as(&user_id).await;
    let tokens = format!("/v1/client/sessions/{sid}/tokens");
    for _ in 0..6 {
        app.clock.advance_ms(590_000);
        b.post(&tokens, &[]).send().await.assert_status(200);
    }
    app.clock.advance_ms(60_000);
    b.post(&tokens, &[]).send().await.assert_error(401, "signed_out", None);
    b.post(&format!("/v1/client/sessions/{sid}/touch"), &[]).send().await.assert_error(401, "signed_out", None);
    assert_eq!(client(&b).await["sessions"], json!([]));
    let s = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(s["status"], "expired");
}
