//! Session reverification (`/v1/client/sessions/{id}/verify…`): the levels, each factor, the refusals, and the
//! factor verification age the session and its tokens (`fva`) show afterwards.

use serde_json::{Value, json};
use tessera_core::users::create::decode_base32;
use tessera_core::users::credentials::totp_code;
use tessera_testkit::{TestApp, TestBrowser, TestResponse, jwt_claims};

use crate::T0;
use crate::sign_ins::{PASSWORD, SECRET, last_code, user, wrong};

const MINUTE: i64 = 60_000;

fn verify(sid: &str, step: &str) -> String {
    if step.is_empty() {
        format!("/v1/client/sessions/{sid}/verify")
    } else {
        format!("/v1/client/sessions/{sid}/verify/{step}")
    }
}

/// The `fva` claim of a fresh session token.
async fn fva(b: &TestBrowser<'_>, sid: &str) -> Value {
    let r = b.post(&format!("/v1/client/sessions/{sid}/tokens"), &[]).send().await.assert_status(200);
    jwt_claims(r.json["jwt"].as_str().expect("jwt"))["fva"].clone()
}

/// The session of a reverification answer: its factor verification age, which its token's `fva` repeats.
fn session_age(r: &TestResponse) -> Value {
    let session = &r.json["response"]["session"];
    let jwt = session["last_active_token"]["jwt"].as_str().expect("the session's token");
    assert_eq!(jwt_claims(jwt)["fva"], session["factor_verification_age"], "{session}");
    session["factor_verification_age"].clone()
}

fn strategies(factors: &Value) -> Vec<String> {
    factors.as_array().expect("factors").iter().map(|f| f["strategy"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_password_reverification_starts_the_first_factor_age_over() {
    let app = TestApp::with_clock(T0).await;
    let uid =
        user(&app, json!({ "email_address": ["ada@example.com"], "password": PASSWORD, "skip_password_checks": true }))
            .await;
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let sid = b.sign_in_as(&uid).await;
        assert_eq!(fva(&b, &sid).await, json!([0, -1]));
        app.clock.advance_ms(30 * MINUTE);
        assert_eq!(fva(&b, &sid).await, json!([30, -1]));

        // No reverification yet.
        b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
            .send()
            .await
            .assert_error(422, "verification_missing", None);
        b.post(&verify(&sid, ""), &[]).send().await.assert_error(422, "form_param_missing", Some("level"));
        b.post(&verify(&sid, ""), &[("level", "L1.firstFactor")]).send().await.assert_error(
            422,
            "form_param_value_invalid",
            Some("level"),
        );

        let r = b.post(&verify(&sid, ""), &[("level", "first_factor")]).send().await.assert_status(200);
        let v = &r.json["response"];
        assert_eq!((v["object"].as_str(), v["level"].as_str()), (Some("session_reverification"), Some("first_factor")));
        assert_eq!(v["status"], "needs_first_factor");
        assert_eq!(strategies(&v["supported_first_factors"]), ["password", "email_code"]);
        assert!(v["supported_second_factors"].is_null(), "{v}");
        assert!(v["first_factor_verification"].is_null(), "{v}");
        assert_eq!(v["session"]["id"], sid.as_str());
        assert_eq!(session_age(&r), json!([30, -1]));

        b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", "wrong password")])
            .send()
            .await
            .assert_error(422, "form_password_incorrect", Some("password"));
        b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password")]).send().await.assert_error(
            422,
            "form_param_missing",
            Some("password"),
        );
        b.post(&verify(&sid, "attempt_second_factor"), &[("strategy", "totp"), ("code", "123456")])
            .send()
            .await
            .assert_error(422, "strategy_for_user_invalid", Some("strategy"));
        let r = b
            .post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
            .send()
            .await
            .assert_status(200);
        assert_eq!(r.json["response"]["status"], "complete");
        assert_eq!(r.json["response"]["first_factor_verification"]["status"], "verified");
        assert_eq!(session_age(&r), json!([0, -1]));
        // The browser's client shows the same session.
        assert_eq!(r.json["client"]["sessions"][0]["factor_verification_age"], json!([0, -1]));
        app.clock.advance_ms(5 * MINUTE);
        assert_eq!(fva(&b, &sid).await, json!([5, -1]));
        // Done is done.
        b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
            .send()
            .await
            .assert_error(400, "verification_already_verified", None);
    }
}

#[tokio::test]
async fn sessions_of_other_browsers_and_unknown_ones_are_not_found() {
    let app = TestApp::new().await;
    let uid =
        user(&app, json!({ "email_address": ["ada@example.com"], "password": PASSWORD, "skip_password_checks": true }))
            .await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&uid).await;
    let other = app.browser().await;
    let level = [("level", "first_factor")];
    other.post(&verify(&sid, ""), &level).send().await.assert_error(404, "resource_not_found", None);
    b.post(&verify("sess_doesnotexist", ""), &level).send().await.assert_error(404, "resource_not_found", None);
    b.post(&verify(&sid, ""), &level).send().await.assert_status(200);
    other
        .post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    // A signed-out session cannot be reverified (and says so the way clerk-js signs out on).
    b.post(&format!("/v1/client/sessions/{sid}/end"), &[]).send().await.assert_status(200);
    b.post(&verify(&sid, ""), &level).send().await.assert_error(401, "signed_out", None);
}

