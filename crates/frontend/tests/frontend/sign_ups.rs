//! Sign-ups on the browser's client: create, fill in, prepare and attempt a code, completion into a user with a
//! session on this browser's client (and the Backend API seeing both), test mode, legal consent, limits, errors,
//! and isolation between clients and instances.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::settings::SignUpSettings;
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

use crate::{T0, events_of};

const PASSWORD: &str = "correct horse battery";
const SIGN_UPS: &str = "/v1/client/sign_ups";

fn path(id: &str) -> String {
    format!("{SIGN_UPS}/{id}")
}

fn id(r: &Value) -> String {
    r["response"]["id"].as_str().unwrap_or_else(|| panic!("no sign-up id in {r}")).to_owned()
}

async fn create(b: &TestBrowser<'_>, form: &[(&str, &str)]) -> TestResponse {
    b.post(SIGN_UPS, form).send().await
}

async fn prepare(b: &TestBrowser<'_>, id: &str, strategy: &str) -> TestResponse {
    // A new code is a new outbox message: one millisecond later than the code sent when the sign-up was created,
    // so that `last_code` finds it on a manual clock.
    b.app().clock.advance_ms(1);
    b.post(&format!("{}/prepare_verification", path(id)), &[("strategy", strategy)]).send().await
}

async fn attempt(b: &TestBrowser<'_>, id: &str, strategy: &str, code: &str) -> TestResponse {
    b.post(&format!("{}/attempt_verification", path(id)), &[("strategy", strategy), ("code", code)]).send().await
}

/// The code of the newest outbox message, and its recipient.
async fn last_code(app: &TestApp) -> (String, String) {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    (code, m.recipient.clone())
}

