//! Sign-in flows that end signed in: identifier then password, password in the create call, usernames and phone
//! numbers, e-mail codes, test-mode identifiers, production browsers, reset password.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::{TestApp, TestBrowser};

use super::{
    PASSWORD, SIGN_INS, assert_signed_in, id_of, last_code, outbox_len, path, user, user_with_password, wrong,
};

#[tokio::test]
async fn identifier_then_password_signs_in_on_both_versions() {
    let app = TestApp::new().await;
    for (i, version) in ["2025-11-10", "2026-05-12"].into_iter().enumerate() {
        let email = format!("jane{i}@example.com");
        let uid = user_with_password(&app, &email).await;
        let b = app.browser().await.with_version(version);
        let r = b.post(SIGN_INS, &[("identifier", &email.to_uppercase()), ("locale", "en-US")]).send().await;
        let r = r.assert_status(200);
        let s = &r.json["response"];
        assert_eq!(s["object"], "sign_in_attempt");
        assert_eq!(s["status"], "needs_first_factor");
        assert!(s["id"].as_str().unwrap().starts_with("sia_"));
        assert_eq!(r.json["client"]["sign_in"]["id"], s["id"]);
        let factors = s["supported_first_factors"].as_array().unwrap();
        assert_eq!(factors[0], json!({ "strategy": "password" }));
        let email_factor = factors.iter().find(|f| f["strategy"] == "email_code").expect("email_code factor");
        assert!(email_factor["email_address_id"].as_str().unwrap().starts_with("idn_"), "{email_factor}");
        assert_eq!(email_factor["safe_identifier"], email.as_str());
        assert_eq!(email_factor["primary"], true);
        assert!(s["supported_second_factors"].is_null());
        assert_eq!(s["user_data"]["has_image"], false);
        let id = id_of(&r);
        // The sign-in reads back, and the client shows it in progress.
        let g = b.get(&format!("{SIGN_INS}/{id}")).send().await.assert_status(200);
        assert_eq!(g.json["response"]["status"], "needs_first_factor");
        let r = b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)]).send();
        let r = r.await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
        assert_eq!(r.json["client"]["last_authentication_strategy"], "password");
        assert_eq!(r.json["response"]["first_factor_verification"]["status"], "verified");
        // The complete sign-in still reads back on its client.
        let g = b.get(&format!("{SIGN_INS}/{id}")).send().await.assert_status(200);
        assert_eq!(g.json["response"]["status"], "complete");
        assert!(g.json["client"]["sign_in"].is_null());
    }
}

#[tokio::test]
async fn password_in_the_create_call_completes_at_once() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jo@example.com").await;
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let form = [("identifier", "jo@example.com"), ("strategy", "password"), ("password", PASSWORD)];
        let r = b.post(SIGN_INS, &form).send().await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
    }
}

#[tokio::test]
async fn usernames_and_phone_numbers_identify_users() {
    let app = TestApp::new().await;
    let uid = user(
        &app,
        json!({ "username": "jane_doe", "phone_number": ["+15555550100"], "password": PASSWORD,
                "skip_password_checks": true }),
    )
    .await;
    for ident in ["Jane_Doe", "+1 (555) 555-0100"] {
        let b = app.browser().await;
        let form = [("identifier", ident), ("strategy", "password"), ("password", PASSWORD)];
        let r = b.post(SIGN_INS, &form).send().await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
    }
    let b = app.browser().await;
    let r = b.post(SIGN_INS, &[("identifier", "+15555550100")]).send().await.assert_status(200);
    let f = r.json["response"]["supported_first_factors"].as_array().unwrap().clone();
    let phone = f.iter().find(|f| f["strategy"] == "phone_code").expect("phone_code factor");
    assert_eq!(phone["safe_identifier"], "+15555550100");
    assert!(phone["phone_number_id"].as_str().is_some());
}

