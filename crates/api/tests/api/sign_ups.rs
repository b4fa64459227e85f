//! GetSignUp and UpdateSignUp on the attempts browsers make through the Frontend API (`POST /v1/client/sign_ups`;
//! the flow itself is tested in the frontend crate): the attempt as the Backend API shows it, custom action,
//! external id, terminal states, errors, isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_core::settings::SignUpSettings;
use tessera_testkit::{TestApp, TestBrowser};

use crate::events_of;
use crate::users::{T0, create_user};

const PASSWORD: &str = "correct horse battery";

async fn get(app: &TestApp, sign_up: &str) -> Value {
    app.get(&format!("/v1/sign_ups/{sign_up}")).send().await.assert_status(200).json
}

/// A browser's email + password sign-up (a test address: its code is 424242) with its code sent; returns its id.
async fn prepared(b: &TestBrowser<'_>, email: &str) -> String {
    let r = b.post("/v1/client/sign_ups", &[("email_address", email), ("password", PASSWORD)]).send().await;
    let sid = r.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    b.post(&format!("/v1/client/sign_ups/{sid}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_status(200);
    sid
}

async fn verify(b: &TestBrowser<'_>, sid: &str) -> Value {
    let path = format!("/v1/client/sign_ups/{sid}/attempt_verification");
    b.post(&path, &[("strategy", "email_code"), ("code", "424242")]).send().await.assert_status(200).json
}

#[tokio::test]
async fn the_backend_api_reads_a_browser_sign_up() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let r = b
        .post(
            "/v1/client/sign_ups",
            &[
                ("email_address", "Ada+clerk_test@Example.COM"),
                ("password", PASSWORD),
                ("first_name", "Ada"),
                ("unsafe_metadata", r#"{"plan":"pro"}"#),
                ("legal_accepted", "true"),
                ("locale", "en-GB"),
            ],
        )
        .send()
        .await
        .assert_status(200);
    let sid = r.json["response"]["id"].as_str().unwrap().to_owned();
    let s = get(&app, &sid).await;
    assert_eq!((&s["object"], &s["status"]), (&json!("sign_up_attempt"), &json!("missing_requirements")));
    assert_eq!(s["email_address"], "ada+clerk_test@example.com");
    assert_eq!((&s["unverified_fields"], &s["missing_fields"]), (&json!(["email_address"]), &json!([])));
    assert_eq!(
        s["verifications"]["email_address"],
        // The first code went out with the sign-up.
        json!({ "object": "verification", "status": "unverified", "strategy": "email_code", "attempts": 0,
                "expire_at": T0 + 600_000, "next_action": "needs_attempt", "supported_strategies": ["email_code"] })
    );
    assert_eq!((&s["first_name"], &s["unsafe_metadata"]), (&json!("Ada"), &json!({ "plan": "pro" })));
    assert_eq!((&s["legal_accepted_at"], &s["locale"]), (&json!(T0), &json!("en-GB")));
    assert_eq!((&s["external_id"], &s["custom_action"]), (&json!(null), &json!(false)));

    b.post(&format!("/v1/client/sign_ups/{sid}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_status(200);
    let done = verify(&b, &sid).await;
    let s = get(&app, &sid).await;
    assert_eq!((&s["status"], &s["created_user_id"]), (&json!("complete"), &done["response"]["created_user_id"]));
    assert_eq!(s["created_session_id"], done["client"]["last_active_session_id"]);
    let sess = app.get(&format!("/v1/sessions/{}", s["created_session_id"].as_str().unwrap())).send().await;
    assert_eq!(sess.assert_status(200).json["client_id"], done["client"]["id"]);
    // A complete sign-up is final.
    app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "external_id": "other" })).send().await.assert_error(
        403,
        "sign_up_cannot_be_updated",
        None,
    );
}

#[tokio::test]
async fn custom_action_set_through_update_sign_up_converts_onto_the_browser() {
    let app = TestApp::with_clock(T0).await;
    let s = SignUpSettings {
        required_fields: vec!["email_address".into(), "password".into()],
        optional_fields: vec!["first_name".into()],
        custom_action_required: true,
        legal_consent_required: false,
    };
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
    let b = app.browser().await;
    let sid = prepared(&b, "custom+clerk_test@example.com").await;
    let s = verify(&b, &sid).await["response"].clone();
    // Verified, nothing missing, but the custom action has not run: no field says so (Clerk has none).
    assert_eq!(s["status"], "missing_requirements");
    assert_eq!((&s["missing_fields"], &s["unverified_fields"]), (&json!([]), &json!([])));
    assert_eq!(events_of(&app, "user.created").await.len(), 0);
    let s = app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": false })).send().await;
    assert_eq!(s.assert_status(200).json["status"], "missing_requirements");
    let s = app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": true })).send().await;
    let s = s.assert_status(200).json;
    assert_eq!((&s["status"], &s["custom_action"]), (&json!("complete"), &json!(true)));
    assert_eq!(events_of(&app, "user.created").await.len(), 1);
    assert_eq!(events_of(&app, "session.created").await.len(), 1);
    // The session opened on the browser's client: the browser is signed in.
    let c = b.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(c["response"]["last_active_session_id"], s["created_session_id"]);
    assert_eq!(c["response"]["sessions"][0]["user"]["id"], s["created_user_id"]);
    app.patch(&format!("/v1/sign_ups/{sid}"), json!({ "custom_action": true })).send().await.assert_error(
        403,
        "sign_up_cannot_be_updated",
        None,
    );
}

#[tokio::test]
async fn external_id_set_through_update_sign_up_is_copied_to_the_user() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let sid = prepared(&b, "ext+clerk_test@example.com").await;
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
    let done = verify(&b, &sid).await;
    let u = app.get(&format!("/v1/users/{}", done["response"]["created_user_id"].as_str().unwrap())).send().await;
    assert_eq!(u.json["external_id"], "ext_2");
}