async fn outbox_len(app: &TestApp) -> usize {
    tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap().len()
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

async fn settings(app: &TestApp, required: &[&str], optional: &[&str], legal: bool) {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    let s = SignUpSettings {
        required_fields: strings(required),
        optional_fields: strings(optional),
        custom_action_required: false,
        legal_consent_required: legal,
    };
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
}

/// An email + password sign-up with its code sent; returns its id and the code.
async fn prepared(app: &TestApp, b: &TestBrowser<'_>, email: &str) -> (String, String) {
    let r = create(b, &[("email_address", email), ("password", PASSWORD)]).await.assert_status(200);
    let sid = id(&r.json);
    prepare(b, &sid, "email_code").await.assert_status(200);
    (sid, last_code(app).await.0)
}

#[tokio::test]
async fn email_code_sign_up_signs_the_browser_in() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let r = create(
        &b,
        &[
            ("email_address", "Ada@Example.COM"),
            ("password", PASSWORD),
            ("first_name", "Ada"),
            ("last_name", "Lovelace"),
            ("unsafe_metadata", r#"{"plan":"pro"}"#),
            ("legal_accepted", "true"),
            ("locale", "en-GB"),
            // clerk-js sends nulls as empty strings, and parameters some operations ignore.
            ("username", ""),
            ("captcha_token", "x"),
        ],
    )
    .await
    .assert_status(200)
    .json;
    let s = &r["response"];
    let sid = id(&r);
    assert!(sid.starts_with("sua_"), "{sid}");
    assert_eq!((&s["object"], &s["status"]), (&json!("sign_up_attempt"), &json!("missing_requirements")));
    assert_eq!(s["required_fields"], json!(["email_address", "password"]));
    assert_eq!((&s["missing_fields"], &s["unverified_fields"]), (&json!([]), &json!(["email_address"])));
    assert_eq!(
        s["verifications"],
        json!({
            // The first code goes out with the sign-up, as Clerk's does (`@clerk/ui` then asks for it at once).
            "email_address": { "object": "verification_otp", "status": "unverified", "strategy": "email_code",
                               "attempts": 0, "expire_at": T0 + 600_000, "next_action": "needs_attempt",
                               "supported_strategies": ["email_code"] },
            "phone_number": null, "web3_wallet": null, "external_account": null,
        })
    );
    assert_eq!((&s["email_address"], &s["username"]), (&json!("ada@example.com"), &json!(null)));
    assert_eq!((&s["first_name"], &s["last_name"]), (&json!("Ada"), &json!("Lovelace")));
    assert_eq!((&s["password_enabled"], &s["unsafe_metadata"]), (&json!(true), &json!({ "plan": "pro" })));
    assert_eq!((&s["legal_accepted_at"], &s["abandon_at"]), (&json!(T0), &json!(T0 + 86_400_000)));
    // The client carries it as its sign-up in progress.
    assert_eq!(r["client"]["sign_up"], *s);
    assert_eq!(r["client"]["sessions"], json!([]));
    let got = b.get(&path(&sid)).send().await.assert_status(200).json;
    assert_eq!(got["response"], *s);
    assert_eq!(b.get("/v1/client").send().await.assert_status(200).json["response"]["sign_up"], *s);

    app.clock.advance_ms(1000);
    let r = prepare(&b, &sid, "email_code").await.assert_status(200).json;
    let v = &r["response"]["verifications"]["email_address"];
    assert_eq!((&v["status"], &v["next_action"]), (&json!("unverified"), &json!("needs_attempt")));
    assert_eq!((&v["attempts"], &v["expire_at"]), (&json!(0), &json!(T0 + 1001 + 600_000)));
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "ada@example.com");

    attempt(&b, &sid, "email_code", &wrong(&code)).await.assert_error(422, "form_code_incorrect", Some("code"));
    assert_eq!(b.get(&path(&sid)).send().await.json["response"]["verifications"]["email_address"]["attempts"], 1);
    app.clock.advance_ms(1000);
    let r = attempt(&b, &sid, "email_code", &code).await.assert_status(200).json;
    let done = &r["response"];
    assert_eq!(done["status"], "complete");
    assert_eq!(done["verifications"]["email_address"]["status"], "verified");
    let user_id = done["created_user_id"].as_str().expect("created_user_id").to_owned();
    let session_id = done["created_session_id"].as_str().expect("created_session_id").to_owned();
    // The session is on this browser's client, active, with its user and a token.
    let client = &r["client"];
    assert_eq!(client["sign_up"], json!(null));
    assert_eq!(client["last_active_session_id"], session_id.as_str());
    assert_eq!(client["last_authentication_strategy"], "email_code");
    assert_eq!(client["sessions"].as_array().unwrap().len(), 1);
    let sess = &client["sessions"][0];
    assert_eq!((&sess["id"], &sess["status"]), (&json!(session_id), &json!("active")));
    assert_eq!(sess["user"]["id"], user_id.as_str());
    assert_eq!(sess["user"]["email_addresses"][0]["email_address"], "ada@example.com");
    assert!(sess["last_active_token"]["jwt"].is_string());
    // The browser still reads its (complete) sign-up.
    assert_eq!(b.get(&path(&sid)).send().await.assert_status(200).json["response"], *done);

    // The Backend API sees the user, the session on the browser's client, and the sign-up.
    let u = app.get(&format!("/v1/users/{user_id}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][0]["verification"]["strategy"], "email_code");
    assert_eq!((&u["first_name"], &u["unsafe_metadata"]), (&json!("Ada"), &json!({ "plan": "pro" })));
    assert_eq!((&u["legal_accepted_at"], &u["locale"]), (&json!(T0), &json!("en-GB")));
    let bs = app.get(&format!("/v1/sessions/{session_id}")).send().await.assert_status(200).json;
    assert_eq!((&bs["status"], &bs["user_id"]), (&json!("active"), &json!(user_id)));
    assert_eq!(bs["client_id"], client["id"]);
    let bsu = app.get(&format!("/v1/sign_ups/{sid}")).send().await.assert_status(200).json;
    assert_eq!((&bsu["status"], &bsu["created_session_id"]), (&json!("complete"), &json!(session_id)));
    app.post(&format!("/v1/users/{user_id}/verify_password"), json!({ "password": PASSWORD }))
        .send()
        .await
        .assert_status(200);
    let users = events_of(&app, "user.created").await;
    assert_eq!((users.len(), &users[0]["data"]["id"]), (1, &json!(user_id)));
    let sessions = events_of(&app, "session.created").await;
    assert_eq!((sessions.len(), &sessions[0]["data"]["id"]), (1, &json!(session_id)));

    // A complete sign-up is final.
    prepare(&b, &sid, "email_code").await.assert_error(403, "sign_up_cannot_be_updated", None);
    attempt(&b, &sid, "email_code", &code).await.assert_error(403, "sign_up_cannot_be_updated", None);
    b.patch(&path(&sid), &[("first_name", "X")]).send().await.assert_error(403, "sign_up_cannot_be_updated", None);
}

#[tokio::test]
async fn the_older_api_version_gets_the_same_flow() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await.with_version("2025-11-10");
    let (sid, code) = prepared(&app, &b, "v5@example.com").await;
    let r = attempt(&b, &sid, "email_code", &code).await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
}

#[tokio::test]
async fn test_mode_identifiers_take_424242_without_a_message() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let sid = id(&create(&b, &[("email_address", "jane+clerk_test@example.com"), ("password", PASSWORD)]).await.json);
    let before = outbox_len(&app).await;
    prepare(&b, &sid, "email_code").await.assert_status(200);
    assert_eq!(outbox_len(&app).await, before, "no message for a test address");
    attempt(&b, &sid, "email_code", "424243").await.assert_error(422, "form_code_incorrect", Some("code"));
    let r = attempt(&b, &sid, "email_code", "424242").await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");

    // Test phone numbers: +1 XXX 555-01XX.
    settings(&app, &["phone_number"], &[], false).await;
    let b = app.browser().await;
    let sid = id(&create(&b, &[("phone_number", "+1 (201) 555-0123")]).await.assert_status(200).json);
    prepare(&b, &sid, "phone_code").await.assert_status(200);
    let r = attempt(&b, &sid, "phone_code", "424242").await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
    // Not a test number: a real code.
    app.clock.advance_ms(1000);
    let b = app.browser().await;
    let sid = id(&create(&b, &[("phone_number", "+12015550200")]).await.assert_status(200).json);
    prepare(&b, &sid, "phone_code").await.assert_status(200);
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "+12015550200");
    if code != "424242" {
        attempt(&b, &sid, "phone_code", "424242").await.assert_error(422, "form_code_incorrect", Some("code"));
    }

    // Test mode off: a test address gets a real code.
    settings(&app, &["email_address"], &[], false).await;
    app.patch("/v1/instance", json!({ "test_mode": false })).send().await.assert_status(204);
    app.clock.advance_ms(1000);
    let b = app.browser().await;
    let sid = id(&create(&b, &[("email_address", "off+clerk_test@example.com")]).await.json);
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "off+clerk_test@example.com");
    if code != "424242" {
        attempt(&b, &sid, "email_code", "424242").await.assert_error(422, "form_code_incorrect", Some("code"));
    }
}

