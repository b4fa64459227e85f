//! Invitations (instance level) and the Allow-list / Block-list with their enforcement.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

const T0: i64 = 1_750_000_000_000;
const DAY: i64 = 86_400_000;

async fn outbox_subjects(app: &TestApp) -> Vec<(String, String)> {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap();
    msgs.into_iter().map(|m| (m.recipient, m.body)).collect()
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn invitations_create_list_revoke_expire() {
    let app = TestApp::with_clock(T0).await;
    let inv = app
        .post(
            "/v1/invitations",
            json!({ "email_address": "Guest@Example.com", "public_metadata": { "plan": "pro" },
                    "redirect_url": "https://app.example.com/accept", "expires_in_days": 2 }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(inv["object"], "invitation");
    assert_eq!(inv["email_address"], "guest@example.com");
    assert_eq!((inv["status"].clone(), inv["revoked"].clone()), (json!("pending"), json!(false)));
    assert_eq!(inv["public_metadata"], json!({ "plan": "pro" }));
    assert_eq!(inv["expires_at"], T0 + 2 * DAY);
    // The link carries the invitation's ticket on the Frontend API (which leads on to the redirect URL).
    let url = inv["url"].as_str().unwrap();
    let prefix = format!("https://{}/v1/tickets/accept?ticket=ey", app.instance.frontend_host());
    assert!(url.starts_with(&prefix), "{url}");
    // notify defaults to true: the invitation e-mail is in the development outbox, with the link.
    let out = outbox_subjects(&app).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, "guest@example.com");
    assert!(out[0].1.contains(url));
    // A second pending invitation for the address is refused unless ignore_existing.
    app.post("/v1/invitations", json!({ "email_address": "guest@example.com" })).send().await.assert_error(
        400,
        "duplicate_record",
        Some("email_address"),
    );
    app.clock.advance_ms(1);
    let again = app
        .post(
            "/v1/invitations",
            json!({ "email_address": "guest@example.com", "ignore_existing": true, "notify": false }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(again["expires_at"], T0 + 1 + 30 * DAY);
    assert_eq!(outbox_subjects(&app).await.len(), 1, "notify: false sends nothing");

    let list = app.get("/v1/invitations").send().await.assert_status(200).json;
    assert_eq!(ids(&list), vec![again["id"].as_str().unwrap(), inv["id"].as_str().unwrap()]);
    let list = app.get("/v1/invitations?order_by=created_at&limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!(ids(&list), vec![again["id"].as_str().unwrap()]);
    let list = app.get("/v1/invitations?order_by=-email_address&limit=1").send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = app.get(&format!("/v1/invitations?query={}", inv["id"].as_str().unwrap())).send().await.json;
    assert_eq!(ids(&list), vec![inv["id"].as_str().unwrap()]);
    assert_eq!(app.get("/v1/invitations?query=GUEST").send().await.json.as_array().unwrap().len(), 2);
    assert_eq!(app.get("/v1/invitations?query=nobody").send().await.json, json!([]));

    // Revoke.
    let revoke = format!("/v1/invitations/{}/revoke", again["id"].as_str().unwrap());
    let r = app.post(&revoke, json!({})).send().await.assert_status(200).json;
    assert_eq!((r["status"].clone(), r["revoked"].clone()), (json!("revoked"), json!(true)));
    app.post(&revoke, json!({})).send().await.assert_error(400, "bad_request", None);
    app.post("/v1/invitations/inv_nope/revoke", json!({})).send().await.assert_error(404, "resource_not_found", None);
    // Expiry by the clock.
    app.clock.advance_ms(2 * DAY);
    let expired = app.get("/v1/invitations?status=expired").send().await.json;
    assert_eq!(ids(&expired), vec![inv["id"].as_str().unwrap()]);
    assert_eq!(expired[0]["status"], "expired");
    assert_eq!(ids(&app.get("/v1/invitations?status=revoked").send().await.json), vec![again["id"].as_str().unwrap()]);
    assert_eq!(app.get("/v1/invitations?status=pending").send().await.json, json!([]));
    let rev = format!("/v1/invitations/{}/revoke", inv["id"].as_str().unwrap());
    app.post(&rev, json!({})).send().await.assert_error(400, "bad_request", None);
    // An expired invitation no longer blocks a new one.
    app.post("/v1/invitations", json!({ "email_address": "guest@example.com", "notify": false }))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn invitation_errors_bulk_and_isolation() {
    let app = TestApp::new().await;
    let post = |body| app.post("/v1/invitations", body);
    post(json!({})).send().await.assert_error(422, "form_param_missing", Some("email_address"));
    post(json!({ "email_address": "bad" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("email_address"),
    );
    post(json!({ "email_address": "a@example.com", "expires_in_days": 0 })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("expires_in_days"),
    );
    post(json!({ "email_address": "a@example.com", "unsafe_metadata": {} })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("unsafe_metadata"),
    );
    post(json!({ "email_address": "a@example.com", "redirect_url": "not a url" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("redirect_url"),
    );
    // An address a user holds is taken.
    app.post("/v1/users", json!({ "email_address": ["user@example.com"] })).send().await.assert_status(200);
    post(json!({ "email_address": "user@example.com" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("email_address"),
    );
    post(json!({ "email_address": "user@example.com", "ignore_existing": true, "notify": false }))
        .send()
        .await
        .assert_status(200);

    // Bulk: all or nothing.
    let bulk = |body| app.post("/v1/invitations/bulk", body);
    let made =
        bulk(json!([{ "email_address": "b1@example.com" }, { "email_address": "b2@example.com", "notify": false }]))
            .send()
            .await
            .assert_status(200)
            .json;
    assert_eq!(made.as_array().unwrap().len(), 2);
    bulk(json!([{ "email_address": "b3@example.com" }, { "email_address": "b1@example.com" }]))
        .send()
        .await
        .assert_error(400, "duplicate_record", Some("[1].email_address"));
    bulk(json!([{ "email_address": "b4@example.com" }, { "email_address": "b4@example.com" }]))
        .send()
        .await
        .assert_error(400, "duplicate_record", Some("[1].email_address"));
    bulk(json!([])).send().await.assert_error(422, "form_param_value_invalid", None);
    let list = app.get("/v1/invitations?limit=100").send().await.json;
    assert_eq!(list.as_array().unwrap().len(), 3, "failed bulks wrote nothing");

    // Isolation.
    let (_, other) = app.create_instance(Environment::Development).await;
    assert_eq!(app.get("/v1/invitations").bearer(&other).send().await.json, json!([]));
    let rev = format!("/v1/invitations/{}/revoke", made[0]["id"].as_str().unwrap());
    app.post(&rev, json!({})).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.post("/v1/invitations", json!({ "email_address": "b1@example.com" }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200);
    // A production instance without SMTP cannot notify, and writes nothing.
    let (_, prod) = app.create_instance(Environment::Production).await;
    app.post("/v1/invitations", json!({ "email_address": "p@example.com" })).bearer(&prod).send().await.assert_error(
        400,
        "delivery_not_configured",
        None,
    );
    assert_eq!(app.get("/v1/invitations").bearer(&prod).send().await.json, json!([]));
    app.post("/v1/invitations", json!({ "email_address": "p@example.com", "notify": false }))
        .bearer(&prod)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn allowlist_and_blocklist_entries() {
    let app = TestApp::new().await;
    let a = app
        .post("/v1/allowlist_identifiers", json!({ "identifier": "Ada@Example.com" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(a["object"], "allowlist_identifier");
    assert_eq!(
        (a["identifier"].clone(), a["identifier_type"].clone()),
        (json!("ada@example.com"), json!("email_address"))
    );
    assert_eq!(a["instance_id"], app.instance.id.as_str());
    let d = app
        .post("/v1/allowlist_identifiers", json!({ "identifier": "example.org" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(d["identifier"], "*@example.org");
    let p = app
        .post("/v1/allowlist_identifiers", json!({ "identifier": "+1 555 555 0100" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(p["identifier_type"], "phone_number");
    app.post("/v1/allowlist_identifiers", json!({ "identifier": "ada@example.com" })).send().await.assert_error(
        400,
        "duplicate_record",
        Some("identifier"),
    );
    app.post("/v1/allowlist_identifiers", json!({ "identifier": "nonsense" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("identifier"),
    );
    app.post("/v1/allowlist_identifiers", json!({})).send().await.assert_error(
        422,
        "form_param_missing",
        Some("identifier"),
    );
    let list = app.get("/v1/allowlist_identifiers").send().await.assert_status(200).json;
    // Entries created in the same millisecond may list in either order: compare the set.
    let mut listed = ids(&list);
    listed.sort_unstable();
    let mut created = vec![a["id"].as_str().unwrap(), d["id"].as_str().unwrap(), p["id"].as_str().unwrap()];
    created.sort_unstable();
    assert_eq!(listed, created);

    let b = app
        .post("/v1/blocklist_identifiers", json!({ "identifier": "*@spam.example" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (b["object"].clone(), b["identifier"].clone()),
        (json!("blocklist_identifier"), json!("*@spam.example"))
    );
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "x@y.com", "notify": true }))
        .send()
        .await
        .assert_error(422, "form_param_unknown", Some("notify"));
    let list = app.get("/v1/blocklist_identifiers").send().await.assert_status(200).json;
    assert_eq!((list["total_count"].clone(), list["data"][0]["id"].clone()), (json!(1), b["id"].clone()));

    let (_, other) = app.create_instance(Environment::Development).await;
    assert_eq!(app.get("/v1/allowlist_identifiers").bearer(&other).send().await.json, json!([]));
    assert_eq!(app.get("/v1/blocklist_identifiers").bearer(&other).send().await.json["total_count"], 0);
    let del_a = format!("/v1/allowlist_identifiers/{}", a["id"].as_str().unwrap());
    let del_b = format!("/v1/blocklist_identifiers/{}", b["id"].as_str().unwrap());
    app.delete(&del_a).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&del_b).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    // An allow-list id is not a block-list id.
    app.delete(&format!("/v1/blocklist_identifiers/{}", a["id"].as_str().unwrap())).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let r = app.delete(&del_a).send().await.assert_status(200).json;
    assert_eq!(r, json!({ "object": "allowlist_identifier", "id": a["id"], "deleted": true }));
    app.delete(&del_a).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&del_b).send().await.assert_status(200);
    assert_eq!(app.get("/v1/blocklist_identifiers").send().await.json["total_count"], 0);
}

#[tokio::test]
async fn restrictions_are_enforced_at_every_entry_point() {
    let app = TestApp::new().await;
    let uid = app.post("/v1/users", json!({})).send().await.assert_status(200).json["id"].as_str().unwrap().to_owned();
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "spam.example" })).send().await.assert_status(200);
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "bad@example.com" })).send().await.assert_status(200);
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "+15555550666" })).send().await.assert_status(200);
    // Lists off: nothing enforced.
    app.post("/v1/users", json!({ "email_address": ["x@spam.example"] })).send().await.assert_status(200);

    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).send().await.assert_status(200);
    let refused = |r: tessera_testkit::TestResponse, param: &str| {
        r.assert_error(422, "not_allowed_access", Some(param));
    };
    refused(app.post("/v1/users", json!({ "email_address": ["y@SPAM.example"] })).send().await, "email_address");
    refused(app.post("/v1/users", json!({ "email_address": ["bad+tag@example.com"] })).send().await, "email_address");
    refused(app.post("/v1/users", json!({ "phone_number": ["+15555550666"] })).send().await, "phone_number");
    app.post("/v1/users", json!({ "email_address": ["good@example.com"] })).send().await.assert_status(200);
    refused(
        app.post("/v1/email_addresses", json!({ "user_id": uid, "email_address": "z@spam.example" })).send().await,
        "email_address",
    );
    refused(
        app.post("/v1/phone_numbers", json!({ "user_id": uid, "phone_number": "+15555550666" })).send().await,
        "phone_number",
    );
    refused(
        app.put(&format!("/v1/users/{uid}/email_address"), json!({ "email_address": "bad@example.com" })).send().await,
        "email_address",
    );
    refused(
        app.put(&format!("/v1/users/{uid}/phone_number"), json!({ "phone_number": "+15555550666" })).send().await,
        "phone_number",
    );
    refused(app.post("/v1/invitations", json!({ "email_address": "w@spam.example" })).send().await, "email_address");
    refused(
        app.post(
            "/v1/invitations/bulk",
            json!([{ "email_address": "ok@example.com" }, { "email_address": "bad@example.com" }]),
        )
        .send()
        .await,
        "email_address",
    );
    assert_eq!(app.get("/v1/invitations").send().await.json, json!([]));

    // Allow-list on: only listed identifiers (and the allow-list wins over the block-list).
    app.post("/v1/allowlist_identifiers", json!({ "identifier": "bad@example.com" })).send().await.assert_status(200);
    app.post("/v1/allowlist_identifiers", json!({ "identifier": "corp.example" })).send().await.assert_status(200);
    app.patch("/v1/instance/restrictions", json!({ "allowlist": true })).send().await.assert_status(200);
    refused(app.post("/v1/users", json!({ "email_address": ["else@example.com"] })).send().await, "email_address");
    refused(app.post("/v1/invitations", json!({ "email_address": "else@example.com" })).send().await, "email_address");
    refused(
        app.post("/v1/phone_numbers", json!({ "user_id": uid, "phone_number": "+15555550100" })).send().await,
        "phone_number",
    );
    app.post("/v1/users", json!({ "email_address": ["bad@example.com"] })).send().await.assert_status(200);
    app.post("/v1/users", json!({ "email_address": ["anyone@corp.example"] })).send().await.assert_status(200);
    app.post("/v1/email_addresses", json!({ "user_id": uid, "email_address": "me@corp.example" }))
        .send()
        .await
        .assert_status(200);
    app.post("/v1/invitations", json!({ "email_address": "new@corp.example", "notify": false }))
        .send()
        .await
        .assert_status(200);
    // Another instance's lists and switches do not apply.
    let (_, other) = app.create_instance(Environment::Development).await;
    app.post("/v1/users", json!({ "email_address": ["else@example.com"] }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200);
}
