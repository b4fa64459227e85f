//! The negative corpus: unknown and hostile identifiers, wrong passwords and codes, too many attempts, expiry,
//! reuse, locked and banned users, other clients' sign-ins, signed-in clients, unknown strategies, missing
//! parameters, abandonment. None may 500 or leave anything half-written.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{PASSWORD, SIGN_INS, T0, assert_signed_in, id_of, last_code, path, user, user_with_password, wrong};

#[tokio::test]
async fn unknown_and_hostile_identifiers_are_not_found() {
    let app = TestApp::new().await;
    user_with_password(&app, "jane@example.com").await;
    let b = app.browser().await;
    let long = "a".repeat(100_000);
    for ident in
        ["nobody@example.com", "nobody", "+15555550199", "\u{1}\u{7f}", "'; DROP TABLE users; --", &long, "🦀@🦀", " "]
    {
        let r = b.post(SIGN_INS, &[("identifier", ident), ("strategy", "password"), ("password", "x")]).send().await;
        if ident.trim().is_empty() {
            // Blank: no identifier at all.
            r.assert_error(422, "form_param_missing", Some("identifier"));
        } else {
            r.assert_error(422, "form_identifier_not_found", Some("identifier"));
        }
    }
    // NUL never reaches a lookup.
    let r = b.post(SIGN_INS, &[("identifier", "jane@example.com\0")]).send().await;
    assert_eq!(r.status, 422, "{}", r.json);
    // Nothing was written: the client has no sign-in.
    let c = b.get("/v1/client").send().await.assert_status(200);
    assert!(c.json["response"]["sign_in"].is_null(), "{}", c.json);
}

#[tokio::test]
async fn wrong_passwords_count_toward_the_lockout() {
    let app = TestApp::with_clock(T0).await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let b = app.browser().await;
    let id = id_of(&b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200));
    for _ in 0..5 {
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", "wrong")])
            .send()
            .await
            .assert_error(422, "form_password_incorrect", Some("password"));
    }
    for _ in 0..5 {
        let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", "wrong")];
        b.post(SIGN_INS, &form).send().await.assert_error(422, "form_password_incorrect", Some("password"));
    }
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["locked"], true, "{u}");
    // Locked: even the right password is refused, on the attempt and on a new sign-in.
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(403, "user_locked", None);
    b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_error(403, "user_locked", None);
    // The failed create calls left no sign-in behind; the first one is still in progress, unchanged.
    let c = b.get("/v1/client").send().await.json;
    assert_eq!(c["response"]["sign_in"]["id"], id.as_str());
    assert!(c["response"]["sessions"].as_array().unwrap().is_empty());
    // The lock ends after an hour.
    app.clock.advance_ms(3600 * 1000);
    let r = b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)]).send();
    assert_signed_in(&app, &r.await.assert_status(200), &uid).await;
}