#[tokio::test]
async fn production_browsers_sign_up_with_their_client_cookie_and_no_test_mode() {
    let app = TestApp::with_clock(T0).await;
    let (instance, _) = app.create_instance(Environment::Production).await;
    let mut b = app.browser_for(&instance).await;
    b.origin = None;
    // A test address is an ordinary address here: its code must really be sent (and production has no mailer).
    let r = create(&b, &[("email_address", "prod+clerk_test@example.com"), ("password", PASSWORD)]).await;
    let sid = id(&r.assert_status(200).json);
    assert!(b.cookie("__client").is_some(), "the sign-up made the browser's client");
    assert_eq!(b.cookie("__client_uat").as_deref(), Some("0"));
    prepare(&b, &sid, "email_code").await.assert_error(400, "delivery_not_configured", None);
    attempt(&b, &sid, "email_code", "424242").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    // Username and password only: complete at once, signed in by cookie.
    let s = SignUpSettings {
        required_fields: vec!["username".into(), "password".into()],
        optional_fields: Vec::new(),
        custom_action_required: false,
        legal_consent_required: false,
    };
    tessera_core::settings::store_sign_up_settings(app.ctx(), &instance, s).await.unwrap();
    let r = create(&b, &[("username", "prod_user"), ("password", PASSWORD)]).await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
    let uat = b.cookie("__client_uat").expect("__client_uat");
    assert_eq!(uat, (r["client"]["updated_at"].as_i64().unwrap() / 1000).to_string(), "signed in");
}

