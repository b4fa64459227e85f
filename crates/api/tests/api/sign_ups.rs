//! Sign-ups: Tessera's stand-in for the Frontend API's sign-up flow (create, prepare and attempt a code) and
//! GetSignUp / UpdateSignUp — requirements from the instance's sign-up settings, conversion into a user with an
//! active session, codes and their limits, custom action, external id, terminal states, errors, isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::settings::SignUpSettings;
use tessera_testkit::{TestApp, TestResponse};

use crate::events_of;
use crate::machines::assert_not_in_database;
use crate::sessions::{decode, mint};
use crate::users::{T0, create_user};

const PASSWORD: &str = "correct horse battery";

async fn create(app: &TestApp, body: Value) -> TestResponse {
    app.post("/v1/sign_ups", body).send().await
}

async fn created(app: &TestApp, body: Value) -> Value {
    create(app, body).await.assert_status(200).json
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

async fn get(app: &TestApp, sign_up: &str) -> Value {
    app.get(&format!("/v1/sign_ups/{sign_up}")).send().await.assert_status(200).json
}

async fn prepare(app: &TestApp, sign_up: &str, strategy: &str) -> TestResponse {
    app.post(&format!("/v1/sign_ups/{sign_up}/prepare_verification"), json!({ "strategy": strategy })).send().await
}

async fn attempt(app: &TestApp, sign_up: &str, strategy: &str, code: &str) -> TestResponse {
    app.post(&format!("/v1/sign_ups/{sign_up}/attempt_verification"), json!({ "strategy": strategy, "code": code }))
        .send()
        .await
}

/// The code of the newest outbox message, and its recipient.
async fn last_code(app: &TestApp) -> (String, String) {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    (code, m.recipient.clone())
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

async fn settings(app: &TestApp, required: &[&str], optional: &[&str], custom_action_required: bool) {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    let s = SignUpSettings {
        required_fields: strings(required),
        optional_fields: strings(optional),
        custom_action_required,
    };
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
}

/// Creates an email + password sign-up and sends its code; returns the sign-up id and the code.
async fn prepared(app: &TestApp, email: &str) -> (String, String) {
    let s = created(app, json!({ "email_address": email, "password": PASSWORD })).await;
    let sid = id(&s);
    prepare(app, &sid, "email_code").await.assert_status(200);
    (sid, last_code(app).await.0)
}

#[tokio::test]
async fn email_code_sign_up_becomes_a_user_with_an_active_session() {
    let app = TestApp::with_clock(T0).await;
    let s = created(
        &app,
        json!({
            "email_address": "Ada@Example.COM",
            "password": PASSWORD,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "unsafe_metadata": { "plan": "pro" },
            "external_id": "ext_ada",
            "legal_accepted": true,
            "locale": "en-GB",
        }),
    )
    .await;
    let sid = id(&s);
    assert!(sid.starts_with("sua_"), "{sid}");
    assert_eq!(s["object"], "sign_up_attempt");
    assert_eq!(s["status"], "missing_requirements");
    assert_eq!(s["required_fields"], json!(["email_address", "password"]));
    assert_eq!(s["optional_fields"], json!(["first_name", "last_name", "username", "phone_number"]));
    assert_eq!(s["missing_fields"], json!([]));
    assert_eq!(s["unverified_fields"], json!(["email_address"]));
    assert_eq!(
        s["verifications"],
        json!({
            "email_address": { "object": "verification", "status": "unverified", "strategy": "email_code",
                               "attempts": null, "expire_at": null, "next_action": "needs_prepare",
                               "supported_strategies": ["email_code"] },
            "phone_number": null, "web3_wallet": null, "external_account": null,
        })
    );
    assert_eq!(s["email_address"], "ada@example.com");
    assert_eq!((&s["phone_number"], &s["username"], &s["web3_wallet"]), (&json!(null), &json!(null), &json!(null)));
    assert_eq!((&s["first_name"], &s["last_name"]), (&json!("Ada"), &json!("Lovelace")));
    assert_eq!(s["password_enabled"], true);
    assert_eq!((&s["unsafe_metadata"], &s["public_metadata"]), (&json!({ "plan": "pro" }), &json!({})));
    assert_eq!((&s["external_id"], &s["custom_action"]), (&json!("ext_ada"), &json!(false)));
    assert_eq!((&s["created_user_id"], &s["created_session_id"]), (&json!(null), &json!(null)));
    assert_eq!((&s["abandon_at"], &s["legal_accepted_at"]), (&json!(T0 + 86_400_000), &json!(T0)));
    assert_eq!(s["locale"], "en-GB");
    assert_eq!(get(&app, &sid).await, s);
    // Only an argon2id digest of the password is stored.
    assert_not_in_database(&app, &[PASSWORD]).await;

    app.clock.advance_ms(1000);
    let s = prepare(&app, &sid, "email_code").await.assert_status(200).json;
    let v = &s["verifications"]["email_address"];
    assert_eq!((&v["status"], &v["next_action"]), (&json!("unverified"), &json!("needs_attempt")));
    assert_eq!((&v["attempts"], &v["expire_at"]), (&json!(0), &json!(T0 + 1000 + 600_000)));
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "ada@example.com");
    assert_eq!(events_of(&app, "email.created").await.len(), 1);

    attempt(&app, &sid, "email_code", &wrong(&code)).await.assert_error(422, "form_code_incorrect", Some("code"));
    assert_eq!(get(&app, &sid).await["verifications"]["email_address"]["attempts"], 1);
    app.clock.advance_ms(1000);
    let done = attempt(&app, &sid, "email_code", &code).await.assert_status(200).json;
    assert_eq!(done["status"], "complete");
    assert_eq!((&done["missing_fields"], &done["unverified_fields"]), (&json!([]), &json!([])));
    let v = &done["verifications"]["email_address"];
    assert_eq!((&v["status"], &v["attempts"], &v["next_action"]), (&json!("verified"), &json!(2), &json!("")));
    let user_id = done["created_user_id"].as_str().expect("created_user_id").to_owned();
    let session_id = done["created_session_id"].as_str().expect("created_session_id").to_owned();
    assert_eq!(get(&app, &sid).await, done);

    // The user has what the sign-up collected.
    let u = app.get(&format!("/v1/users/{user_id}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][0]["email_address"], "ada@example.com");
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(u["email_addresses"][0]["verification"]["strategy"], "email_code");
    assert_eq!(u["primary_email_address_id"], u["email_addresses"][0]["id"]);
    assert_eq!((&u["first_name"], &u["last_name"]), (&json!("Ada"), &json!("Lovelace")));
    assert_eq!((&u["external_id"], &u["unsafe_metadata"]), (&json!("ext_ada"), &json!({ "plan": "pro" })));
    assert_eq!((&u["legal_accepted_at"], &u["locale"]), (&json!(T0), &json!("en-GB")));
    assert_eq!(u["password_enabled"], true);
    app.post(&format!("/v1/users/{user_id}/verify_password"), json!({ "password": PASSWORD }))
        .send()
        .await
        .assert_status(200);

    // The session is active and mints tokens for the user.
    let sess = app.get(&format!("/v1/sessions/{session_id}")).send().await.assert_status(200).json;
    assert_eq!((&sess["status"], &sess["user_id"]), (&json!("active"), &json!(user_id)));
    let (_, claims) = decode(&mint(&app, &session_id, json!({})).await);
    assert_eq!((&claims["sub"], &claims["sid"]), (&json!(user_id), &json!(session_id)));

    let users = events_of(&app, "user.created").await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["data"]["id"], user_id.as_str());
    let sessions = events_of(&app, "session.created").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["data"]["id"], session_id.as_str());

    // A complete sign-up is final.
    prepare(&app, &sid, "email_code").await.assert_error(403, "sign_up_cannot_be_updated", None);
    attempt(&app, &sid, "email_code", &code).await.assert_error(403, "sign_up_cannot_be_updated", None);
    app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "external_id": "other" })).send().await.assert_error(
        403,
        "sign_up_cannot_be_updated",
        None,
    );
    assert_eq!(get(&app, &sid).await, done);
}

