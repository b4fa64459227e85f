//! The signed-in user's second factors: a TOTP secret created, confirmed by a code (which turns on TOTP and hands
//! out backup codes once) and then asked for by later sign-ins; regenerated backup codes; deleting TOTP. Error
//! cases: wrong and missing codes, nothing pending, TOTP already on, TOTP not on.

use serde_json::{Value, json};
use tessera_core::users::create::decode_base32;
use tessera_core::users::credentials::totp_code;
use tessera_testkit::{TestApp, TestBrowser};

use crate::me::signed_in;
use crate::{T0, events_of};

const PASSWORD: &str = "correct horse battery";

/// The code of a base32 `secret` at the app's current time step.
fn code_now(app: &TestApp, secret: &str) -> String {
    totp_code(&decode_base32(secret).unwrap(), app.clock.now_ms().div_euclid(30_000))
}

/// A six-digit code other than `code`.
fn other_than(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

fn the_user(r: &Value) -> &Value {
    &r["client"]["sessions"][0]["user"]
}

/// Signs in with the password on a fresh browser; returns the browser and the sign-in answer.
async fn password_sign_in<'a>(app: &'a TestApp, email: &str) -> (TestBrowser<'a>, Value) {
    let b = app.browser().await;
    let form = [("identifier", email), ("strategy", "password"), ("password", PASSWORD)];
    let r = b.post("/v1/client/sign_ins", &form).send().await.assert_status(200).json;
    (b, r)
}

