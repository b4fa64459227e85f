//! Actor tokens, sign-in tokens and testing tokens: creation (token shown once, digest at rest), revocation, and
//! redemption as clerk-js redeems them (the Frontend API's `ticket` sign-in strategy) into a session — with
//! `actor`, so that its session tokens carry the `act` claim, for an actor token. Session refresh.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestResponse};

use crate::machines::assert_not_in_database;
use crate::sessions::{decode, mint};
use crate::users::{T0, user_with_email};

/// Redeems a ticket on a new browser by the Frontend API's `ticket` sign-in strategy.
async fn accept(app: &TestApp, token: &str) -> TestResponse {
    let b = app.browser().await;
    b.post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", token)]).send().await
}

/// The session (as the Backend API shows it) a successful redemption opened.
async fn session_of(app: &TestApp, r: TestResponse) -> Value {
    let json = r.assert_status(200).json;
    assert_eq!(json["response"]["status"], "complete");
    let sid = json["response"]["created_session_id"].as_str().unwrap();
    app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json
}

#[tokio::test]
async fn actor_token_impersonates_end_to_end() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "victim@example.com").await;
    let t = app
        .post("/v1/actor_tokens", json!({ "user_id": user, "actor": { "sub": "user_support", "reason": "ticket 7" } }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(t["object"], "actor_token");
    assert_eq!(t["status"], "pending");
    assert_eq!(t["user_id"], user.as_str());
    assert_eq!(t["actor"], json!({ "sub": "user_support", "reason": "ticket 7" }));
    let token = t["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40);
    // The ticket link on the instance's Frontend API (GET; tested in the frontend suite).
    let link = format!("https://{}/v1/tickets/accept?ticket={token}", app.instance.frontend_host());
    assert_eq!(t["url"].as_str().unwrap(), link);
    // Only the digest is stored.
    assert_not_in_database(&app, &[&token]).await;

    let s = session_of(&app, accept(&app, &token).await).await;
    assert_eq!(s["object"], "session");
    assert_eq!(s["user_id"], user.as_str());
    assert_eq!(s["status"], "active");
    assert_eq!(s["actor"], json!({ "sub": "user_support", "reason": "ticket 7" }));
    // Impersonation sessions last 30 minutes by default.
    assert_eq!(s["expire_at"], T0 + 1_800_000);
    let sid = s["id"].as_str().unwrap();
    let got = app.get(&format!("/v1/sessions/{sid}")).send().await.assert_status(200).json;
    assert_eq!(got["actor"], s["actor"]);
    let (_, claims) = decode(&mint(&app, sid, json!({})).await);
    assert_eq!(claims["act"], json!({ "sub": "user_support", "reason": "ticket 7" }));
    assert_eq!(claims["sub"], user.as_str());

    // Single use; an accepted token cannot be revoked.
    accept(&app, &token).await.assert_error(400, "token_invalid", None);
    let id = t["id"].as_str().unwrap();
    app.post(&format!("/v1/actor_tokens/{id}/revoke"), json!({})).send().await.assert_error(
        400,
        "actor_token_cannot_be_revoked",
        None,
    );
}

#[tokio::test]
async fn actor_token_revoke_expiry_and_errors() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "u@example.com").await;
    let body = json!({ "user_id": user, "actor": { "sub": "user_admin" }, "expires_in_seconds": 60,
                       "session_max_duration_in_seconds": 600 });
    let t = app.post("/v1/actor_tokens", body.clone()).send().await.assert_status(200).json;
    let id = t["id"].as_str().unwrap();
    app.clock.advance_ms(1000);
    let r = app.post(&format!("/v1/actor_tokens/{id}/revoke"), json!({})).send().await.assert_status(200).json;
    assert_eq!((r["status"].as_str(), r["updated_at"].as_i64()), (Some("revoked"), Some(T0 + 1000)));
    assert!(r.get("token").is_none() && r.get("url").is_none());
    accept(&app, t["token"].as_str().unwrap()).await.assert_error(400, "token_invalid", None);
    app.post(&format!("/v1/actor_tokens/{id}/revoke"), json!({})).send().await.assert_error(
        400,
        "actor_token_cannot_be_revoked",
        None,
    );

    // Expired tokens are refused; the session lifetime is honoured.
    let t = app.post("/v1/actor_tokens", body).send().await.assert_status(200).json;
    let token = t["token"].as_str().unwrap().to_owned();
    app.clock.advance_ms(61_000);
    accept(&app, &token).await.assert_error(400, "token_expired", None);
    let t = app
        .post(
            "/v1/actor_tokens",
            json!({ "user_id": user, "actor": { "sub": "a" }, "session_max_duration_in_seconds": 600 }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let now = T0 + 62_000;
    let s = session_of(&app, accept(&app, t["token"].as_str().unwrap()).await).await;
    assert_eq!(s["expire_at"], now + 600_000);

    let post = |b: Value| app.post("/v1/actor_tokens", b).send();
    post(json!({ "actor": { "sub": "a" } })).await.assert_error(422, "form_param_missing", Some("user_id"));
    post(json!({ "user_id": user })).await.assert_error(422, "form_param_missing", Some("actor"));
    post(json!({ "user_id": user, "actor": {} })).await.assert_error(422, "form_param_missing", Some("actor.sub"));
    post(json!({ "user_id": user, "actor": { "sub": 5 } })).await.assert_error(
        422,
        "form_param_format_invalid",
        Some("actor.sub"),
    );
    post(json!({ "user_id": "user_nope", "actor": { "sub": "a" } })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("user_id"),
    );
    post(json!({ "user_id": user, "actor": { "sub": "a" }, "expires_in_seconds": 0 })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("expires_in_seconds"),
    );
    post(json!({ "user_id": user, "actor": { "sub": "a" }, "extra": 1 })).await.assert_status(422);
    app.post("/v1/actor_tokens/act_nope/revoke", json!({})).send().await.assert_error(404, "resource_not_found", None);
    accept(&app, "nope").await.assert_error(400, "token_invalid", None);
    // The former stand-in outside the spec is gone: tickets are redeemed by the Frontend API only.
    app.post("/v1/tickets/accept", json!({ "ticket": "nope" })).anonymous().send().await.assert_status(404);

    // A banned user cannot be impersonated into a session.
    let t = app.post("/v1/actor_tokens", json!({ "user_id": user, "actor": { "sub": "a" } })).send().await;
    let token = t.assert_status(200).json["token"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/users/{user}/ban"), json!({})).send().await.assert_status(200);
    accept(&app, &token).await.assert_error(400, "user_banned", None);

    // Another instance's key reaches no token.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let t = app.post("/v1/actor_tokens", json!({ "user_id": user, "actor": { "sub": "a" } })).send().await;
    let id = t.assert_status(200).json["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/actor_tokens/{id}/revoke"), json!({})).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn sign_in_tokens() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "s@example.com").await;
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": user })).send().await.assert_status(200).json;
    assert_eq!(t["object"], "sign_in_token");
    assert_eq!(t["status"], "pending");
    let token = t["token"].as_str().unwrap().to_owned();
    assert!(t["url"].as_str().unwrap().ends_with(&format!("/v1/tickets/accept?ticket={token}")));
    assert_not_in_database(&app, &[&token]).await;
    let s = session_of(&app, accept(&app, &token).await).await;
    assert_eq!((s["user_id"].as_str(), s["actor"].is_null()), (Some(user.as_str()), true));
    assert_eq!(s["expire_at"], T0 + 7 * 86_400_000);
    let (_, claims) = decode(&mint(&app, s["id"].as_str().unwrap(), json!({})).await);
    assert!(claims.get("act").is_none());
    accept(&app, &token).await.assert_error(400, "token_invalid", None);
    let id = t["id"].as_str().unwrap();
    app.post(&format!("/v1/sign_in_tokens/{id}/revoke"), json!({})).send().await.assert_error(
        400,
        "sign_in_token_cannot_be_revoked",
        None,
    );

    // Revoke, expiry (expires_in_seconds), errors.
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": user, "expires_in_seconds": 5 })).send().await;
    let t = t.assert_status(200).json;
    let id = t["id"].as_str().unwrap();
    let r = app.post(&format!("/v1/sign_in_tokens/{id}/revoke"), json!({})).send().await.assert_status(200).json;
    assert_eq!(r["status"], "revoked");
    accept(&app, t["token"].as_str().unwrap()).await.assert_error(400, "token_invalid", None);
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": user, "expires_in_seconds": 5 })).send().await;
    let token = t.assert_status(200).json["token"].as_str().unwrap().to_owned();
    app.clock.advance_ms(5000);
    accept(&app, &token).await.assert_error(400, "token_expired", None);

    app.post("/v1/sign_in_tokens", json!({})).send().await.assert_error(422, "form_param_missing", Some("user_id"));
    app.post("/v1/sign_in_tokens", json!({ "user_id": "user_nope" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/v1/sign_in_tokens", json!({ "user_id": user, "expires_in_seconds": 0 })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("expires_in_seconds"),
    );
    app.post("/v1/sign_in_tokens", json!({ "user_id": user, "org_id": "org_nope" })).send().await.assert_error(
        403,
        "organization_not_enabled_in_instance",
        None,
    );
    app.post("/v1/sign_in_tokens/sit_nope/revoke", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn testing_tokens() {
    let app = TestApp::with_clock(T0).await;
    let t = app.post("/v1/testing_tokens", json!({})).send().await.assert_status(200).json;
    assert_eq!(t["object"], "testing_token");
    let exp = T0 / 1000 + 3600;
    assert_eq!(t["expires_at"], exp);
    let token = t["token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{exp}-")), "{token}");
    assert!(tessera_core::tickets::testing_token_valid(app.ctx(), &app.instance.id, token).await.unwrap());
    assert_not_in_database(&app, &[token]).await;
    let t2 = app.post("/v1/testing_tokens", json!({})).send().await.assert_status(200).json;
    assert_ne!(t2["token"], t["token"]);
    app.clock.advance_ms(3_600_000);
    assert!(!tessera_core::tickets::testing_token_valid(app.ctx(), &app.instance.id, token).await.unwrap());
}

#[tokio::test]
async fn client_list_newest_first() {
    let app = TestApp::with_clock(T0).await;
    let (_, s1) = crate::sessions::user_and_session(&app, "c1@example.com").await;
    app.clock.advance_ms(1000);
    let (_, s2) = crate::sessions::user_and_session(&app, "c2@example.com").await;
    let list = app.get("/v1/clients").send().await.assert_status(200).json;
    let sids: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["sessions"][0]["id"].as_str().unwrap()).collect();
    assert_eq!(sids, vec![s2.as_str(), s1.as_str()]);
    let page = app.get("/v1/clients?paginated=true&limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["sessions"][0]["id"], s1.as_str());
    app.get("/v1/clients?limit=0").send().await.assert_status(400);
    let (_, key_b) = app.create_instance(Environment::Development).await;
    assert_eq!(app.get("/v1/clients").bearer(&key_b).send().await.assert_status(200).json, json!([]));
}

#[tokio::test]
async fn refresh_session_with_the_refresh_token() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "r@example.com").await;
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": user })).send().await.assert_status(200).json;
    let s = session_of(&app, accept(&app, t["token"].as_str().unwrap()).await).await;
    let sid = s["id"].as_str().unwrap().to_owned();
    // The refresh token the Frontend API keeps in the `__refresh` cookie.
    let refresh = tessera_core::tickets::issue_refresh_token(app.ctx(), &app.instance.id, &sid).await.unwrap();
    assert_not_in_database(&app, &[&refresh]).await;
    let expired = mint(&app, &sid, json!({})).await;
    app.clock.advance_ms(120_000);
    let path = format!("/v1/sessions/{sid}/refresh");
    let body = |expired: &str, refresh: &str| json!({ "expired_token": expired, "refresh_token": refresh, "request_origin": "https://app.example.com" });
    let out = app.post(&path, body(&expired, &refresh)).send().await.assert_status(200).json;
    assert_eq!(out["object"], "token");
    let (_, claims) = decode(out["jwt"].as_str().unwrap());
    assert_eq!((claims["sid"].as_str(), claims["azp"].as_str()), (Some(sid.as_str()), Some("https://app.example.com")));
    assert_eq!(claims["iat"], (T0 + 120_000) / 1000);
    let mut cookie_body = body(&expired, &refresh);
    cookie_body["format"] = json!("cookie");
    let out = app.post(&path, cookie_body).send().await.assert_status(200).json;
    assert_eq!(out["object"], "cookies");
    assert!(out["cookies"][0].as_str().unwrap().starts_with("__session=ey"));

    // Mismatches are 401 (the SDKs fall back to the handshake).
    app.post(&path, body(&expired, "wrong")).send().await.assert_error(401, "session_refresh_invalid", None);
    app.post(&path, body("not.a.jwt", &refresh)).send().await.assert_error(401, "session_refresh_invalid", None);
    let (_, other_sid) = crate::sessions::user_and_session(&app, "o@example.com").await;
    let other = mint(&app, &other_sid, json!({})).await;
    app.post(&path, body(&other, &refresh)).send().await.assert_error(401, "session_refresh_invalid", None);
    // A session without a refresh token (created through the Backend API) cannot be refreshed.
    app.post(&format!("/v1/sessions/{other_sid}/refresh"), body(&other, &refresh)).send().await.assert_error(
        401,
        "session_refresh_invalid",
        None,
    );
    app.post("/v1/sessions/sess_nope/refresh", body(&expired, &refresh)).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&path, json!({ "expired_token": expired })).send().await.assert_status(400);
    app.post(&path, json!({ "expired_token": expired, "refresh_token": refresh, "request_origin": "x", "y": 1 }))
        .send()
        .await
        .assert_status(400);
    let mut bad_format = body(&expired, &refresh);
    bad_format["format"] = json!("xml");
    app.post(&path, bad_format).send().await.assert_status(400);
    app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).send().await.assert_status(200);
    app.post(&path, body(&expired, &refresh)).send().await.assert_error(401, "session_refresh_invalid", None);
}

