//! The signed-in user's own email addresses and phone numbers: add, list, read, verify with a code (the test code
//! 424242 for test identifiers; a real code from the outbox otherwise), second-factor phones, delete; another
//! user's identification is unknown; instance settings decide whether phone numbers may be added.

use serde_json::json;
use tessera_testkit::TestApp;

use crate::me::signed_in;
use crate::{T0, events_of};

fn id(v: &serde_json::Value) -> String {
    v["response"]["id"].as_str().unwrap().to_owned()
}

async fn last_code(app: &TestApp) -> (String, String) {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    let code: String = m.subject.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "subject: {}", m.subject);
    (code, m.recipient.clone())
}

#[tokio::test]
async fn a_user_adds_and_verifies_an_email_address() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    let before = events_of(&app, "user.updated").await.len();

    let r = b.post("/v1/me/email_addresses", &[("email_address", "Ada.Work+clerk_test@Example.com")]).send().await;
    let r = r.assert_status(200).json;
    let email = id(&r);
    assert_eq!(r["response"]["email_address"], "ada.work+clerk_test@example.com");
    assert_eq!(r["response"]["verification"], json!(null));
    assert_eq!(r["client"]["sessions"][0]["user"]["email_addresses"].as_array().unwrap().len(), 2);
    assert_eq!(events_of(&app, "user.updated").await.len(), before + 1);

    // Listed (bare, as the spec answers it) and readable.
    let list = b.get("/v1/me/email_addresses").send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 2);
    b.get(&format!("/v1/me/email_addresses/{email}")).send().await.assert_status(200);

    // Verifying: the code first has to be sent; wrong codes are refused and counted.
    let attempt = format!("/v1/me/email_addresses/{email}/attempt_verification");
    b.post(&attempt, &[("code", "424242")]).send().await.assert_error(422, "verification_missing", Some("code"));
    let prepare = format!("/v1/me/email_addresses/{email}/prepare_verification");
    b.post(&prepare, &[]).send().await.assert_error(422, "form_param_missing", Some("strategy"));
    b.post(&prepare, &[("strategy", "email_link")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("strategy"),
    );
    let r = b.post(&prepare, &[("strategy", "email_code")]).send().await.assert_status(200).json;
    assert_eq!(r["response"]["verification"]["status"], "unverified");
    assert_eq!(r["response"]["verification"]["strategy"], "email_code");
    b.post(&attempt, &[]).send().await.assert_error(422, "form_param_missing", Some("code"));
    b.post(&attempt, &[("code", "111111")]).send().await.assert_error(422, "form_code_incorrect", Some("code"));
    let r = b.post(&attempt, &[("code", "424242")]).send().await.assert_status(200).json;
    assert_eq!(r["response"]["verification"]["status"], "verified");
    assert_eq!(r["response"]["verification"]["attempts"], 2);
    b.post(&prepare, &[("strategy", "email_code")]).send().await.assert_error(422, "form_param_value_invalid", None);

    // The Backend API sees the same address, verified; the user can make it primary.
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][1]["verification"]["status"], "verified");
    let r = b.patch("/v1/me", &[("primary_email_address_id", &email)]).send().await.assert_status(200).json;
    assert_eq!(r["response"]["primary_email_address_id"], email.as_str());

    // Taken addresses: the user's own, and one another user verified.
    b.post("/v1/me/email_addresses", &[("email_address", "ada+clerk_test@example.com")]).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    app.post("/v1/users", json!({ "email_address": ["grace@example.com"] })).send().await.assert_status(200);
    b.post("/v1/me/email_addresses", &[("email_address", "grace@example.com")]).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    b.post("/v1/me/email_addresses", &[("email_address", "not an address")]).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
    b.post("/v1/me/email_addresses", &[]).send().await.assert_error(422, "form_param_missing", Some("email_address"));

    // Delete: the primary moves to the remaining one.
    let r = b.delete(&format!("/v1/me/email_addresses/{email}")).send().await.assert_status(200).json;
    assert_eq!(r["response"], json!({ "object": "email_address", "id": email, "deleted": true }));
    assert_eq!(r["client"]["sessions"][0]["user"]["email_addresses"].as_array().unwrap().len(), 1);
    b.get(&format!("/v1/me/email_addresses/{email}")).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn a_real_address_gets_a_real_code() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, _user) = signed_in(&app, "ada+clerk_test@example.com").await;
    let r = b.post("/v1/me/email_addresses", &[("email_address", "ada@example.org")]).send().await;
    let email = id(&r.assert_status(200).json);
    b.post(&format!("/v1/me/email_addresses/{email}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_status(200);
    let (code, to) = last_code(&app).await;
    assert_eq!(to, "ada@example.org");
    let attempt = format!("/v1/me/email_addresses/{email}/attempt_verification");
    // The test code is no code for a real address.
    if code != "424242" {
        b.post(&attempt, &[("code", "424242")]).send().await.assert_error(422, "form_code_incorrect", Some("code"));
    }
    let r = b.post(&attempt, &[("code", &code)]).send().await.assert_status(200).json;
    assert_eq!(r["response"]["verification"]["status"], "verified");
    // An expired code.
    let r = b.post("/v1/me/email_addresses", &[("email_address", "ada@example.net")]).send().await;
    let other = id(&r.assert_status(200).json);
    b.post(&format!("/v1/me/email_addresses/{other}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_status(200);
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(11 * 60 * 1000);
    b.post(&format!("/v1/me/email_addresses/{other}/attempt_verification"), &[("code", &code)])
        .send()
        .await
        .assert_error(422, "verification_expired", None);
}

#[tokio::test]
async fn another_users_identifications_are_unknown() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, _user) = signed_in(&app, "ada+clerk_test@example.com").await;
    let u = app
        .post("/v1/users", json!({ "email_address": ["grace@example.com"], "phone_number": ["+12015550123"] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let email = u["email_addresses"][0]["id"].as_str().unwrap();
    let phone = u["phone_numbers"][0]["id"].as_str().unwrap();
    b.get(&format!("/v1/me/email_addresses/{email}")).send().await.assert_error(404, "resource_not_found", None);
    b.delete(&format!("/v1/me/email_addresses/{email}")).send().await.assert_error(404, "resource_not_found", None);
    b.post(&format!("/v1/me/email_addresses/{email}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    b.get(&format!("/v1/me/phone_numbers/{phone}")).send().await.assert_error(404, "resource_not_found", None);
    b.patch(&format!("/v1/me/phone_numbers/{phone}"), &[("reserved_for_second_factor", "true")])
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    // An email address id is no phone number id.
    let mine = b.get("/v1/me/email_addresses").send().await.assert_status(200).json;
    let mine = mine[0]["id"].as_str().unwrap();
    b.get(&format!("/v1/me/phone_numbers/{mine}")).send().await.assert_error(404, "resource_not_found", None);
    // Signed out: 401.
    let stranger = app.browser().await;
    stranger.get("/v1/me/email_addresses").send().await.assert_error(401, "signed_out", None);
    // Still there.
    app.get(&format!("/v1/users/{}", u["id"].as_str().unwrap())).send().await.assert_status(200);
}

#[tokio::test]
async fn a_user_adds_a_phone_number_and_makes_it_a_second_factor() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    b.post("/v1/me/phone_numbers", &[("phone_number", "+12015550100"), ("reserved_for_second_factor", "true")])
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("reserved_for_second_factor"));
    let r = b.post("/v1/me/phone_numbers", &[("phone_number", "+12015550100")]).send().await.assert_status(200).json;
    let phone = id(&r);
    assert_eq!(r["response"]["phone_number"], "+12015550100");
    assert_eq!(r["response"]["reserved_for_second_factor"], false);
    assert_eq!(b.get("/v1/me/phone_numbers").send().await.assert_status(200).json.as_array().unwrap().len(), 1);
    let path = format!("/v1/me/phone_numbers/{phone}");
    // Only a verified number can be a second factor.
    // (The spec declares 400, not 422, for these two operations' bad requests.)
    b.patch(&path, &[("reserved_for_second_factor", "true")]).send().await.assert_error(
        400,
        "bad_request",
        Some("reserved_for_second_factor"),
    );
    b.patch(&path, &[("default_second_factor", "true")]).send().await.assert_error(
        400,
        "bad_request",
        Some("default_second_factor"),
    );
    b.patch(&path, &[("reserved_for_second_factor", "yes")]).send().await.assert_error(
        400,
        "bad_request",
        Some("reserved_for_second_factor"),
    );
    b.post(&format!("{path}/prepare_verification"), &[("strategy", "email_code")]).send().await.assert_error(
        400,
        "bad_request",
        Some("strategy"),
    );
    let r = b.post(&format!("{path}/prepare_verification"), &[("strategy", "phone_code")]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["verification"]["strategy"], "phone_code");
    let r = b.post(&format!("{path}/attempt_verification"), &[("code", "424242")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["verification"]["status"], "verified");
    let r = b.patch(&path, &[("reserved_for_second_factor", "true")]).send().await.assert_status(200).json;
    assert_eq!(
        (&r["response"]["reserved_for_second_factor"], &r["response"]["default_second_factor"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(r["client"]["sessions"][0]["user"]["two_factor_enabled"], true);
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["two_factor_enabled"], true);

    // A second one becomes the default.
    let r = b.post("/v1/me/phone_numbers", &[("phone_number", "+12015550101")]).send().await.assert_status(200);
    let second = id(&r.json);
    let p2 = format!("/v1/me/phone_numbers/{second}");
    b.post(&format!("{p2}/prepare_verification"), &[("strategy", "phone_code")]).send().await.assert_status(200);
    b.post(&format!("{p2}/attempt_verification"), &[("code", "424242")]).send().await.assert_status(200);
    b.patch(&p2, &[("reserved_for_second_factor", "true")]).send().await.assert_status(200);
    let r = b.patch(&p2, &[("default_second_factor", "true")]).send().await.assert_status(200).json;
    assert_eq!(r["response"]["default_second_factor"], true);
    let first = b.get(&path).send().await.assert_status(200).json;
    assert_eq!(first["response"]["default_second_factor"], false);

    let r = b.delete(&p2).send().await.assert_status(200).json;
    assert_eq!(r["response"], json!({ "object": "phone_number", "id": second, "deleted": true }));
    let first = b.get(&path).send().await.assert_status(200).json;
    assert_eq!(first["response"]["default_second_factor"], true, "the remaining second factor is the default");

    // Bad numbers, taken numbers.
    b.post("/v1/me/phone_numbers", &[("phone_number", "call me")]).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("phone_number"),
    );
    b.post("/v1/me/phone_numbers", &[("phone_number", "+12015550100")]).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("phone_number"),
    );
}

#[tokio::test]
async fn phone_numbers_follow_the_instance_settings() {
    let app = TestApp::with_clock(T0).await;
    let (b, _sess, _user) = signed_in(&app, "ada+clerk_test@example.com").await;
    // Clerk sets the sign-up attributes in its dashboard; the Backend API has no operation for them.
    let mut s = tessera_core::settings::sign_up_settings(app.ctx(), &app.instance.id).await.unwrap();
    s.optional_fields.retain(|f| f != "phone_number");
    tessera_core::settings::store_sign_up_settings(app.ctx(), &app.instance, s).await.unwrap();
    b.post("/v1/me/phone_numbers", &[("phone_number", "+12015550100")]).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("phone_number"),
    );
}
