//! Second factors: TOTP, backup codes, SMS codes.

use serde_json::json;
use tessera_core::users::create::decode_base32;
use tessera_core::users::credentials::totp_code;
use tessera_testkit::TestApp;

use super::{PASSWORD, SECRET, SIGN_INS, assert_signed_in, id_of, last_code, path, user, user_with_password, wrong};

#[tokio::test]
async fn totp_and_backup_codes_are_second_factors() {
    let app = TestApp::new().await;
    let uid = user(
        &app,
        json!({ "email_address": ["jane@example.com"], "password": PASSWORD, "skip_password_checks": true,
                "totp_secret": SECRET, "backup_codes": ["aaaa-bbbb"] }),
    )
    .await;
    let totp = |offset: i64| totp_code(&decode_base32(SECRET).unwrap(), app.clock.now_ms().div_euclid(30_000) + offset);
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    // The code the first sign-in uses, kept to replay it at the end: computed again there, it would be the next
    // step's (a new, valid code) whenever the test runs across a 30-second boundary.
    let used = totp(0);
    for version in ["2025-11-10", "2026-05-12"] {
        let b = app.browser().await.with_version(version);
        let r = b.post(SIGN_INS, &form).send().await.assert_status(200);
        let s = &r.json["response"];
        assert_eq!(s["status"], "needs_second_factor");
        let second: Vec<_> =
            s["supported_second_factors"].as_array().unwrap().iter().map(|f| f["strategy"].clone()).collect();
        assert_eq!(second, [json!("totp"), json!("backup_code")]);
        assert!(r.json["client"]["sessions"].as_array().unwrap().is_empty());
        let id = id_of(&r);
        // The first factor is done.
        b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
            .send()
            .await
            .assert_error(400, "verification_already_verified", None);
        b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", "000000")])
            .send()
            .await
            .assert_error(422, "form_code_incorrect", Some("code"));
        // A backup code is not a TOTP code (and is not consumed by trying it as one).
        b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", "aaaa-bbbb")])
            .send()
            .await
            .assert_error(422, "form_code_incorrect", Some("code"));
        b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp")]).send().await.assert_error(
            422,
            "form_param_missing",
            Some("code"),
        );
        let r = if version == "2025-11-10" {
            b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", &used)]).send().await
        } else {
            b.post(&path(&id, "attempt_second_factor"), &[("strategy", "backup_code"), ("code", "aaaa-bbbb")])
                .send()
                .await
        };
        let r = r.assert_status(200);
        assert_signed_in(&app, &r, &uid).await;
        assert_eq!(r.json["response"]["second_factor_verification"]["status"], "verified");
        assert_eq!(r.json["client"]["last_authentication_strategy"], "password");
    }
    // The backup code was consumed; the TOTP step too.
    let b = app.browser().await;
    let id = id_of(&b.post(SIGN_INS, &form).send().await.assert_status(200));
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "backup_code"), ("code", "aaaa-bbbb")])
        .send()
        .await
        .assert_error(422, "strategy_for_user_invalid", Some("strategy"));
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", &used)]).send().await.assert_error(
        422,
        "form_code_incorrect",
        Some("code"),
    );
}

#[tokio::test]
async fn sms_codes_are_a_second_factor() {
    let app = TestApp::new().await;
    let uid = user_with_password(&app, "jane@example.com").await;
    let body =
        json!({ "user_id": uid, "phone_number": "+12125551234", "verified": true, "reserved_for_second_factor": true });
    app.post("/v1/phone_numbers", body).send().await.assert_status(200);
    let b = app.browser().await;
    let form = [("identifier", "jane@example.com"), ("strategy", "password"), ("password", PASSWORD)];
    let r = b.post(SIGN_INS, &form).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "needs_second_factor");
    let f = &r.json["response"]["supported_second_factors"][0];
    assert_eq!(f["strategy"], "phone_code");
    assert_eq!(f["safe_identifier"], "+1******1234");
    let id = id_of(&r);
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "phone_code"), ("code", "123456")])
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("strategy"));
    b.post(&path(&id, "prepare_second_factor"), &[("strategy", "phone_code")]).send().await.assert_status(200);
    let code = last_code(&app).await;
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "phone_code"), ("code", &wrong(&code))])
        .send()
        .await
        .assert_error(422, "form_code_incorrect", Some("code"));
    let r = b.post(&path(&id, "attempt_second_factor"), &[("strategy", "phone_code"), ("code", &code)]).send();
    assert_signed_in(&app, &r.await.assert_status(200), &uid).await;
}