#[tokio::test]
async fn multi_factor_takes_a_code_then_a_second_factor() {
    let app = TestApp::with_clock(T0).await;
    user(
        &app,
        json!({ "email_address": ["jane@example.com"], "password": PASSWORD, "skip_password_checks": true,
                "totp_secret": SECRET, "backup_codes": ["aaaa-bbbb"] }),
    )
    .await;
    // A sign-in through a second factor starts both ages at 0.
    let b = app.browser().await;
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    let r = b.post("/v1/client/sign_ins", &form).send().await.assert_status(200);
    let id = r.json["response"]["id"].as_str().unwrap().to_owned();
    let r = b
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_second_factor"),
            &[("strategy", "backup_code"), ("code", "aaaa-bbbb")],
        )
        .send()
        .await
        .assert_status(200);
    let sid = r.json["response"]["created_session_id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["client"]["sessions"][0]["factor_verification_age"], json!([0, 0]));
    app.clock.advance_ms(20 * MINUTE);
    assert_eq!(fva(&b, &sid).await, json!([20, 20]));

    let r = b.post(&verify(&sid, ""), &[("level", "multi_factor")]).send().await.assert_status(200);
    let v = &r.json["response"];
    assert_eq!((v["level"].as_str(), v["status"].as_str()), (Some("multi_factor"), Some("needs_first_factor")));
    assert_eq!(strategies(&v["supported_second_factors"]), ["totp"]);
    b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "email_code"), ("code", "123456")])
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("strategy"));
    // A password needs no preparation; an unknown strategy is not a strategy.
    b.post(&verify(&sid, "prepare_first_factor"), &[("strategy", "password")]).send().await.assert_error(
        422,
        "strategy_for_user_invalid",
        Some("strategy"),
    );
    b.post(&verify(&sid, "prepare_first_factor"), &[("strategy", "carrier_pigeon")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("strategy"),
    );
    let r = b.post(&verify(&sid, "prepare_first_factor"), &[("strategy", "email_code")]).send().await;
    let r = r.assert_status(200);
    let ffv = &r.json["response"]["first_factor_verification"];
    assert_eq!((ffv["strategy"].as_str(), ffv["status"].as_str()), (Some("email_code"), Some("unverified")));
    let code = last_code(&app).await;
    b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &wrong(&code))])
        .send()
        .await
        .assert_error(422, "form_code_incorrect", Some("code"));
    let r = b
        .post(&verify(&sid, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &code)])
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["response"]["status"], "needs_second_factor");
    assert_eq!(session_age(&r), json!([0, 20]));
    // The code was good once.
    b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "email_code"), ("code", &code)])
        .send()
        .await
        .assert_error(400, "verification_already_verified", None);

    app.clock.advance_ms(2 * MINUTE);
    let totp = totp_code(&decode_base32(SECRET).unwrap(), app.clock.now_ms().div_euclid(30_000));
    b.post(&verify(&sid, "attempt_second_factor"), &[("strategy", "totp"), ("code", &wrong(&totp))])
        .send()
        .await
        .assert_error(422, "form_code_incorrect", Some("code"));
    b.post(&verify(&sid, "attempt_second_factor"), &[("strategy", "backup_code"), ("code", "aaaa-bbbb")])
        .send()
        .await
        .assert_error(422, "strategy_for_user_invalid", Some("strategy"));
    let r = b
        .post(&verify(&sid, "attempt_second_factor"), &[("strategy", "totp"), ("code", &totp)])
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    assert_eq!(r.json["response"]["second_factor_verification"]["status"], "verified");
    assert_eq!(session_age(&r), json!([2, 0]));
    assert_eq!(fva(&b, &sid).await, json!([2, 0]));

    // second_factor alone asks for the second factor only.
    let r = b.post(&verify(&sid, ""), &[("level", "second_factor")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "needs_second_factor");
    b.post(&verify(&sid, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(400, "verification_already_verified", None);
}

#[tokio::test]
async fn without_a_second_factor_the_first_is_asked_for_and_sms_codes_work() {
    let app = TestApp::with_clock(T0).await;
    let uid =
        user(&app, json!({ "email_address": ["ada@example.com"], "password": PASSWORD, "skip_password_checks": true }))
            .await;
    let b = app.browser().await;
    let sid = b.sign_in_as(&uid).await;
    let r = b.post(&verify(&sid, ""), &[("level", "second_factor")]).send().await.assert_status(200);
    let v = &r.json["response"];
    assert_eq!((v["level"].as_str(), v["status"].as_str()), (Some("first_factor"), Some("needs_first_factor")));
    assert!(v["supported_second_factors"].is_null(), "{v}");
    b.post(&verify(&sid, "prepare_second_factor"), &[("strategy", "phone_code")]).send().await.assert_error(
        422,
        "strategy_for_user_invalid",
        Some("strategy"),
    );

    // A second-factor phone: the SMS code is the second factor.
    let body =
        json!({ "user_id": uid, "phone_number": "+12125551234", "verified": true, "reserved_for_second_factor": true });
    app.post("/v1/phone_numbers", body).send().await.assert_status(200);
    app.clock.advance_ms(3 * MINUTE);
    let r = b.post(&verify(&sid, ""), &[("level", "second_factor")]).send().await.assert_status(200);
    assert_eq!(strategies(&r.json["response"]["supported_second_factors"]), ["phone_code"]);
    b.post(&verify(&sid, "attempt_second_factor"), &[("strategy", "phone_code"), ("code", "123456")])
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("strategy"));
    let r = b.post(&verify(&sid, "prepare_second_factor"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["second_factor_verification"]["strategy"], "phone_code");
    let code = last_code(&app).await;
    let r = b
        .post(&verify(&sid, "attempt_second_factor"), &[("strategy", "phone_code"), ("code", &code)])
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    assert_eq!(session_age(&r), json!([3, 0]));
}