#[tokio::test]
async fn legal_consent_is_a_missing_field_until_accepted() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "password"], &["first_name"], true).await;
    let b = app.browser().await;
    let r = create(&b, &[("email_address", "terms+clerk_test@example.com"), ("password", PASSWORD)]).await;
    let s = r.assert_status(200).json["response"].clone();
    assert_eq!(s["required_fields"], json!(["email_address", "password", "legal_accepted"]));
    assert_eq!(s["missing_fields"], json!(["legal_accepted"]));
    let sid = s["id"].as_str().unwrap().to_owned();
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let r = attempt(&b, &sid, "email_code", "424242").await.assert_status(200).json;
    assert_eq!(
        (&r["response"]["status"], &r["response"]["missing_fields"]),
        (&json!("missing_requirements"), &json!(["legal_accepted"]))
    );
    b.patch(&path(&sid), &[("legal_accepted", "maybe")]).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("legal_accepted"),
    );
    app.clock.advance_ms(5000);
    let r = b.patch(&path(&sid), &[("legal_accepted", "true")]).send().await.assert_status(200).json;
    assert_eq!(
        (&r["response"]["status"], &r["response"]["legal_accepted_at"]),
        (&json!("complete"), &json!(T0 + 5001))
    );
    assert_eq!(r["client"]["sessions"][0]["status"], "active");
    let u = app.get(&format!("/v1/users/{}", r["response"]["created_user_id"].as_str().unwrap())).send().await;
    assert_eq!(u.assert_status(200).json["legal_accepted_at"], T0 + 5001);
}

#[tokio::test]
async fn missing_fields_are_filled_in_with_patch() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let r = create(&b, &[("first_name", "Grace")]).await.assert_status(200).json;
    let sid = id(&r);
    assert_eq!(r["response"]["missing_fields"], json!(["email_address", "password"]));
    assert_eq!(r["response"]["verifications"]["email_address"], json!(null));
    let r = b.patch(&path(&sid), &[("email_address", "grace@example.com")]).send().await.assert_status(200).json;
    assert_eq!(
        (&r["response"]["missing_fields"], &r["response"]["unverified_fields"]),
        (&json!(["password"]), &json!(["email_address"]))
    );
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    // A new address needs a new code.
    let r = b.patch(&path(&sid), &[("email_address", "hopper@example.com")]).send().await.assert_status(200).json;
    let v = &r["response"]["verifications"]["email_address"];
    // The new address got its own code at once; the old one no longer verifies.
    assert_eq!((&v["next_action"], &v["attempts"]), (&json!("needs_attempt"), &json!(0)));
    attempt(&b, &sid, "email_code", &code).await.assert_error(422, "form_code_incorrect", Some("code"));
    app.clock.advance_ms(1000);
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "hopper@example.com");
    let r = attempt(&b, &sid, "email_code", &code).await.assert_status(200).json;
    assert_eq!(
        (&r["response"]["status"], &r["response"]["missing_fields"]),
        (&json!("missing_requirements"), &json!(["password"]))
    );
    b.patch(&path(&sid), &[("password", "short")]).send().await.assert_error(
        422,
        "form_password_length_too_short",
        Some("password"),
    );
    let r = b.patch(&path(&sid), &[("password", PASSWORD), ("unsafe_metadata", r#"{"a":1}"#)]).send().await;
    let r = r.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
    assert_eq!(r["client"]["last_authentication_strategy"], "password");
    let u = app.get(&format!("/v1/users/{}", r["response"]["created_user_id"].as_str().unwrap())).send().await.json;
    assert_eq!(
        (&u["email_addresses"][0]["email_address"], &u["unsafe_metadata"]),
        (&json!("hopper@example.com"), &json!({ "a": 1 }))
    );
}

#[tokio::test]
async fn a_sign_up_that_lacks_nothing_completes_at_once() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["username", "password"], &[], false).await;
    let b = app.browser().await;
    let r = create(&b, &[("username", "Grace_H"), ("password", PASSWORD)]).await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
    assert_eq!(r["client"]["sessions"][0]["user"]["username"], "Grace_H");
    let other = app.browser().await;
    create(&other, &[("username", "grace_h"), ("password", PASSWORD)]).await.assert_error(
        422,
        "form_identifier_exists",
        Some("username"),
    );
}