#[tokio::test]
async fn locked_user_cannot_redeem_a_ticket() {
    let app = TestApp::with_clock(T0).await;
    let user = user_with_email(&app, "l@example.com").await;
    let sit = app.post("/v1/sign_in_tokens", json!({ "user_id": user })).send().await.assert_status(200).json;
    let sit = sit["token"].as_str().unwrap().to_owned();
    let act = app.post("/v1/actor_tokens", json!({ "user_id": user, "actor": { "sub": "user_support" } })).send().await;
    let act = act.assert_status(200).json["token"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/users/{user}/lock"), json!({})).send().await.assert_status(200);
    accept(&app, &sit).await.assert_error(403, "user_locked", None);
    accept(&app, &act).await.assert_error(403, "user_locked", None);
    // Nothing was written: no session, and both tokens are still pending.
    let sessions = app.get(&format!("/v1/sessions?user_id={user}")).send().await.assert_status(200).json;
    assert_eq!(sessions, json!([]));
    app.post(&format!("/v1/users/{user}/unlock"), json!({})).send().await.assert_status(200);
    session_of(&app, accept(&app, &act).await).await;

    // A lock that has run out (one hour) no longer stands in the way.
    app.post(&format!("/v1/users/{user}/lock"), json!({})).send().await.assert_status(200);
    app.clock.advance_ms(3_599_000);
    accept(&app, &sit).await.assert_error(403, "user_locked", None);
    app.clock.advance_ms(1000);
    session_of(&app, accept(&app, &sit).await).await;
}
