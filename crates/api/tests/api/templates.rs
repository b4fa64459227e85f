//! Email & SMS Templates: defaults, changes per instance, revert, preview, the delivery toggle, and the sender
//! rendering them (verification codes, invitations) with its `email.created` / `sms.created` events.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

const T0: i64 = 1_750_000_000_000;

fn slugs(list: &Value) -> Vec<&str> {
    list.as_array().expect("array").iter().map(|t| t["slug"].as_str().expect("slug")).collect()
}

/// The instance's events of one type, oldest first, each checked against the webhook spec.
async fn events(app: &TestApp, instance_id: &str, event_type: &str) -> Vec<Value> {
    let all = tessera_core::events::recent(app.ctx(), instance_id, 1000).await.unwrap();
    all.into_iter()
        .filter(|e| e.event_type == event_type)
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            e.payload
        })
        .collect()
}

async fn outbox(app: &TestApp, instance_id: &str) -> Vec<tessera_core::store::outbox::OutboxRow> {
    tessera_core::sender::outbox(app.ctx(), Some(instance_id), 100).await.unwrap()
}

#[tokio::test]
async fn lists_and_gets_the_defaults() {
    let app = TestApp::with_clock(T0).await;
    let list = app.get("/v1/templates/email").send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 10, "the default page is 10");
    let all = app.get("/v1/templates/email?limit=100").send().await.assert_status(200).json;
    let names = slugs(&all);
    for slug in
        ["verification_code", "reset_password_code", "invitation", "organization_invitation", "magic_link_sign_in"]
    {
        assert!(names.contains(&slug), "{slug} in {names:?}");
    }
    let positions: Vec<i64> = all.as_array().unwrap().iter().map(|t| t["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=i64::try_from(positions.len()).unwrap()).collect::<Vec<_>>(), "sorted by position");
    let first = &all[0];
    assert_eq!((first["object"].as_str(), first["template_type"].as_str()), (Some("template"), Some("email")));
    assert_eq!((first["resource_type"].as_str(), first["can_revert"].as_bool()), (Some("system"), Some(false)));
    assert_eq!((first["instance_id"].clone(), first["delivered_by_clerk"].clone()), (json!(null), json!(true)));
    assert_eq!(first["from_email_name"], "notifications");
    let page = app.get("/v1/templates/email?paginated=true&limit=2&offset=1").send().await.assert_status(200).json;
    assert_eq!(page["total_count"], json!(names.len()));
    assert_eq!(slugs(&page["data"]), names[1..3].to_vec());

    let sms = app.get("/v1/templates/sms?limit=100").send().await.assert_status(200).json;
    assert!(slugs(&sms).contains(&"verification_code"));
    assert_eq!(sms[0]["subject"], json!(null));
    assert!(sms[0].get("from_email_name").is_none(), "e-mail fields only on e-mail templates");

    let t = app.get("/v1/templates/email/verification_code").send().await.assert_status(200).json;
    assert_eq!(t, all[0], "get answers what the list shows");
    assert!(t["body"].as_str().unwrap().contains("{{otp_code}}"));
    assert_eq!(t["required_variables"], json!(["otp_code"]));
    assert!(t["available_variables"].as_array().unwrap().contains(&json!("app.name")));
    // The id is stable per instance, type and slug.
    let again = app.get("/v1/templates/email/verification_code").send().await.json;
    assert_eq!(again["id"], t["id"]);
    let sms_code = app.get("/v1/templates/sms/verification_code").send().await.json;
    assert_ne!(sms_code["id"], t["id"]);

    app.get("/v1/templates/email/nope").send().await.assert_error(404, "resource_not_found", None);
    app.get("/v1/templates/fax").send().await.assert_error(400, "bad_request", Some("template_type"));
    app.get("/v1/templates/fax/verification_code").send().await.assert_error(400, "bad_request", Some("template_type"));
    app.get("/v1/templates/email?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
}

#[tokio::test]
async fn upsert_validates_and_revert_restores_the_default() {
    let app = TestApp::with_clock(T0).await;
    let path = "/v1/templates/email/verification_code";
    let default = app.get(path).send().await.json;
    app.clock.advance_ms(1000);
    let body = json!({ "name": "Code", "subject": "Your {{app.name}} code: {{otp_code}}",
                       "body": "<p>{{otp_code}}</p>", "markup": "<mjml/>", "from_email_name": "codes",
                       "reply_to_email_name": "support" });
    let t = app.put(path, body).send().await.assert_status(200).json;
    assert_eq!((t["resource_type"].as_str(), t["can_revert"].as_bool()), (Some("user"), Some(true)));
    assert_eq!(t["instance_id"], app.instance.id.as_str());
    assert_eq!(
        (t["name"].as_str(), t["subject"].as_str()),
        (Some("Code"), Some("Your {{app.name}} code: {{otp_code}}"))
    );
    assert_eq!((t["from_email_name"].as_str(), t["reply_to_email_name"].as_str()), (Some("codes"), Some("support")));
    assert_eq!((t["id"].clone(), t["updated_at"].clone()), (default["id"].clone(), json!(T0 + 1000)));
    assert_eq!(app.get(path).send().await.json, t);
    // Partial: only the given fields change; null counts as absent.
    let t2 = app.put(path, json!({ "name": "Code 2", "subject": null })).send().await.assert_status(200).json;
    assert_eq!((t2["name"].as_str(), t2["body"].as_str()), (Some("Code 2"), Some("<p>{{otp_code}}</p>")));
    assert_eq!(t2["subject"], t["subject"]);

    // Instance isolation: another instance still has the default.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let b = app.get(path).bearer(&key_b).send().await.assert_status(200).json;
    assert_eq!((b["resource_type"].as_str(), b["name"].as_str()), (Some("system"), Some("Verification code")));
    assert_ne!(b["id"], t["id"]);

    // Refused: nothing changes.
    let refused = [
        (json!({ "body": "no code here" }), 422, "form_param_value_invalid", "body"),
        (json!({ "body": "{{#if}}" }), 422, "form_param_format_invalid", "body"),
        (json!({ "subject": "{{#each}}" }), 422, "form_param_format_invalid", "subject"),
        (json!({ "body": "  " }), 422, "form_param_value_invalid", "body"),
        (json!({ "name": "" }), 422, "form_param_value_invalid", "name"),
        (json!({ "from_email_name": "no spaces" }), 422, "form_param_format_invalid", "from_email_name"),
        (json!({ "reply_to_email_name": "a@b" }), 422, "form_param_format_invalid", "reply_to_email_name"),
        (
            json!({ "body": "{{#*inline \"x\"}}{{> x}}{{/inline}}{{> x}}{{otp_code}}" }),
            422,
            "form_param_format_invalid",
            "body",
        ),
    ];
    for (body, status, code, param) in refused {
        app.put(path, body.clone()).send().await.assert_error(status, code, Some(param));
    }
    app.put("/v1/templates/sms/verification_code", json!({ "subject": "x" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("subject"),
    );
    let long = "a".repeat(1601);
    app.put("/v1/templates/sms/verification_code", json!({ "body": format!("{{{{otp_code}}}}{long}") }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("body"));
    app.put(path, json!({ "unknown": 1 })).send().await.assert_error(422, "form_param_unknown", Some("unknown"));
    app.put("/v1/templates/email/nope", json!({ "name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    assert_eq!(app.get(path).send().await.json, t2, "unchanged by refused updates");

    // Revert: default content, the delivery setting stays; reverting an unchanged template is refused.
    app.post(&format!("{path}/toggle_delivery"), json!({ "delivered_by_clerk": false }))
        .send()
        .await
        .assert_status(200);
    let r = app.post(&format!("{path}/revert"), json!({})).send().await.assert_status(200).json;
    assert_eq!((r["resource_type"].as_str(), r["can_revert"].as_bool()), (Some("system"), Some(false)));
    assert_eq!(
        (r["body"].clone(), r["subject"].clone(), r["name"].clone()),
        (default["body"].clone(), default["subject"].clone(), default["name"].clone())
    );
    assert_eq!((r["instance_id"].clone(), r["delivered_by_clerk"].clone()), (json!(null), json!(false)));
    app.post(&format!("{path}/revert"), json!({})).send().await.assert_error(400, "bad_request", None);
    app.post("/v1/templates/sms/invitation/revert", json!({})).send().await.assert_error(400, "bad_request", None);
    app.post("/v1/templates/sms/nope/revert", json!({})).send().await.assert_error(404, "resource_not_found", None);
    // Writing the default content back is no change either.
    let same = app.put(path, json!({ "body": default["body"] })).send().await.assert_status(200).json;
    assert_eq!(same["resource_type"], "system");
}

#[tokio::test]
async fn toggle_delivery_sets_or_flips() {
    let app = TestApp::with_clock(T0).await;
    let path = "/v1/templates/sms/verification_code/toggle_delivery";
    let t = app.post(path, json!({ "delivered_by_clerk": false })).send().await.assert_status(200).json;
    assert_eq!((t["delivered_by_clerk"].as_bool(), t["resource_type"].as_str()), (Some(false), Some("system")));
    let t = app.post(path, json!({ "delivered_by_clerk": false })).send().await.assert_status(200).json;
    assert_eq!(t["delivered_by_clerk"], false, "setting is idempotent");
    let t = app.post(path, json!({})).send().await.assert_status(200).json;
    assert_eq!(t["delivered_by_clerk"], true, "no value flips it");
    assert_eq!(app.get("/v1/templates/sms/verification_code").send().await.json["delivered_by_clerk"], true);
    app.post("/v1/templates/sms/nope/toggle_delivery", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(path, json!({ "delivered_by_clerk": "no" })).send().await.assert_error(
        400,
        "bad_request",
        Some("delivered_by_clerk"),
    );
    app.post("/v1/templates/mail/verification_code/toggle_delivery", json!({})).send().await.assert_error(
        400,
        "bad_request",
        Some("template_type"),
    );
}

#[tokio::test]
async fn preview_renders_with_sample_data_and_stores_nothing() {
    let app = TestApp::with_clock(T0).await;
    let path = "/v1/templates/email/verification_code/preview";
    let p = app.post(path, json!({})).send().await.assert_status(200).json;
    assert_eq!(p["subject"], "123456 is your verification code");
    assert!(p["body"].as_str().unwrap().starts_with("<!DOCTYPE html>"));
    assert!(p["body"].as_str().unwrap().contains("123456"));
    assert!(p["body_plain"].as_str().unwrap().contains("123456"));
    assert!(p["from_email_address"].as_str().unwrap().starts_with("notifications@"), "{p}");
    assert_eq!(p["reply_to_email_address"], json!(null));
    let p = app
        .post(
            path,
            json!({ "subject": "Hi {{user.first_name}}", "body": "<b>{{otp_code}} & {{app.name}}</b>",
                            "from_email_name": "hello", "reply_to_email_name": "help" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(p["subject"], "Hi Grace");
    assert!(p["body"].as_str().unwrap().starts_with("<b>123456 & "), "{p}");
    assert!(p["body_plain"].as_str().unwrap().starts_with("123456 & "), "{p}");
    assert!(p["from_email_address"].as_str().unwrap().starts_with("hello@"));
    assert!(p["reply_to_email_address"].as_str().unwrap().starts_with("help@"));
    app.post(path, json!({ "body": "{{#if}}" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("body"),
    );
    app.post(path, json!({ "body": "no code" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("body"),
    );
    assert_eq!(app.get("/v1/templates/email/verification_code").send().await.json["resource_type"], "system");

    let sms = app.post("/v1/templates/sms/verification_code/preview", json!({})).send().await.assert_status(200).json;
    assert!(sms["body"].as_str().unwrap().starts_with("123456 is your verification code"), "{sms}");
    assert!(sms.get("subject").is_none());
    app.post("/v1/templates/sms/nope/preview", json!({})).send().await.assert_error(404, "resource_not_found", None);
    app.post("/v1/templates/fax/verification_code/preview", json!({})).send().await.assert_error(
        400,
        "bad_request",
        Some("template_type"),
    );
}

/// Creates a user with an e-mail address and a phone number; returns their prepare_verification paths.
async fn user_paths(app: &TestApp, key: &str) -> (String, String, String) {
    let u = app
        .post("/v1/users", json!({ "email_address": ["ada@example.com"], "phone_number": ["+15555550200"] }))
        .bearer(key)
        .send()
        .await
        .assert_status(200)
        .json;
    let email = format!("/v1/email_addresses/{}/prepare_verification", u["email_addresses"][0]["id"].as_str().unwrap());
    let phone = format!("/v1/phone_numbers/{}/prepare_verification", u["phone_numbers"][0]["id"].as_str().unwrap());
    (u["id"].as_str().unwrap().to_owned(), email, phone)
}

#[tokio::test]
async fn the_sender_renders_templates_and_emits_events() {
    let app = TestApp::with_clock(T0).await;
    let key = app.secret_key.clone();
    let instance = app.instance.id.clone();
    let (user_id, email_path, phone_path) = user_paths(&app, &key).await;
    app.put(
        "/v1/templates/email/verification_code",
        json!({ "subject": "{{otp_code}} unlocks {{app.name}}", "body": "<p>Code: <b>{{otp_code}}</b></p>" }),
    )
    .send()
    .await
    .assert_status(200);

    app.post(&email_path, json!({})).send().await.assert_status(200);
    let out = outbox(&app, &instance).await;
    let code: String = out[0].subject.chars().take(6).collect();
    assert!(out[0].subject.starts_with(&format!("{code} unlocks ")), "{}", out[0].subject);
    assert_eq!(out[0].body, format!("Code: {code}\n"));
    let sent = events(&app, &instance, "email.created").await;
    assert_eq!(sent.len(), 1);
    let data = &sent[0]["data"];
    assert_eq!((data["object"].as_str(), data["slug"].as_str()), (Some("email"), Some("verification_code")));
    assert_eq!(
        (data["to_email_address"].as_str(), data["user_id"].as_str()),
        (Some("ada@example.com"), Some(user_id.as_str()))
    );
    assert_eq!(data["email_address_id"], email_path.split('/').nth(3).unwrap());
    assert_eq!(data["data"]["otp_code"], code.as_str());
    assert_eq!(
        (data["delivered_by_clerk"].as_bool(), data["from_email_name"].as_str()),
        (Some(true), Some("notifications"))
    );
    assert_eq!(data["body"], format!("<p>Code: <b>{code}</b></p>"));
    assert!(data["id"].as_str().unwrap().starts_with("ema_"));

    app.post(&phone_path, json!({})).send().await.assert_status(200);
    let sms = events(&app, &instance, "sms.created").await;
    assert_eq!(sms.len(), 1);
    let data = &sms[0]["data"];
    let code = data["data"]["otp_code"].as_str().unwrap();
    assert_eq!(
        (data["object"].as_str(), data["to_phone_number"].as_str()),
        (Some("sms_message"), Some("+15555550200"))
    );
    assert!(data["message"].as_str().unwrap().starts_with(&format!("{code} is your verification code")));
    assert_eq!(outbox(&app, &instance).await.len(), 2);

    // Delivery off: nothing is sent (no outbox message), the event still says what to send.
    app.post("/v1/templates/sms/verification_code/toggle_delivery", json!({ "delivered_by_clerk": false }))
        .send()
        .await
        .assert_status(200);
    app.post(&phone_path, json!({})).send().await.assert_status(200);
    assert_eq!(outbox(&app, &instance).await.len(), 2, "not delivered");
    let sms = events(&app, &instance, "sms.created").await;
    assert_eq!((sms.len(), sms[1]["data"]["delivered_by_clerk"].as_bool()), (2, Some(false)));

    // Invitations use the invitation (or waitlist) template; the action URL is the invitation's link.
    let guest = app
        .post(
            "/v1/invitations",
            json!({ "email_address": "guest@example.com", "redirect_url": "https://app.example.com/join?x=1" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let wait = app
        .post("/v1/invitations", json!({ "email_address": "wait@example.com", "template_slug": "waitlist_invitation" }))
        .send()
        .await
        .assert_status(200)
        .json;
    app.post("/v1/invitations", json!({ "email_address": "quiet@example.com", "notify": false }))
        .send()
        .await
        .assert_status(200);
    let sent = events(&app, &instance, "email.created").await;
    assert_eq!(sent.len(), 3, "no e-mail for notify: false");
    assert_eq!(
        (sent[1]["data"]["slug"].as_str(), sent[1]["data"]["user_id"].clone()),
        (Some("invitation"), json!(null))
    );
    assert_eq!(sent[1]["data"]["data"]["action_url"], guest["url"]);
    assert!(sent[1]["data"]["body_plain"].as_str().unwrap().contains(guest["url"].as_str().unwrap()));
    assert_eq!(sent[2]["data"]["slug"], "waitlist_invitation");
    assert_eq!(sent[2]["data"]["data"]["action_url"], wait["url"]);
}

#[tokio::test]
async fn a_production_instance_without_a_transport_can_leave_delivery_to_the_app() {
    let app = TestApp::with_clock(T0).await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let (_, email_path, _) = user_paths(&app, &key).await;
    app.post(&email_path, json!({})).bearer(&key).send().await.assert_error(400, "delivery_not_configured", None);
    assert!(events(&app, &prod.id, "email.created").await.is_empty(), "nothing recorded for a failed send");
    app.post("/v1/templates/email/verification_code/toggle_delivery", json!({ "delivered_by_clerk": false }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.post(&email_path, json!({})).bearer(&key).send().await.assert_status(200);
    let sent = events(&app, &prod.id, "email.created").await;
    assert_eq!((sent.len(), sent[0]["data"]["delivered_by_clerk"].as_bool()), (1, Some(false)));
    assert!(outbox(&app, &prod.id).await.is_empty(), "production instances capture nothing");
}
