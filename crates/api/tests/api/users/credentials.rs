//! Password verification and lockout, TOTP and backup codes, MFA removal, password state.

use serde_json::json;
use tessera_core::users::create::decode_base32;
use tessera_core::users::credentials::totp_code;
use tessera_testkit::TestApp;

use super::{T0, create_user};

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn code_at(ms: i64, offset_steps: i64) -> String {
    totp_code(&decode_base32(SECRET).unwrap(), ms.div_euclid(30_000) + offset_steps)
}

#[tokio::test]
async fn lockout_counts_failures_exactly_and_expires() {
    let app = TestApp::with_clock(T0).await;
    let u = create_user(&app, json!({ "password": "correct horse battery" })).await;
    let id = u["id"].as_str().unwrap();
    let verify = format!("/v1/users/{id}/verify_password");
    for i in 1..=9 {
        app.post(&verify, json!({ "password": "wrong" })).send().await.assert_error(
            422,
            "form_password_incorrect",
            None,
        );
        let u = app.get(&format!("/v1/users/{id}")).send().await.json;
        assert_eq!(u["verification_attempts_remaining"], 10 - i);
        assert_eq!(u["locked"], false);
    }
    // A success resets the counter.
    app.post(&verify, json!({ "password": "correct horse battery" })).send().await.assert_status(200);
    assert_eq!(app.get(&format!("/v1/users/{id}")).send().await.json["verification_attempts_remaining"], 10);
    for _ in 0..10 {
        app.post(&verify, json!({ "password": "wrong" })).send().await.assert_error(
            422,
            "form_password_incorrect",
            None,
        );
    }
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!((u["locked"].clone(), u["verification_attempts_remaining"].clone()), (json!(true), json!(0)));
    assert_eq!(u["lockout_expires_in_seconds"], 3600);
    // Locked: even the right password is refused.
    app.post(&verify, json!({ "password": "correct horse battery" })).send().await.assert_error(
        403,
        "user_locked",
        None,
    );
    app.clock.advance_ms(1_000_500);
    assert_eq!(app.get(&format!("/v1/users/{id}")).send().await.json["lockout_expires_in_seconds"], 2600);
    app.clock.advance_ms(2_600_000);
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!((u["locked"].clone(), u["verification_attempts_remaining"].clone()), (json!(false), json!(10)));
    app.post(&verify, json!({ "password": "wrong" })).send().await.assert_error(422, "form_password_incorrect", None);
    assert_eq!(app.get(&format!("/v1/users/{id}")).send().await.json["verification_attempts_remaining"], 9);
    app.post(&verify, json!({ "password": "correct horse battery" })).send().await.assert_status(200);
}

#[tokio::test]
async fn lock_and_unlock_through_the_api() {
    let app = TestApp::with_clock(T0).await;
    let id = create_user(&app, json!({ "password": "correct horse battery" })).await["id"].as_str().unwrap().to_owned();
    let u = app.post(&format!("/v1/users/{id}/lock"), json!({})).send().await.assert_status(200).json;
    assert_eq!((u["locked"].clone(), u["lockout_expires_in_seconds"].clone()), (json!(true), json!(3600)));
    assert_eq!(u["verification_attempts_remaining"], 10, "an explicit lock keeps the attempts");
    let verify = format!("/v1/users/{id}/verify_password");
    app.post(&verify, json!({ "password": "correct horse battery" })).send().await.assert_error(
        403,
        "user_locked",
        None,
    );
    let u = app.post(&format!("/v1/users/{id}/unlock"), json!({})).send().await.assert_status(200).json;
    assert_eq!((u["locked"].clone(), u["lockout_expires_in_seconds"].clone()), (json!(false), json!(null)));
    app.post(&verify, json!({ "password": "correct horse battery" })).send().await.assert_status(200);
    for path in ["lock", "unlock"] {
        app.post(&format!("/v1/users/user_nope/{path}"), json!({})).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
    }
}