#[tokio::test]
async fn missing_and_unverified_fields_follow_the_settings() {
    let app = TestApp::with_clock(T0).await;
    let s = created(&app, json!({ "first_name": "Grace" })).await;
    assert_eq!(s["missing_fields"], json!(["email_address", "password"]));
    assert_eq!((&s["unverified_fields"], &s["password_enabled"]), (&json!([]), &json!(false)));
    assert_eq!(s["verifications"]["email_address"], json!(null));

    settings(&app, &["phone_number", "username"], &["email_address", "first_name"], false).await;
    let s = get(&app, &id(&s)).await;
    assert_eq!(s["required_fields"], json!(["phone_number", "username"]));
    assert_eq!(s["missing_fields"], json!(["phone_number", "username"]));
    let s = created(&app, json!({ "phone_number": "+1 (555) 555-0100", "email_address": "g@example.com" })).await;
    assert_eq!(s["phone_number"], "+15555550100");
    assert_eq!(s["missing_fields"], json!(["username"]));
    assert_eq!(s["unverified_fields"], json!(["email_address", "phone_number"]));
    assert_eq!(s["verifications"]["phone_number"]["strategy"], "phone_code");
    // Attributes the instance does not collect are refused.
    create(&app, json!({ "phone_number": "+15555550101", "password": PASSWORD })).await.assert_error(
        422,
        "form_param_unknown",
        Some("password"),
    );
    create(&app, json!({ "last_name": "Hopper" })).await.assert_error(422, "form_param_unknown", Some("last_name"));
}