#[tokio::test]
async fn codes_fail_after_five_wrong_attempts_and_expire() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let (sid, code) = prepared(&app, &b, "limits@example.com").await;
    for _ in 0..4 {
        attempt(&b, &sid, "email_code", &wrong(&code)).await.assert_error(422, "form_code_incorrect", Some("code"));
    }
    attempt(&b, &sid, "email_code", &wrong(&code)).await.assert_error(422, "verification_failed", None);
    attempt(&b, &sid, "email_code", &code).await.assert_error(422, "verification_failed", None);
    let v = b.get(&path(&sid)).send().await.json["response"]["verifications"]["email_address"].clone();
    assert_eq!(
        (&v["status"], &v["attempts"], &v["next_action"]),
        (&json!("failed"), &json!(5), &json!("needs_prepare"))
    );
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(600_000);
    attempt(&b, &sid, "email_code", &code).await.assert_error(422, "verification_expired", None);
    let s = b.get(&path(&sid)).send().await.json["response"].clone();
    assert_eq!(
        (&s["verifications"]["email_address"]["status"], &s["status"]),
        (&json!("expired"), &json!("missing_requirements"))
    );
    prepare(&b, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    assert_eq!(attempt(&b, &sid, "email_code", &code).await.assert_status(200).json["response"]["status"], "complete");
}

#[tokio::test]
async fn sign_ups_are_abandoned_after_24_hours() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let (sid, code) = prepared(&app, &b, "late@example.com").await;
    app.clock.advance_ms(86_400_000);
    let s = b.get(&path(&sid)).send().await.assert_status(200).json;
    assert_eq!(s["response"]["status"], "abandoned");
    prepare(&b, &sid, "email_code").await.assert_error(403, "sign_up_cannot_be_updated", None);
    attempt(&b, &sid, "email_code", &code).await.assert_error(403, "sign_up_cannot_be_updated", None);
    b.patch(&path(&sid), &[("first_name", "X")]).send().await.assert_error(403, "sign_up_cannot_be_updated", None);
}

/// A form, the error code it gets, and the parameter the error names.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn identifiers_users_hold_and_bad_values_are_refused() {
    let app = TestApp::with_clock(T0).await;
    app.post("/v1/users", json!({ "email_address": ["taken@example.com"], "username": "taken_name" }))
        .send()
        .await
        .assert_status(200);
    settings(&app, &["email_address", "password"], &["username", "first_name"], false).await;
    let b = app.browser().await;
    let cases: &[Case] = &[
        (&[("email_address", "TAKEN@example.com"), ("password", PASSWORD)], "form_identifier_exists", "email_address"),
        (&[("email_address", "f@example.com"), ("username", "Taken_Name")], "form_identifier_exists", "username"),
        (&[("email_address", "not-an-address")], "form_param_format_invalid", "email_address"),
        (&[("email_address", "f@example.com"), ("password", "short")], "form_password_length_too_short", "password"),
        (&[("email_address", "f@example.com"), ("password", "Password123")], "form_password_pwned", "password"),
        (&[("email_address", "f@example.com"), ("last_name", "Hopper")], "form_param_unknown", "last_name"),
        (
            &[("email_address", "f@example.com"), ("unsafe_metadata", "[1]")],
            "form_param_format_invalid",
            "unsafe_metadata",
        ),
        (
            &[("email_address", "f@example.com"), ("unsafe_metadata", "{")],
            "form_param_format_invalid",
            "unsafe_metadata",
        ),
        (
            &[("email_address", "f@example.com"), ("legal_accepted", "yes please")],
            "form_param_format_invalid",
            "legal_accepted",
        ),
        (&[("strategy", "oauth_google")], "form_param_value_invalid", "strategy"),
    ];
    for (form, code, param) in cases {
        create(&b, form).await.assert_error(422, code, Some(param));
    }
    // Nothing was half-made: the client has no sign-up.
    assert_eq!(b.get("/v1/client").send().await.json["response"]["sign_up"], json!(null));

    // An address a user verifies while the sign-up waits: completing fails as a whole.
    let (sid, code) = prepared(&app, &b, "race@example.com").await;
    app.post("/v1/users", json!({ "email_address": ["race@example.com"] })).send().await.assert_status(200);
    attempt(&b, &sid, "email_code", &code).await.assert_error(422, "form_identifier_exists", Some("email_address"));
    let s = b.get(&path(&sid)).send().await.json;
    assert_eq!((&s["response"]["status"], &s["client"]["sessions"]), (&json!("missing_requirements"), &json!([])));
}