#[tokio::test]
async fn sign_ups_are_abandoned_after_24_hours() {
    let app = TestApp::with_clock(T0).await;
    let b = app.browser().await;
    let sid = prepared(&b, "late+clerk_test@example.com").await;
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
    assert_eq!(get(&app, &sid).await, s);
}

#[tokio::test]
async fn unknown_ids_and_the_removed_stand_in_endpoints() {
    let app = TestApp::with_clock(T0).await;
    for path in ["/v1/sign_ups/sua_unknown", "/v1/sign_ups/user_x"] {
        app.get(path).send().await.assert_error(404, "resource_not_found", None);
        app.patch(path, json!({ "custom_action": true })).send().await.assert_error(404, "resource_not_found", None);
    }
    // Sign-ups are made by browsers now: the secret-key stand-ins are gone.
    let b = app.browser().await;
    let sid = prepared(&b, "gone+clerk_test@example.com").await;
    assert_eq!(app.post("/v1/sign_ups", json!({ "email_address": "x@example.com" })).send().await.status, 404);
    for op in ["prepare_verification", "attempt_verification"] {
        let r = app.post(&format!("/v1/sign_ups/{sid}/{op}"), json!({ "strategy": "email_code" })).send().await;
        assert!(r.status == 404 || r.status == 405, "{op}: {}", r.status);
    }
    assert_eq!(get(&app, &sid).await["status"], "missing_requirements");
    app.get(&format!("/v1/sign_ups/{sid}")).anonymous().send().await.assert_status(401);
}

#[tokio::test]
async fn another_instance_cannot_reach_a_sign_up() {
    let app = TestApp::with_clock(T0).await;
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let b = app.browser().await;
    let sid = prepared(&b, "iso+clerk_test@example.com").await;
    let before = get(&app, &sid).await;
    let path = format!("/v1/sign_ups/{sid}");
    app.get(&path).bearer(&key_b).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "custom_action": true, "external_id": "b" })).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    assert_eq!(get(&app, &sid).await, before);
}
