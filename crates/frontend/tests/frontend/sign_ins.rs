//! Sign-ins on the browser's client: identifier, password, e-mail and SMS codes, tickets, second factors, and the
//! negative corpus (wrong and expired codes, too many attempts, reuse, other clients' sign-ins, locked and banned
//! users, hostile identifiers, unknown strategies, missing parameters).

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::users::create::decode_base32;
use tessera_core::users::credentials::totp_code;
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

const T0: i64 = 1_750_000_000_000;
const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const SIGN_INS: &str = "/v1/client/sign_ins";

/// Creates a user through the Backend API; returns its id.
async fn user(app: &TestApp, body: Value) -> String {
    let r = app.post("/v1/users", body).send().await.assert_status(200);
    r.json["id"].as_str().expect("user id").to_owned()
}

async fn user_with_password(app: &TestApp, email: &str) -> String {
    user(app, json!({ "email_address": [email], "password": PASSWORD, "skip_password_checks": true })).await
}

fn path(id: &str, op: &str) -> String {
    format!("{SIGN_INS}/{id}/{op}")
}

fn id_of(r: &TestResponse) -> String {
    r.json["response"]["id"].as_str().expect("sign-in id").to_owned()
}

/// The code of the newest captured message.
async fn last_code(app: &TestApp) -> String {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    code
}

async fn outbox_len(app: &TestApp) -> usize {
    tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap().len()
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

/// A complete sign-in's answer: the client carries its session (with a token for it), not the sign-in; the
/// Backend API lists the session for the user.
async fn assert_signed_in(app: &TestApp, r: &TestResponse, user_id: &str) -> String {
    let s = &r.json["response"];
    assert_eq!(s["status"], "complete", "{}", r.json);
    let sid = s["created_session_id"].as_str().expect("created_session_id").to_owned();
    let client = &r.json["client"];
    assert!(client["sign_in"].is_null(), "{client}");
    assert_eq!(client["last_active_session_id"], sid.as_str());
    let session = &client["sessions"][0];
    assert_eq!(session["id"], sid.as_str());
    assert_eq!(session["user"]["id"], user_id);
    let jwt = session["last_active_token"]["jwt"].as_str().expect("token");
    let claims = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.expect("valid jwt").claims;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], user_id);
    let listed = app.get(&format!("/v1/sessions?user_id={user_id}")).send().await.assert_status(200).json;
    assert!(listed.as_array().unwrap().iter().any(|x| x["id"] == sid.as_str() && x["status"] == "active"), "{listed}");
    sid
}

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
    // An older sign-in of the same client cannot open a second session either.
    b.post(&path(&id, "attempt_first_factor"), &[("strategy", "password"), ("password", PASSWORD)])
        .send()
        .await
        .assert_error(400, "session_exists", None);
    let c = b.get("/v1/client").send().await.json;
    assert_eq!(c["response"]["sessions"].as_array().unwrap().len(), 1);
}

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
            b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", &totp(0))]).send().await
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
    b.post(&path(&id, "attempt_second_factor"), &[("strategy", "totp"), ("code", &totp(0))]).send().await.assert_error(
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