#[tokio::test]
async fn blocklisted_identifiers_cannot_sign_up() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).send().await.assert_status(200);
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "blocked.example" })).send().await.assert_status(200);
    let b = app.browser().await;
    create(&b, &[("email_address", "eve@blocked.example"), ("password", PASSWORD)]).await.assert_error(
        422,
        "not_allowed_access",
        Some("email_address"),
    );
}

#[tokio::test]
async fn bad_strategies_and_codes() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let sid = id(&create(&b, &[("email_address", "bad@example.com")]).await.json);
    prepare(&b, &sid, "").await.assert_error(422, "form_param_missing", Some("strategy"));
    prepare(&b, &sid, "email_link").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    prepare(&b, &sid, "phone_code").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    let (sent, _) = last_code(&app).await;
    attempt(&b, &sid, "email_code", &wrong(&sent)).await.assert_error(422, "form_code_incorrect", Some("code"));
    prepare(&b, &sid, "email_code").await.assert_status(200);
    attempt(&b, &sid, "email_code", " ").await.assert_error(422, "form_param_missing", Some("code"));
    let (code, _) = last_code(&app).await;
    attempt(&b, &sid, "email_code", &code).await.assert_status(200);
    attempt(&b, &sid, "email_code", &code).await.assert_error(400, "verification_already_verified", None);
    prepare(&b, &sid, "email_code").await.assert_error(400, "verification_already_verified", None);
}

#[tokio::test]
async fn another_client_cannot_reach_a_sign_up() {
    let app = TestApp::with_clock(T0).await;
    let owner = app.browser().await;
    let (sid, code) = prepared(&app, &owner, "mine@example.com").await;
    let before = owner.get(&path(&sid)).send().await.json["response"].clone();
    let thief = app.browser().await;
    for sign_up in [sid.as_str(), "sua_unknown", "client_x"] {
        thief.get(&path(sign_up)).send().await.assert_error(404, "resource_not_found", None);
        thief.patch(&path(sign_up), &[("first_name", "Mallory")]).send().await.assert_error(
            404,
            "resource_not_found",
            None,
        );
        prepare(&thief, sign_up, "email_code").await.assert_error(404, "resource_not_found", None);
        attempt(&thief, sign_up, "email_code", &code).await.assert_error(404, "resource_not_found", None);
    }
    assert_eq!(owner.get(&path(&sid)).send().await.json["response"], before);
    assert_eq!(thief.get("/v1/client").send().await.json["response"]["sign_up"], json!(null));
    // Another instance's browser neither.
    let (instance_b, _) = app.create_instance(Environment::Development).await;
    let other = app.browser_for(&instance_b).await;
    other.get(&path(&sid)).send().await.assert_error(404, "resource_not_found", None);
    attempt(&other, &sid, "email_code", &code).await.assert_error(404, "resource_not_found", None);
    // A production browser without a client has no sign-ups.
    let (prod, _) = app.create_instance(Environment::Production).await;
    let mut nobody = app.browser_for(&prod).await;
    nobody.origin = None;
    nobody.get(&path(&sid)).send().await.assert_error(404, "resource_not_found", None);
    // The owner still completes it.
    let r = attempt(&owner, &sid, "email_code", &code).await.assert_status(200).json;
    assert_eq!(r["response"]["status"], "complete");
}

#[tokio::test]
async fn hostile_input_is_refused_cleanly() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let long = "a".repeat(10_000);
    let r = create(&b, &[("email_address", &format!("{long}@example.com"))]).await;
    assert_eq!(r.status, 422, "{}", r.json);
    let r = create(&b, &[("first_name", "nul\u{0}byte"), ("email_address", "nul@example.com")]).await;
    assert_eq!(r.status, 422, "{}", r.json);
    let r = create(&b, &[("unsafe_metadata", &format!("{}{}", "[".repeat(5000), "]".repeat(5000)))]).await;
    assert_eq!(r.status, 422, "{}", r.json);
    for id in ["%00", "sua_%FF", &"x".repeat(3000)] {
        let r = b.get(&path(id)).send().await;
        assert!(r.status == 404 || r.status == 400, "{id}: {}", r.status);
    }
    // A script in a name is data, stored and shown as given.
    let r = create(&b, &[("email_address", "x@example.com"), ("first_name", "<script>alert(1)</script>")]).await;
    assert_eq!(r.assert_status(200).json["response"]["first_name"], "<script>alert(1)</script>");
}