#[tokio::test]
async fn a_sign_up_that_lacks_nothing_converts_at_once() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["username", "password"], &[], false).await;
    let s = created(&app, json!({ "username": "Grace_H", "password": PASSWORD })).await;
    assert_eq!(s["status"], "complete");
    let u = app.get(&format!("/v1/users/{}", s["created_user_id"].as_str().unwrap())).send().await.json;
    assert_eq!((&u["username"], &u["email_addresses"]), (&json!("Grace_H"), &json!([])));
    // The username is now taken, whatever its case.
    create(&app, json!({ "username": "grace_h", "password": PASSWORD })).await.assert_error(
        422,
        "form_identifier_exists",
        Some("username"),
    );
}

#[tokio::test]
async fn phone_code_verifies_the_phone_number() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["phone_number"], &["first_name"], false).await;
    let sid = id(&created(&app, json!({ "phone_number": "+15555550100" })).await);
    prepare(&app, &sid, "email_code").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    attempt(&app, &sid, "phone_code", "123456").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    prepare(&app, &sid, "phone_code").await.assert_status(200);
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "+15555550100");
    let done = attempt(&app, &sid, "phone_code", &code).await.assert_status(200).json;
    assert_eq!(done["status"], "complete");
    let u = app.get(&format!("/v1/users/{}", done["created_user_id"].as_str().unwrap())).send().await.json;
    assert_eq!(u["phone_numbers"][0]["phone_number"], "+15555550100");
    assert_eq!(u["phone_numbers"][0]["verification"]["strategy"], "phone_code");
    assert_eq!(u["password_enabled"], false);
}

