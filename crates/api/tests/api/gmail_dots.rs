//! The `ignore_dots_for_gmail_addresses` restriction: accepted by `PATCH /v1/instance/restrictions` and returned in
//! the restrictions object; with it on, dots in the local part of a gmail.com / googlemail.com address do not make
//! a new identifier (users, e-mail addresses, verification, invitations) and do not escape the allow- and
//! block-lists. Rows written before the switch was turned on compare the same way.

use serde_json::json;
use tessera_testkit::TestApp;

async fn user(app: &TestApp, email: &str) -> String {
    let r = app.post("/v1/users", json!({ "email_address": [email] })).send().await.assert_status(200);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn ignore_dots(app: &TestApp, on: bool) {
    let r = app
        .patch("/v1/instance/restrictions", json!({ "ignore_dots_for_gmail_addresses": on }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["ignore_dots_for_gmail_addresses"], on);
}

#[tokio::test]
async fn the_switch_is_accepted_returned_and_off_by_default() {
    let app = TestApp::new().await;
    let r = app.patch("/v1/instance/restrictions", json!({})).send().await.assert_status(200);
    assert_eq!(r.json["ignore_dots_for_gmail_addresses"], false);
    ignore_dots(&app, true).await;
    // Other changes leave it as it is; null leaves it unchanged.
    let r = app
        .patch("/v1/instance/restrictions", json!({ "blocklist": true, "ignore_dots_for_gmail_addresses": null }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(
        (r.json["blocklist"].clone(), r.json["ignore_dots_for_gmail_addresses"].clone()),
        (json!(true), json!(true))
    );
    app.patch("/v1/instance/restrictions", json!({ "ignore_dots_for_gmail_addresses": "yes" }))
        .send()
        .await
        .assert_error(422, "form_param_format_invalid", Some("ignore_dots_for_gmail_addresses"));
    // Another instance keeps its own value.
    let (_, other) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let r = app.patch("/v1/instance/restrictions", json!({})).bearer(&other).send().await.assert_status(200);
    assert_eq!(r.json["ignore_dots_for_gmail_addresses"], false);
}

#[tokio::test]
async fn dotted_gmail_variants_are_one_identifier_when_dots_are_ignored() {
    let app = TestApp::new().await;
    // Written before the switch: compared all the same once it is on.
    let john = user(&app, "john@gmail.com").await;
    // Off: a dotted variant is another address.
    let twin = user(&app, "j.ohn@gmail.com").await;
    app.delete(&format!("/v1/users/{twin}")).send().await.assert_status(200);

    ignore_dots(&app, true).await;
    for variant in ["j.o.h.n@gmail.com", "J.O.H.N@GMAIL.COM", "john@gmail.com"] {
        app.post("/v1/users", json!({ "email_address": [variant] })).send().await.assert_error(
            422,
            "form_identifier_exists",
            Some("email_address"),
        );
    }
    // Two variants in one request are one identifier too.
    app.post("/v1/users", json!({ "email_address": ["mary@gmail.com", "m.ary@gmail.com"] })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    // Only Gmail ignores dots, and only in the local part; googlemail.com is compared on its own.
    user(&app, "j.ohn@example.com").await;
    user(&app, "jo.hn@googlemail.com").await;
    app.post("/v1/users", json!({ "email_address": ["john@googlemail.com"] })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );

    // Adding a verified variant to another user, or verifying an unverified one, is refused the same way.
    let ann = user(&app, "ann@example.com").await;
    app.post("/v1/email_addresses", json!({ "user_id": ann, "email_address": "jo.hn@gmail.com", "verified": true }))
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("email_address"));
    let unverified = app
        .post("/v1/email_addresses", json!({ "user_id": ann, "email_address": "jo.hn@gmail.com", "verified": false }))
        .send()
        .await
        .assert_status(200);
    let id = unverified.json["id"].as_str().unwrap();
    // (UpdateEmailAddress declares 400 for client errors.)
    app.patch(&format!("/v1/email_addresses/{id}"), json!({ "verified": true })).send().await.assert_error(
        400,
        "bad_request",
        Some("email_address"),
    );
    // Replacing a user's address with a variant (PUT …/email_address) too.
    app.put(&format!("/v1/users/{ann}/email_address"), json!({ "email_address": "Jo.hn@gmail.com" }))
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("email_address"));
    // An invitation to a variant of a user's address is refused as for the address itself.
    app.post("/v1/invitations", json!({ "email_address": "j.o.hn@gmail.com", "notify": false }))
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("email_address"));

    // The owner keeps the address; once the switch is off again, variants are other addresses.
    assert_eq!(
        app.get(&format!("/v1/users/{john}")).send().await.json["email_addresses"][0]["email_address"],
        "john@gmail.com"
    );
    ignore_dots(&app, false).await;
    user(&app, "j.o.h.n@gmail.com").await;
}

#[tokio::test]
async fn the_lists_match_dotted_variants_when_dots_are_ignored() {
    let app = TestApp::new().await;
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "b.o.b@gmail.com" })).send().await.assert_status(200);
    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).send().await.assert_status(200);
    // Dots count: bob@gmail.com is not on the list.
    let bob = user(&app, "bob@gmail.com").await;
    app.delete(&format!("/v1/users/{bob}")).send().await.assert_status(200);

    ignore_dots(&app, true).await;
    for variant in ["bob@gmail.com", "bo.b+news@gmail.com"] {
        app.post("/v1/users", json!({ "email_address": [variant] })).send().await.assert_error(
            422,
            "not_allowed_access",
            Some("email_address"),
        );
    }
    // Other domains keep their dots.
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "c.arl@example.com" })).send().await.assert_status(200);
    user(&app, "carl@example.com").await;

    // The allow-list: an entry with dots lets the dotless address in.
    app.patch("/v1/instance/restrictions", json!({ "blocklist": false, "allowlist": true }))
        .send()
        .await
        .assert_status(200);
    app.post("/v1/allowlist_identifiers", json!({ "identifier": "a.lice@gmail.com", "notify": false }))
        .send()
        .await
        .assert_status(200);
    user(&app, "alice@gmail.com").await;
    app.post("/v1/users", json!({ "email_address": ["alicia@gmail.com"] })).send().await.assert_error(
        422,
        "not_allowed_access",
        Some("email_address"),
    );
    ignore_dots(&app, false).await;
    app.post("/v1/users", json!({ "email_address": ["al.ice@gmail.com"] })).send().await.assert_error(
        422,
        "not_allowed_access",
        Some("email_address"),
    );
}
