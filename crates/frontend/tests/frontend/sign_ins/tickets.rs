//! Tickets: Backend API sign-in tokens and actor tokens redeemed by `strategy=ticket`.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{SIGN_INS, T0, assert_signed_in, user_with_password};

#[tokio::test]
async fn sign_in_tokens_sign_in_once() {
    let app = TestApp::with_clock(T0).await;
    let (other, _) = app.create_instance(Environment::Development).await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let token = |expires: i64| {
        let app = &app;
        let uid = uid.clone();
        async move {
            let r = app.post("/v1/sign_in_tokens", json!({ "user_id": uid, "expires_in_seconds": expires })).send();
            r.await.assert_status(200).json
        }
    };
    for version in ["2025-11-10", "2026-05-12"] {
        let t = token(3600).await;
        let ticket = t["token"].as_str().unwrap().to_owned();
        let b = app.browser().await.with_version(version);
        let r = b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", &ticket)]).send().await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
        assert_eq!(r.json["client"]["last_authentication_strategy"], "ticket");
        assert_eq!(r.json["response"]["first_factor_verification"]["strategy"], "ticket");
        // Used: refused, on another browser too.
        let b2 = app.browser().await.with_version(version);
        b2.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", &ticket)]).send().await.assert_error(
            400,
            "token_invalid",
            None,
        );
    }
    // Revoked.
    let t = token(3600).await;
    app.post(&format!("/v1/sign_in_tokens/{}/revoke", t["id"].as_str().unwrap()), json!({}))
        .send()
        .await
        .assert_status(200);
    let b = app.browser().await;
    let ticket = t["token"].as_str().unwrap();
    b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(
        400,
        "token_invalid",
        None,
    );
    // Expired.
    let t = token(60).await;
    app.clock.advance_ms(61_000);
    let ticket = t["token"].as_str().unwrap();
    b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(
        400,
        "token_expired",
        None,
    );
    // Garbage, missing, and another instance's ticket.
    for garbage in ["nope", &"x".repeat(5000)] {
        b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", garbage)]).send().await.assert_error(
            400,
            "token_invalid",
            None,
        );
    }
    b.post(SIGN_INS, &[("strategy", "ticket")]).send().await.assert_error(422, "form_param_missing", Some("ticket"));
    let t = token(3600).await;
    let c = app.browser_for(&other).await;
    let ticket = t["token"].as_str().unwrap();
    c.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(
        400,
        "token_invalid",
        None,
    );
    // Not consumed by the refusal: it still works on its own instance.
    let r = b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_status(200);
    assert_signed_in(&app, &r, &uid).await;
}

#[tokio::test]
async fn a_ticket_of_a_banned_or_locked_user_stays_pending() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": uid })).send().await.assert_status(200).json;
    let ticket = t["token"].as_str().unwrap();
    let b = app.browser().await;
    app.post(&format!("/v1/users/{uid}/ban"), json!({})).send().await.assert_status(200);
    b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(400, "user_banned", None);
    app.post(&format!("/v1/users/{uid}/unban"), json!({})).send().await.assert_status(200);
    app.post(&format!("/v1/users/{uid}/lock"), json!({})).send().await.assert_status(200);
    b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(403, "user_locked", None);
    app.post(&format!("/v1/users/{uid}/unlock"), json!({})).send().await.assert_status(200);
    let r = b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_status(200);
    assert_signed_in(&app, &r, &uid).await;
}

#[tokio::test]
async fn actor_tokens_open_an_impersonation_session() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let body = json!({ "user_id": uid, "actor": { "sub": "user_admin" } });
    let t = app.post("/v1/actor_tokens", body).send().await.assert_status(200).json;
    let b = app.browser().await;
    let r = b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", t["token"].as_str().unwrap())]).send();
    let r = r.await.assert_status(200);
    assert_signed_in(&app, &r, &uid).await;
    let session = &r.json["client"]["sessions"][0];
    assert_eq!(session["actor"]["sub"], "user_admin");
    let jwt = session["last_active_token"]["jwt"].as_str().unwrap();
    let claims = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.unwrap().claims;
    assert_eq!(claims["act"]["sub"], "user_admin");
    // Impersonation sessions last 30 minutes by default.
    let expire = session["expire_at"].as_i64().unwrap() - session["created_at"].as_i64().unwrap();
    assert_eq!(expire, 1800 * 1000);
}