#[tokio::test]
async fn codes_fail_after_five_wrong_attempts_and_expire() {
    let app = TestApp::with_clock(T0).await;
    let (sid, code) = prepared(&app, "limits@example.com").await;
    for _ in 0..4 {
        attempt(&app, &sid, "email_code", &wrong(&code)).await.assert_error(422, "form_code_incorrect", Some("code"));
    }
    attempt(&app, &sid, "email_code", &wrong(&code)).await.assert_error(422, "verification_failed", None);
    // Even the right code is refused now, and the attempt is not counted.
    attempt(&app, &sid, "email_code", &code).await.assert_error(422, "verification_failed", None);
    let v = get(&app, &sid).await["verifications"]["email_address"].clone();
    assert_eq!(
        (&v["status"], &v["attempts"], &v["next_action"]),
        (&json!("failed"), &json!(5), &json!("needs_prepare"))
    );
    // A new code starts over.
    prepare(&app, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(600_000);
    attempt(&app, &sid, "email_code", &code).await.assert_error(422, "verification_expired", None);
    attempt(&app, &sid, "email_code", &code).await.assert_error(422, "verification_expired", None);
    let s = get(&app, &sid).await;
    assert_eq!(s["verifications"]["email_address"]["status"], "expired");
    assert_eq!(s["status"], "missing_requirements");
    prepare(&app, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    assert_eq!(attempt(&app, &sid, "email_code", &code).await.assert_status(200).json["status"], "complete");
}

#[tokio::test]
async fn identifiers_users_hold_are_refused() {
    let app = TestApp::with_clock(T0).await;
    create_user(&app, json!({ "email_address": ["taken@example.com"], "username": "taken_name", "external_id": "x1" }))
        .await;
    create(&app, json!({ "email_address": "TAKEN@example.com", "password": PASSWORD })).await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    create(&app, json!({ "email_address": "free@example.com", "password": PASSWORD, "username": "Taken_Name" }))
        .await
        .assert_error(422, "form_identifier_exists", Some("username"));
    create(&app, json!({ "email_address": "free@example.com", "password": PASSWORD, "external_id": "x1" }))
        .await
        .assert_error(422, "form_identifier_exists", Some("external_id"));
    // The same rules as user creation.
    create(&app, json!({ "email_address": "not-an-address", "password": PASSWORD })).await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
    create(&app, json!({ "email_address": "free@example.com", "password": "short" })).await.assert_error(
        422,
        "form_password_length_too_short",
        Some("password"),
    );
    create(&app, json!({ "email_address": "free@example.com", "password": "Password123" })).await.assert_error(
        422,
        "form_password_pwned",
        Some("password"),
    );
    create(&app, json!({ "email_address": "free@example.com", "password": PASSWORD, "username": "+15555550100" }))
        .await
        .assert_error(422, "form_username_cannot_be_phone_number", Some("username"));
    create(&app, json!({ "emailAddress": "free@example.com" })).await.assert_error(
        422,
        "form_param_unknown",
        Some("emailAddress"),
    );

    // An address a user verifies while the sign-up waits: converting fails as a whole, nothing is half-written.
    let (sid, code) = prepared(&app, "race@example.com").await;
    create_user(&app, json!({ "email_address": ["race@example.com"] })).await;
    attempt(&app, &sid, "email_code", &code).await.assert_error(422, "form_identifier_exists", Some("email_address"));
    let s = get(&app, &sid).await;
    assert_eq!((&s["status"], &s["created_user_id"]), (&json!("missing_requirements"), &json!(null)));
    assert_eq!(s["verifications"]["email_address"]["attempts"], 0);
    let users = app.get("/v1/users?email_address=race@example.com").send().await.assert_status(200).json;
    assert_eq!(users.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn restrictions_apply_to_sign_ups() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).send().await.assert_status(200);
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "blocked.example" })).send().await.assert_status(200);
    create(&app, json!({ "email_address": "eve@blocked.example", "password": PASSWORD })).await.assert_error(
        422,
        "not_allowed_access",
        Some("email_address"),
    );
    // Blocked after the sign-up started: it cannot complete.
    let (sid, code) = prepared(&app, "mallory@example.com").await;
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "mallory@example.com" }))
        .send()
        .await
        .assert_status(200);
    attempt(&app, &sid, "email_code", &code).await.assert_error(422, "not_allowed_access", Some("email_address"));
    assert_eq!(get(&app, &sid).await["status"], "missing_requirements");
}

#[tokio::test]
async fn custom_action_set_through_update_sign_up_converts() {
    let app = TestApp::with_clock(T0).await;
    settings(&app, &["email_address", "password"], &["first_name"], true).await;
    let (sid, code) = prepared(&app, "custom@example.com").await;
    let s = attempt(&app, &sid, "email_code", &code).await.assert_status(200).json;
    // Verified, nothing missing, but the custom action has not run: no field says so (Clerk has none).
    assert_eq!(s["status"], "missing_requirements");
    assert_eq!((&s["missing_fields"], &s["unverified_fields"]), (&json!([]), &json!([])));
    assert_eq!(events_of(&app, "user.created").await.len(), 0);
    let s = app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": false })).send().await;
    assert_eq!(s.assert_status(200).json["status"], "missing_requirements");
    let s = app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": true })).send().await;
    let s = s.assert_status(200).json;
    assert_eq!((&s["status"], &s["custom_action"]), (&json!("complete"), &json!(true)));
    let user_id = s["created_user_id"].as_str().unwrap();
    app.get(&format!("/v1/users/{user_id}")).send().await.assert_status(200);
    assert_eq!(events_of(&app, "user.created").await.len(), 1);
    app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": true })).send().await.assert_error(
        403,
        "sign_up_cannot_be_updated",
        None,
    );
}