#[tokio::test]
async fn email_code_signs_in_once() {
    let app = TestApp::new().await;
    let uid = user(&app, json!({ "email_address": ["jane@example.com"] })).await;
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let r = b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200);
        let id = id_of(&r);
        let f = &r.json["response"]["supported_first_factors"];
        assert_eq!(f.as_array().unwrap().len(), 1, "no password factor: {f}");
        let email_id = f[0]["email_address_id"].as_str().unwrap().to_owned();
        // An attempt before any code was sent.
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code"), ("code", "123456")])
            .send()
            .await
            .assert_error(422, "form_param_value_invalid", Some("strategy"));
        let r =
            b.post(&path(&id, "prepare_first_factor"), &[("strategy", "email_code"), ("email_address_id", &email_id)]);
        let r = r.send().await.assert_status(200);
        let v = &r.json["response"]["first_factor_verification"];
        assert_eq!(
            (v["status"].clone(), v["strategy"].clone(), v["attempts"].clone()),
            (json!("unverified"), json!("email_code"), json!(0))
        );
        let code = last_code(&app).await;
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &wrong(&code))])
            .send()
            .await
            .assert_error(422, "form_code_incorrect", Some("code"));
        let r = b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &code)]).send();
        let r = r.await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
        assert_eq!(r.json["client"]["last_authentication_strategy"], "email_code");
        // The code is good once.
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &code)])
            .send()
            .await
            .assert_error(403, "sign_in_cannot_be_updated", None);
        b.delete("/v1/client").send().await.assert_status(200);
    }
}

#[tokio::test]
async fn test_mode_identifiers_take_424242_without_a_message() {
    let app = TestApp::new().await;
    let a = user(&app, json!({ "email_address": ["jane+clerk_test@example.com"] })).await;
    let p = user(&app, json!({ "phone_number": ["+12015550100"] })).await;
    let before = outbox_len(&app).await;
    for (uid, ident, strategy) in
        [(&a, "jane+clerk_test@example.com", "email_code"), (&p, "+12015550100", "phone_code")]
    {
        let b = app.browser().await;
        let form = [("identifier", ident), ("strategy", strategy)];
        let r = b.post(SIGN_INS, &form).send().await.assert_status(200);
        assert_eq!(r.json["response"]["first_factor_verification"]["strategy"], strategy);
        let id = id_of(&r);
        let r = b.post(&path(&id, "attempt_first_factor"), &[("strategy", strategy), ("code", "424242")]).send();
        assert_signed_in(&app, &r.await.assert_status(200), uid).await;
    }
    assert_eq!(outbox_len(&app).await, before, "no message for test identifiers");
}

#[tokio::test]
async fn test_mode_off_sends_real_codes_to_test_addresses() {
    let app = TestApp::new().await;
    app.patch("/v1/instance", json!({ "test_mode": false })).send().await.assert_status(204);
    user(&app, json!({ "email_address": ["jane+clerk_test@example.com"] })).await;
    let b = app.browser().await;
    let r = b.post(SIGN_INS, &[("identifier", "jane+clerk_test@example.com"), ("strategy", "email_code")]).send();
    let id = id_of(&r.await.assert_status(200));
    let code = last_code(&app).await;
    if code != "424242" {
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "email_code"), ("code", "424242")])
            .send()
            .await
            .assert_error(422, "form_code_incorrect", Some("code"));
    }
}

#[tokio::test]
async fn a_production_browser_gets_a_client_when_it_signs_in() {
    let app = TestApp::new().await;
    let (prod, sk) = app.create_instance(Environment::Production).await;
    let r = app.request(axum::http::Method::POST, "/v1/users").bearer(&sk);
    let body = json!({ "email_address": ["jane@example.com"], "password": PASSWORD, "skip_password_checks": true });
    let uid = r.json(body).send().await.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let mut b: TestBrowser<'_> = app.browser_for(&prod).await;
    b.origin = None;
    // A refused sign-in leaves no client behind.
    b.post(SIGN_INS, &[("identifier", "nobody@example.com")]).send().await.assert_error(
        422,
        "form_identifier_not_found",
        Some("identifier"),
    );
    assert!(b.cookie("__client").is_none());
    let r = b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200);
    assert!(b.cookie("__client").is_some());
    let id = id_of(&r);
    let r = b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)]).send();
    let r = r.await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    assert_eq!(r.json["client"]["sessions"][0]["user"]["id"], uid.as_str());
    assert_ne!(b.cookie("__client_uat").as_deref(), Some("0"));
}

