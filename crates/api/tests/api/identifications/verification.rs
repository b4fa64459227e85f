//! prepare_verification / attempt_verification: codes through the development outbox, attempts, expiry.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{email, id, user};

const T0: i64 = 1_750_000_000_000;

/// The code in the newest outbox message of the app's instance, and its recipient.
async fn last_code(app: &TestApp) -> (String, String) {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    assert!(m.body.contains(&code));
    (code, m.recipient.clone())
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

async fn attempt(app: &TestApp, path: &str, ver: &Value, code: &str) -> Value {
    app.post(&format!("{path}/attempt_verification"), json!({ "verification_id": ver["id"], "code": code }))
        .send()
        .await
        .assert_status(200)
        .json
}

#[tokio::test]
async fn email_code_verifies_the_address() {
    let app = TestApp::with_clock(T0).await;
    let uid = id(&user(&app, json!({})).await);
    let e = email(&app, &uid, "code@example.com", json!({})).await;
    let path = format!("/v1/email_addresses/{}", id(&e));
    let ver = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    assert_eq!(ver["object"], "verification_otp");
    assert_eq!((ver["status"].clone(), ver["strategy"].clone()), (json!("unverified"), json!("email_code")));
    assert_eq!((ver["attempts"].clone(), ver["expire_at"].clone()), (json!(0), json!(T0 + 600_000)));
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "code@example.com");
    // The identification is untouched until the code is right.
    assert_eq!(app.get(&path).send().await.json["verification"], json!(null));
    let v = attempt(&app, &path, &ver, &wrong(&code)).await;
    assert_eq!((v["status"].clone(), v["attempts"].clone()), (json!("unverified"), json!(1)));
    app.clock.advance_ms(1000);
    let v = attempt(&app, &path, &ver, &code).await;
    assert_eq!(
        (v["status"].clone(), v["attempts"].clone(), v["id"].clone()),
        (json!("verified"), json!(2), ver["id"].clone())
    );
    let got = app.get(&path).send().await.json;
    assert_eq!(
        got["verification"],
        json!({ "object": "verification_otp", "status": "verified", "strategy": "email_code", "attempts": 2,
                "expire_at": T0 + 600_000 })
    );
    app.post(&format!("{path}/attempt_verification"), json!({ "verification_id": ver["id"], "code": code }))
        .send()
        .await
        .assert_error(400, "verification_already_verified", None);
    // A second code for an already verified address leaves its verification alone.
    let ver2 = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    assert_ne!(ver2["id"], ver["id"]);
    let (code2, _) = last_code(&app).await;
    assert_eq!(attempt(&app, &path, &ver2, &code2).await["status"], "verified");
    assert_eq!(app.get(&path).send().await.json["verification"]["attempts"], 2);
}

#[tokio::test]
async fn codes_expire_and_fail_after_too_many_attempts() {
    let app = TestApp::with_clock(T0).await;
    let uid = id(&user(&app, json!({})).await);
    let p = app
        .post("/v1/phone_numbers", json!({ "user_id": uid, "phone_number": "+15555550200" }))
        .send()
        .await
        .assert_status(200)
        .json;
    let path = format!("/v1/phone_numbers/{}", id(&p));
    let ver = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    assert_eq!((ver["strategy"].clone(), ver["channel"].clone()), (json!("phone_code"), json!("sms")));
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "+15555550200");
    for i in 1..=4 {
        let v = attempt(&app, &path, &ver, &wrong(&code)).await;
        assert_eq!((v["status"].clone(), v["attempts"].clone()), (json!("unverified"), json!(i)));
    }
    let v = attempt(&app, &path, &ver, &wrong(&code)).await;
    assert_eq!((v["status"].clone(), v["attempts"].clone()), (json!("failed"), json!(5)));
    // Failed for good: even the right code is not accepted.
    let v = attempt(&app, &path, &ver, &code).await;
    assert_eq!((v["status"].clone(), v["attempts"].clone()), (json!("failed"), json!(5)));
    assert_eq!(app.get(&path).send().await.json["verification"], json!(null));

    let ver = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(600_000);
    let v = attempt(&app, &path, &ver, &code).await;
    assert_eq!((v["status"].clone(), v["attempts"].clone()), (json!("expired"), json!(0)));
    assert_eq!(attempt(&app, &path, &ver, &code).await["status"], "expired");

    let ver = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(599_999);
    assert_eq!(attempt(&app, &path, &ver, &code).await["status"], "verified");
    let got = app.get(&path).send().await.json;
    assert_eq!(
        (got["verification"]["status"].clone(), got["verification"]["strategy"].clone()),
        (json!("verified"), json!("phone_code"))
    );
}

#[tokio::test]
async fn verification_errors() {
    let app = TestApp::new().await;
    let uid = id(&user(&app, json!({})).await);
    let e = email(&app, &uid, "err@example.com", json!({})).await;
    let path = format!("/v1/email_addresses/{}", id(&e));
    let ver = app.post(&format!("{path}/prepare_verification"), json!({})).send().await.assert_status(200).json;
    let att = format!("{path}/attempt_verification");
    app.post(&att, json!({ "verification_id": ver["id"] })).send().await.assert_error(400, "bad_request", Some("code"));
    app.post(&att, json!({ "code": "123456" })).send().await.assert_error(400, "bad_request", Some("verification_id"));
    app.post(&att, json!({ "verification_id": ver["id"], "code": "1", "x": 1 })).send().await.assert_error(
        400,
        "bad_request",
        Some("x"),
    );
    app.post(&att, json!({ "verification_id": "ver_nope", "code": "123456" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // A verification of another address is not found through this one.
    let e2 = email(&app, &uid, "err2@example.com", json!({})).await;
    app.post(
        &format!("/v1/email_addresses/{}/attempt_verification", id(&e2)),
        json!({ "verification_id": ver["id"], "code": "123456" }),
    )
    .send()
    .await
    .assert_error(404, "resource_not_found", None);
    for p in ["/v1/email_addresses/idn_nope", "/v1/phone_numbers/idn_nope", &format!("/v1/phone_numbers/{}", id(&e))] {
        app.post(&format!("{p}/prepare_verification"), json!({})).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
    }
    // A production instance without SMTP (or SMS provider) cannot deliver, and captures nothing.
    let (prod, key) = app.create_instance(Environment::Production).await;
    let pu = app.post("/v1/users", json!({ "email_address": ["p@example.com"], "phone_number": ["+15555550100"] }));
    let pu = pu.bearer(&key).send().await.assert_status(200).json;
    for p in [
        format!("/v1/email_addresses/{}", pu["email_addresses"][0]["id"].as_str().unwrap()),
        format!("/v1/phone_numbers/{}", pu["phone_numbers"][0]["id"].as_str().unwrap()),
    ] {
        app.post(&format!("{p}/prepare_verification"), json!({})).bearer(&key).send().await.assert_error(
            400,
            "delivery_not_configured",
            None,
        );
    }
    assert!(tessera_core::sender::outbox(app.ctx(), Some(&prod.id), 10).await.unwrap().is_empty());
}