#[tokio::test]
async fn banned_users_cannot_sign_in() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let b = app.browser().await;
    let id = id_of(&b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200));
    app.post(&format!("/v1/users/{uid}/ban"), json!({})).send().await.assert_status(200);
    b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_error(400, "user_banned", None);
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(400, "user_banned", None);
    let c = b.get("/v1/client").send().await.json;
    assert!(c["response"]["sessions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn codes_fail_after_five_wrong_attempts_and_expire() {
    let app = TestApp::with_clock(T0).await;
    let uid = user(&app, json!({ "email_address": ["jane@example.com"] })).await;
    let b = app.browser().await;
    let id = id_of(&b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200));
    b.post(&path(&id, "prepare_first_factor"), &[("strategy", "email_code")]).send().await.assert_status(200);
    let code = last_code(&app).await;
    let attempt = |c: String| {
        let b = &b;
        let p = path(&id, "attempt_first_factor");
        async move { b.post(&p, &[("strategy", "email_code"), ("code", &c)]).send().await }
    };
    for _ in 0..4 {
        attempt(wrong(&code)).await.assert_error(422, "form_code_incorrect", Some("code"));
    }
    attempt(wrong(&code)).await.assert_error(422, "verification_failed", None);
    attempt(code.clone()).await.assert_error(422, "verification_failed", None);
    let g = b.get(&format!("{SIGN_INS}/{id}")).send().await.json;
    assert_eq!(g["response"]["first_factor_verification"]["status"], "failed");
    assert_eq!(g["response"]["first_factor_verification"]["attempts"], 5);
    // The wrong codes counted toward the user's lockout.
    let u = app.get(&format!("/v1/users/{uid}")).send().await.json;
    assert_eq!(u["verification_attempts_remaining"], 5, "{u}");
    // A new code, left to expire.
    b.post(&path(&id, "prepare_first_factor"), &[("strategy", "email_code")]).send().await.assert_status(200);
    let code = last_code(&app).await;
    app.clock.advance_ms(10 * 60 * 1000);
    attempt(code.clone()).await.assert_error(422, "verification_expired", None);
    attempt(code).await.assert_error(422, "verification_expired", None);
    // Still signed out.
    let c = b.get("/v1/client").send().await.json;
    assert!(c["response"]["sessions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn another_clients_sign_in_is_not_found() {
    let app = TestApp::new().await;
    // Instances first: the frontend-host cache does not see instances made after a Frontend API request.
    let (other, _) = app.create_instance(Environment::Development).await;
    let (prod, _) = app.create_instance(Environment::Production).await;
    user_with_password(&app, "jane@example.com").await;
    let a = app.browser().await;
    let id = id_of(&a.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200));
    let b = app.browser().await;
    b.get(&format!("{SIGN_INS}/{id}")).send().await.assert_error(404, "resource_not_found", None);
    for (op, form) in [
        ("prepare_first_factor", vec![("strategy", "email_code")]),
        ("attempt_first_factor", vec![("strategy", "password"), ("password", PASSWORD)]),
        ("prepare_second_factor", vec![("strategy", "phone_code")]),
        ("attempt_second_factor", vec![("strategy", "totp"), ("code", "123456")]),
    ] {
        b.post(&path(&id, op), &form).send().await.assert_error(404, "resource_not_found", None);
    }
    for bad in ["sia_nope", "%00", &"x".repeat(5000), "%FF%FE"] {
        b.get(&format!("{SIGN_INS}/{bad}")).send().await.assert_error(404, "resource_not_found", None);
    }
    // A browser of another instance, and a production browser without a client, see nothing either.
    let c = app.browser_for(&other).await;
    c.get(&format!("{SIGN_INS}/{id}")).send().await.assert_error(404, "resource_not_found", None);
    // Nor does it know the first instance's users.
    c.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_error(
        422,
        "form_identifier_not_found",
        Some("identifier"),
    );
    let mut p = app.browser_for(&prod).await;
    p.origin = None;
    p.get(&format!("{SIGN_INS}/{id}")).send().await.assert_error(404, "resource_not_found", None);
    // The sign-in is untouched.
    let r = a.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)]).send();
    assert_eq!(r.await.assert_status(200).json["response"]["status"], "complete");
}