#[tokio::test]
async fn a_user_sets_up_totp_and_later_sign_ins_ask_for_it() {
    let app = TestApp::with_clock(T0).await;
    let email = "ada+clerk_test@example.com";
    let (b, _sess, user) = signed_in(&app, email).await;

    // Nothing to confirm or delete yet.
    b.post("/v1/me/totp/attempt_verification", &[("code", "123456")]).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    b.delete("/v1/me/totp").send().await.assert_error(400, "totp_not_enabled", None);

    // A first secret, replaced by a second one (clerk-js creates one each time its set-up screen opens).
    let first = b.post("/v1/me/totp", &[]).send().await.assert_status(200).json;
    let first_secret = first["response"]["secret"].as_str().unwrap().to_owned();
    let r = b.post("/v1/me/totp", &[]).send().await.assert_status(200).json;
    let t = &r["response"];
    assert_eq!((t["object"].as_str(), t["verified"].as_bool()), (Some("totp"), Some(false)));
    let secret = t["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, first_secret);
    assert_eq!(decode_base32(&secret).unwrap().len(), 20);
    let uri = t["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("ada%2Bclerk_test%40example.com"), "{uri}");
    assert_eq!(the_user(&r)["totp_enabled"], false, "pending until confirmed");

    // Wrong, missing and superseded codes.
    let code = code_now(&app, &secret);
    let path = "/v1/me/totp/attempt_verification";
    b.post(path, &[("code", &other_than(&code))]).send().await.assert_error(422, "form_code_incorrect", Some("code"));
    b.post(path, &[]).send().await.assert_error(422, "form_param_missing", Some("code"));
    let stale = code_now(&app, &first_secret);
    if stale != code {
        b.post(path, &[("code", &stale)]).send().await.assert_error(422, "form_code_incorrect", Some("code"));
    }

    let before = events_of(&app, "user.updated").await.len();
    let r = b.post(path, &[("code", &code)]).send().await.assert_status(200).json;
    let t = &r["response"];
    assert_eq!(t["verified"], true);
    assert!(t["secret"].is_null() && t["uri"].is_null(), "the secret is shown once: {t}");
    let codes: Vec<String> =
        t["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    let u = the_user(&r);
    assert_eq!(
        (&u["totp_enabled"], &u["backup_code_enabled"], &u["two_factor_enabled"]),
        (&json!(true), &json!(true), &json!(true))
    );
    let events = events_of(&app, "user.updated").await;
    assert_eq!(events.len(), before + 1);
    assert_eq!(events.last().unwrap()["data"]["two_factor_enabled"], true);
    let bapi = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!((&bapi["totp_enabled"], &bapi["backup_code_enabled"]), (&json!(true), &json!(true)));

    // TOTP is on now: no second secret, nothing left to confirm.
    b.post("/v1/me/totp", &[]).send().await.assert_error(400, "totp_already_enabled", None);
    b.post(path, &[("code", &code)]).send().await.assert_error(400, "verification_already_verified", None);

    // A later sign-in needs the second factor. The code that confirmed the secret cannot be replayed.
    let (other, r) = password_sign_in(&app, email).await;
    assert_eq!(r["response"]["status"], "needs_second_factor");
    let id = r["response"]["id"].as_str().unwrap().to_owned();
    let second = format!("/v1/client/sign_ins/{id}/attempt_second_factor");
    other.post(&second, &[("strategy", "totp"), ("code", &code)]).send().await.assert_error(
        422,
        "form_code_incorrect",
        Some("code"),
    );
    app.clock.advance_ms(30_000);
    let r = other
        .post(&second, &[("strategy", "totp"), ("code", &code_now(&app, &secret))])
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(r["response"]["status"], "complete");
    assert_eq!(r["client"]["sessions"][0]["user"]["id"], user.as_str());

    // A backup code handed out by the confirmation works once.
    let (third, r) = password_sign_in(&app, email).await;
    let id = r["response"]["id"].as_str().unwrap().to_owned();
    let second = format!("/v1/client/sign_ins/{id}/attempt_second_factor");
    let r = third.post(&second, &[("strategy", "backup_code"), ("code", &codes[0])]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete");
    let bapi = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(bapi["backup_code_enabled"], true, "nine codes are left");
}

#[tokio::test]
async fn backup_codes_are_regenerated_and_totp_deleted() {
    let app = TestApp::with_clock(T0).await;
    let email = "grace+clerk_test@example.com";
    let (b, _sess, user) = signed_in(&app, email).await;
    let secret = b.post("/v1/me/totp", &[]).send().await.assert_status(200).json["response"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = b.post("/v1/me/totp/attempt_verification", &[("code", &code_now(&app, &secret))]).send().await;
    let old_codes = r.assert_status(200).json["response"]["backup_codes"].clone();

    // New codes replace the old ones (clerk-js calls the path with a trailing slash).
    let before = events_of(&app, "user.updated").await.len();
    let r = b.post("/v1/me/backup_codes", &[]).send().await.assert_status(200).json;
    let bc = &r["response"];
    assert_eq!(bc["object"], "backup_code");
    let codes: Vec<String> = bc["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 8 && c.bytes().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit())));
    assert_eq!(the_user(&r)["backup_code_enabled"], true);
    let r = b.post("/v1/me/backup_codes/", &[]).send().await.assert_status(200).json;
    let codes: Vec<String> =
        r["response"]["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(events_of(&app, "user.updated").await.len(), before + 2);

    let (other, r) = password_sign_in(&app, email).await;
    let id = r["response"]["id"].as_str().unwrap().to_owned();
    let second = format!("/v1/client/sign_ins/{id}/attempt_second_factor");
    other
        .post(&second, &[("strategy", "backup_code"), ("code", old_codes[0].as_str().unwrap())])
        .send()
        .await
        .assert_error(422, "form_code_incorrect", Some("code"));
    other.post(&second, &[("strategy", "backup_code"), ("code", &codes[3])]).send().await.assert_status(200);

    // Deleting TOTP leaves no second factor: the backup codes go with it.
    let r = b.delete("/v1/me/totp").send().await.assert_status(200).json;
    assert_eq!(r["response"], json!({ "object": "totp", "deleted": true }));
    let u = the_user(&r);
    assert_eq!(
        (&u["totp_enabled"], &u["backup_code_enabled"], &u["two_factor_enabled"]),
        (&json!(false), &json!(false), &json!(false))
    );
    assert_eq!(events_of(&app, "user.updated").await.last().unwrap()["data"]["totp_enabled"], false);
    b.delete("/v1/me/totp").send().await.assert_error(400, "totp_not_enabled", None);
    let (_, r) = password_sign_in(&app, email).await;
    assert_eq!(r["response"]["status"], "complete", "no second factor any more");
    let bapi = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(bapi["two_factor_enabled"], false);
}

#[tokio::test]
async fn second_factor_operations_need_a_signed_in_browser() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    b.get("/v1/client").send().await.assert_status(200);
    b.post("/v1/me/totp", &[]).send().await.assert_error(401, "signed_out", None);
    b.post("/v1/me/totp/attempt_verification", &[("code", "123456")]).send().await.assert_error(
        401,
        "signed_out",
        None,
    );
    b.delete("/v1/me/totp").send().await.assert_error(401, "signed_out", None);
    b.post("/v1/me/backup_codes", &[]).send().await.assert_error(401, "signed_out", None);
}

#[tokio::test]
async fn a_pending_secret_is_per_user_and_clerk_js_5_sees_the_same_objects() {
    let app = TestApp::with_clock(T0).await;
    let (b, _, _) = signed_in(&app, "ada+clerk_test@example.com").await;
    let b = b.with_version("2025-11-10");
    let secret = b.post("/v1/me/totp", &[]).send().await.assert_status(200).json["response"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another user cannot confirm ada's secret: they have none pending.
    let (other, _, _) = signed_in(&app, "grace+clerk_test@example.com").await;
    other.post("/v1/me/totp/attempt_verification", &[("code", &code_now(&app, &secret))]).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    b.post("/v1/me/totp/attempt_verification", &[("code", &code_now(&app, &secret))]).send().await.assert_status(200);
}