#[tokio::test]
async fn signed_out_the_client_signs_in_again() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let b = app.browser().await;
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    let first = assert_signed_in(&app, &b.post(SIGN_INS, &form).send().await.assert_status(200), &uid).await;
    b.post(SIGN_INS, &form).send().await.assert_error(400, "session_exists", None);
    b.delete("/v1/client/sessions").send().await.assert_status(200);
    let second = assert_signed_in(&app, &b.post(SIGN_INS, &form).send().await.assert_status(200), &uid).await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_reset_password_code_leads_to_a_new_password() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    // Another browser is signed in as the same user: the reset can sign it out.
    let other = app.browser().await;
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    let old_sid = assert_signed_in(&app, &other.post(SIGN_INS, &form).send().await.assert_status(200), &uid).await;
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let r = b.post(SIGN_INS, &[("identifier", "jane@example.com")]).send().await.assert_status(200);
        let id = id_of(&r);
        let f = r.json["response"]["supported_first_factors"].as_array().unwrap().clone();
        let reset = f.iter().find(|f| f["strategy"] == "reset_password_email_code").expect("reset factor");
        let email_id = reset["email_address_id"].as_str().unwrap();
        // Not before a reset code was verified.
        b.post(&path(&id, "reset_password"), &[("password", "brand new password 1")]).send().await.assert_error(
            422,
            "strategy_for_user_invalid",
            Some("strategy"),
        );
        let form = [("strategy", "reset_password_email_code"), ("email_address_id", email_id)];
        b.post(&path(&id, "prepare_first_factor"), &form).send().await.assert_status(200);
        let code = last_code(&app).await;
        let r =
            b.post(&path(&id, "attempt_first_factor"), &[("strategy", "reset_password_email_code"), ("code", &code)]);
        let r = r.send().await.assert_status(200);
        assert_eq!(r.json["response"]["status"], "needs_new_password");
        assert_eq!(r.json["client"]["sign_in"]["status"], "needs_new_password");
        b.post(&path(&id, "reset_password"), &[]).send().await.assert_error(
            422,
            "form_param_missing",
            Some("password"),
        );
        b.post(&path(&id, "reset_password"), &[("password", "short")]).send().await.assert_error(
            422,
            "form_password_length_too_short",
            Some("password"),
        );
        let new_password = format!("brand new password {version}");
        let form = [("password", new_password.as_str()), ("sign_out_of_other_sessions", "true")];
        let r = b.post(&path(&id, "reset_password"), &form).send().await.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
        // The old password no longer works; the new one does; the other browser was signed out.
        let ok = app.post(&format!("/v1/users/{uid}/verify_password"), json!({ "password": new_password }));
        ok.send().await.assert_status(200);
        let s = app.get(&format!("/v1/sessions/{old_sid}")).send().await.assert_status(200).json;
        assert_eq!(s["status"], "ended", "{s}");
        b.post(&path(&id, "reset_password"), &[("password", "another new password")]).send().await.assert_error(
            403,
            "sign_in_cannot_be_updated",
            None,
        );
    }
    let stranger = app.browser().await;
    stranger.post(&path("sia_nope", "reset_password"), &[("password", "x")]).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn in_multi_session_mode_a_second_sign_in_adds_a_session() {
    let app = TestApp::new().await;
    app.patch("/v1/instance/session_settings", json!({"single_session_mode": false})).send().await.assert_status(200);
    let jane = user_with_password(&app, "jane@example.com").await;
    let john = user_with_password(&app, "john@example.com").await;
    let b = app.browser().await;
    let env = b.get("/v1/environment").send().await.assert_status(200);
    assert_eq!(env.json["auth_config"]["single_session_mode"], false);
    let form = |email| [("identifier", email), ("strategy", "password"), ("password", PASSWORD)];
    let first =
        assert_signed_in(&app, &b.post(SIGN_INS, &form("jane@example.com")).send().await.assert_status(200), &jane)
            .await;
    let r = b.post(SIGN_INS, &form("john@example.com")).send().await.assert_status(200);
    let second = r.json["response"]["created_session_id"].as_str().unwrap().to_owned();
    let client = &r.json["client"];
    assert_eq!(client["last_active_session_id"], second.as_str());
    let mut ids: Vec<&str> = client["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut want = vec![first.as_str(), second.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    let user_of = |c: &serde_json::Value, sid: &str| {
        c["sessions"].as_array().unwrap().iter().find(|s| s["id"] == sid).unwrap()["user"]["id"].clone()
    };
    assert_eq!(user_of(client, &second), john.as_str());

    // `setActive` switches (touch), removing one session leaves the other.
    let r = b.post(&format!("/v1/client/sessions/{first}/touch"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["client"]["last_active_session_id"], first.as_str());
    let r = b.post(&format!("/v1/client/sessions/{second}/remove"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["client"]["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["client"]["last_active_session_id"], first.as_str());
    assert_eq!(user_of(&r.json["client"], &first), jane.as_str());
    // Signing out ends them all.
    let r = b.delete("/v1/client/sessions").send().await.assert_status(200);
    assert_eq!(r.json["response"]["sessions"], json!([]));
}