#[tokio::test]
async fn verify_password_errors() {
    let app = TestApp::new().await;
    let id = create_user(&app, json!({})).await["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/users/{id}/verify_password"), json!({ "password": "x" })).send().await.assert_error(
        400,
        "password_not_set",
        None,
    );
    app.post("/v1/users/user_nope/verify_password", json!({ "password": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("/v1/users/{id}/verify_password"), json!({})).send().await.assert_error(
        422,
        "form_param_missing",
        Some("password"),
    );
}

#[tokio::test]
async fn totp_codes_are_accepted_once_within_one_step_of_skew() {
    let app = TestApp::with_clock(T0).await;
    let id = create_user(&app, json!({ "totp_secret": SECRET })).await["id"].as_str().unwrap().to_owned();
    let verify = format!("/v1/users/{id}/verify_totp");
    let now = app.clock.now_ms();
    let r = app.post(&verify, json!({ "code": code_at(now, -1) })).send().await.assert_status(200).json;
    assert_eq!(r, json!({ "verified": true, "code_type": "totp" }));
    // Replay of the same code, and of an older step, is refused.
    app.post(&verify, json!({ "code": code_at(now, -1) })).send().await.assert_error(422, "form_code_incorrect", None);
    app.post(&verify, json!({ "code": code_at(now, 0) })).send().await.assert_status(200);
    app.post(&verify, json!({ "code": code_at(now, 0) })).send().await.assert_error(422, "form_code_incorrect", None);
    app.post(&verify, json!({ "code": code_at(now, 1) })).send().await.assert_status(200);
    app.post(&verify, json!({ "code": code_at(now, 2) })).send().await.assert_error(422, "form_code_incorrect", None);
    app.post(&verify, json!({ "code": "000000" })).send().await.assert_error(422, "form_code_incorrect", None);
    app.clock.advance_ms(60_000);
    app.post(&verify, json!({ "code": code_at(app.clock.now_ms(), 0) })).send().await.assert_status(200);
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!(u["verification_attempts_remaining"], 10, "a success resets the failures");
}

#[tokio::test]
async fn backup_codes_are_consumed() {
    let app = TestApp::new().await;
    let bcrypt_of_abc = "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i";
    let id = create_user(&app, json!({ "backup_codes": ["one-two", bcrypt_of_abc] })).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let verify = format!("/v1/users/{id}/verify_totp");
    let r = app.post(&verify, json!({ "code": "one-two" })).send().await.assert_status(200).json;
    assert_eq!(r["code_type"], "backup_code");
    app.post(&verify, json!({ "code": "one-two" })).send().await.assert_error(422, "form_code_incorrect", None);
    let r = app.post(&verify, json!({ "code": "abc" })).send().await.assert_status(200).json;
    assert_eq!(r["code_type"], "backup_code");
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!(u["backup_code_enabled"], false);
    // No codes left and no TOTP: nothing to verify against.
    app.post(&verify, json!({ "code": "abc" })).send().await.assert_error(400, "totp_not_enabled", None);
    app.post("/v1/users/user_nope/verify_totp", json!({ "code": "1" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn mfa_removal() {
    let app = TestApp::with_clock(T0).await;
    let body = json!({ "totp_secret": SECRET, "backup_codes": ["aaaa-bbbb"] });
    let id = create_user(&app, body.clone()).await["id"].as_str().unwrap().to_owned();
    let r = app.delete(&format!("/v1/users/{id}/backup_code")).send().await.assert_status(200).json;
    assert_eq!(r, json!({ "user_id": id }));
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!((u["backup_code_enabled"].clone(), u["totp_enabled"].clone()), (json!(false), json!(true)));
    app.clock.advance_ms(5);
    app.delete(&format!("/v1/users/{id}/totp")).send().await.assert_status(200);
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!((u["totp_enabled"].clone(), u["two_factor_enabled"].clone()), (json!(false), json!(false)));
    assert_eq!((u["mfa_enabled_at"].clone(), u["mfa_disabled_at"].clone()), (json!(T0), json!(T0 + 5)));

    let id = create_user(&app, body).await["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/users/{id}/mfa")).send().await.assert_status(200);
    let u = app.get(&format!("/v1/users/{id}")).send().await.json;
    assert_eq!((u["totp_enabled"].clone(), u["backup_code_enabled"].clone()), (json!(false), json!(false)));
    for path in ["mfa", "totp", "backup_code"] {
        app.delete(&format!("/v1/users/user_nope/{path}")).send().await.assert_error(404, "resource_not_found", None);
    }
}

#[tokio::test]
async fn password_removal_and_compromise() {
    let app = TestApp::with_clock(T0).await;
    let id = create_user(&app, json!({ "password": "correct horse battery" })).await["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/users/{id}/password/set_compromised"), json!({ "revoke_all_sessions": true }))
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/v1/users/{id}/password/unset_compromised"), json!({})).send().await.assert_status(200);
    let u = app.post(&format!("/v1/users/{id}/remove_password"), json!({})).send().await.assert_status(200).json;
    assert_eq!(u["password_enabled"], false);
    assert_eq!(u["password_last_updated_at"], T0);
    // Idempotent: a user without a password is returned unchanged.
    let again = app.post(&format!("/v1/users/{id}/remove_password"), json!({})).send().await.assert_status(200).json;
    assert_eq!(again["updated_at"], u["updated_at"]);
    app.post(&format!("/v1/users/{id}/password/set_compromised"), json!({})).send().await.assert_error(
        400,
        "password_not_set",
        None,
    );
    app.post("/v1/users/user_nope/remove_password", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}