#[tokio::test]
async fn a_signed_in_client_cannot_sign_in_again() {
    let app = TestApp::new().await;
    user_with_password(&app, "jane@example.com").await;
    user_with_password(&app, "john@example.com").await;
    let b = app.browser().await;
    let id = id_of(&b.post(SIGN_INS, &[("identifier", "john@example.com")]).send().await.assert_status(200));
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    b.post(SIGN_INS, &form).send().await.assert_status(200);
    b.post(SIGN_INS, &form).send().await.assert_error(400, "session_exists", None);
    b.post(SIGN_INS, &[("identifier", "john@example.com")]).send().await.assert_error(400, "session_exists", None);
    b.post(SIGN_INS, &[("identifier", "nobody@example.com")]).send().await.assert_error(400, "session_exists", None);
    // A ticket is not used up by the refusal.
    let uid = app.get("/v1/users?email_address=john@example.com").send().await.json[0]["id"].clone();
    let t = app.post("/v1/sign_in_tokens", json!({ "user_id": uid })).send().await.assert_status(200).json;
    let ticket = t["token"].as_str().unwrap();
    b.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_error(
        400,
        "session_exists",
        None,
    );
    let other = app.browser().await;
    other.post(SIGN_INS, &[("strategy", "ticket"), ("ticket", ticket)]).send().await.assert_status(200);
    // An older sign-in of the same client cannot open a second session either.
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(400, "session_exists", None);
    let c = b.get("/v1/client").send().await.json;
    assert_eq!(c["response"]["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_strategies_and_missing_parameters_are_form_errors() {
    let app = TestApp::new().await;
    user(&app, json!({ "email_address": ["jane@example.com"] })).await;
    let b = app.browser().await;
    b.post(SIGN_INS, &[("identifier", "jane@example.com"), ("strategy", "bogus")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("strategy"),
    );
    b.post(SIGN_INS, &[("identifier", "jane@example.com"), ("strategy", "password")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("password"),
    );
    b.post(SIGN_INS, &[("strategy", "password"), ("password", "x")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("identifier"),
    );
    // A user without a password.
    b.post(SIGN_INS, &[("identifier", "jane@example.com"), ("strategy", "password"), ("password", "x")])
        .send()
        .await
        .assert_error(422, "strategy_for_user_invalid", Some("strategy"));
    let id = id_of(&b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200));
    for op in ["prepare_first_factor", "attempt_first_factor", "prepare_second_factor", "attempt_second_factor"] {
        b.post(&path(&id, op), &[]).send().await.assert_error(422, "form_param_missing", Some("strategy"));
        b.post(&path(&id, op), &[("strategy", "bogus")]).send().await.assert_error(
            422,
            "form_param_value_invalid",
            Some("strategy"),
        );
    }
    for (op, strategy) in [
        ("prepare_first_factor", "email_link"),
        ("prepare_first_factor", "phone_code"),
        ("prepare_first_factor", "password"),
        ("attempt_first_factor", "oauth_google"),
    ] {
        b.post(&path(&id, op), &[("strategy", strategy)]).send().await.assert_error(
            422,
            "strategy_for_user_invalid",
            Some("strategy"),
        );
    }
    b.post(&path(&id, "prepare_first_factor"), &[("strategy", "email_code"), ("email_address_id", "idn_other")])
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("email_address_id"));
    b.post(&path(&id, "prepare_first_factor"), &[("strategy", "email_code")]).send().await.assert_status(200);
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("code"),
    );
    // Second-factor operations before the first factor.
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", "1")]).send().await.assert_error(
        422,
        "strategy_for_user_invalid",
        Some("strategy"),
    );
    // A sign-in without an identifier waits for one.
    let r = b.post(SIGN_INS, &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "needs_identifier");
    assert!(r.json["response"]["supported_first_factors"].is_null());
}

#[tokio::test]
async fn sign_ins_are_abandoned_after_a_day() {
    let app = TestApp::with_clock(T0).await;
    user_with_password(&app, "jane@example.com").await;
    let b = app.browser().await;
    let r = b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200);
    let id = id_of(&r);
    assert_eq!(r.json["response"]["abandon_at"], T0 + 24 * 3600 * 1000);
    app.clock.advance_ms(24 * 3600 * 1000);
    let g = b.get(&format!("{SIGN_INS}/{id}")).send().await.assert_status(200);
    assert_eq!(g.json["response"]["status"], "abandoned");
    assert!(g.json["client"]["sign_in"].is_null());
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(403, "sign_in_cannot_be_updated", None);
}

#[tokio::test]
async fn a_code_strategy_the_user_cannot_receive_writes_nothing() {
    let app = TestApp::new().await;
    user(&app, json!({ "username": "jane_doe", "password": PASSWORD, "skip_password_checks": true })).await;
    let b = app.browser().await;
    for strategy in ["email_code", "phone_code"] {
        b.post(SIGN_INS, &[("identifier", "jane_doe"), ("strategy", strategy)]).send().await.assert_error(
            422,
            "strategy_for_user_invalid",
            Some("strategy"),
        );
    }
    let c = b.get("/v1/client").send().await.assert_status(200);
    assert!(c.json["response"]["sign_in"].is_null(), "{}", c.json);
}