#[tokio::test]
async fn external_id_set_through_update_sign_up_is_copied_to_the_user() {
    let app = TestApp::with_clock(T0).await;
    let (sid, code) = prepared(&app, "ext@example.com").await;
    let path = format!("/v1/sign_ups/{sid}");
    let s = app.patch(&path, json!({ "external_id": "ext_1" })).send().await.assert_status(200).json;
    assert_eq!((&s["external_id"], &s["status"]), (&json!("ext_1"), &json!("missing_requirements")));
    let s = app.patch(&path, json!({ "external_id": null, "custom_action": null })).send().await.assert_status(200);
    assert_eq!((&s.json["external_id"], &s.json["custom_action"]), (&json!(null), &json!(false)));
    app.patch(&path, json!({})).send().await.assert_status(200);
    app.patch(&path, json!({ "external_id": 7 })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("external_id"),
    );
    create_user(&app, json!({ "external_id": "ext_taken" })).await;
    app.patch(&path, json!({ "external_id": "ext_taken" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("external_id"),
    );
    app.patch(&path, json!({ "external_id": "ext_2" })).send().await.assert_status(200);
    let done = attempt(&app, &sid, "email_code", &code).await.assert_status(200).json;
    let u = app.get(&format!("/v1/users/{}", done["created_user_id"].as_str().unwrap())).send().await.json;
    assert_eq!(u["external_id"], "ext_2");
}

#[tokio::test]
async fn sign_ups_are_abandoned_after_24_hours() {
    let app = TestApp::with_clock(T0).await;
    let (sid, code) = prepared(&app, "late@example.com").await;
    app.clock.advance_ms(86_400_000 - 1);
    assert_eq!(get(&app, &sid).await["status"], "missing_requirements");
    app.clock.advance_ms(1);
    let s = get(&app, &sid).await;
    assert_eq!((&s["status"], &s["abandon_at"]), (&json!("abandoned"), &json!(T0 + 86_400_000)));
    app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": true })).send().await.assert_error(
        403,
        "sign_up_cannot_be_updated",
        None,
    );
    prepare(&app, &sid, "email_code").await.assert_error(403, "sign_up_cannot_be_updated", None);
    attempt(&app, &sid, "email_code", &code).await.assert_error(403, "sign_up_cannot_be_updated", None);
    assert_eq!(get(&app, &sid).await, s);
}

#[tokio::test]
async fn bad_requests_and_unknown_ids() {
    let app = TestApp::with_clock(T0).await;
    for path in ["/v1/sign_ups/sua_unknown", "/v1/sign_ups/user_x"] {
        app.get(path).send().await.assert_error(404, "resource_not_found", None);
        app.patch(path, json!({ "custom_action": true })).send().await.assert_error(404, "resource_not_found", None);
        app.post(&format!("{path}/prepare_verification"), json!({ "strategy": "email_code" }))
            .send()
            .await
            .assert_error(404, "resource_not_found", None);
        app.post(&format!("{path}/attempt_verification"), json!({ "strategy": "email_code", "code": "123456" }))
            .send()
            .await
            .assert_error(404, "resource_not_found", None);
    }
    let sid = id(&created(&app, json!({ "email_address": "bad@example.com" })).await);
    prepare(&app, &sid, "").await.assert_error(422, "form_param_missing", Some("strategy"));
    prepare(&app, &sid, "email_link").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    attempt(&app, &sid, "email_code", "123456").await.assert_error(422, "form_param_value_invalid", Some("strategy"));
    attempt(&app, &sid, "email_code", " ").await.assert_error(422, "form_param_missing", Some("code"));
    prepare(&app, &sid, "email_code").await.assert_status(200);
    let (code, _) = last_code(&app).await;
    // Not complete (no password), but the address is verified.
    let s = attempt(&app, &sid, "email_code", &code).await.assert_status(200).json;
    assert_eq!((&s["status"], &s["missing_fields"]), (&json!("missing_requirements"), &json!(["password"])));
    attempt(&app, &sid, "email_code", &code).await.assert_error(400, "verification_already_verified", None);
    prepare(&app, &sid, "email_code").await.assert_error(400, "verification_already_verified", None);
    // No secret key, no sign-up.
    app.post("/v1/sign_ups", json!({})).anonymous().send().await.assert_status(401);
    app.get(&format!("/v1/sign_ups/{sid}")).anonymous().send().await.assert_status(401);
}

#[tokio::test]
async fn another_instance_cannot_reach_a_sign_up() {
    let app = TestApp::with_clock(T0).await;
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let (sid, code) = prepared(&app, "iso@example.com").await;
    let before = get(&app, &sid).await;
    let path = format!("/v1/sign_ups/{sid}");
    app.get(&path).bearer(&key_b).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "custom_action": true, "external_id": "b" })).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("{path}/prepare_verification"), json!({ "strategy": "email_code" }))
        .bearer(&key_b)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    app.post(&format!("{path}/attempt_verification"), json!({ "strategy": "email_code", "code": code }))
        .bearer(&key_b)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    assert_eq!(get(&app, &sid).await, before);
    // B's own sign-up with the same address is its own.
    let b = app.post("/v1/sign_ups", json!({ "email_address": "iso@example.com" })).bearer(&key_b).send().await;
    assert_ne!(id(&b.assert_status(200).json), sid);
}
