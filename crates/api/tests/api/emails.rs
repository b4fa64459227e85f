//! The transactional e-mail API (`emails.create` / `createBatch` / `get` of `@clerk/backend` 3.x; not in the
//! spec): sent through the sender (development: the outbox), idempotent per `Idempotency-Key`.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap();
    msgs.into_iter().map(|m| (m.recipient, m.subject, m.body)).collect()
}

fn receipt(to: &str) -> Value {
    json!({
        "to": { "address": to },
        "from": { "address": "support@example.com", "name": "Support" },
        "subject": "Your receipt",
        "html": "<p>Thanks for your order.</p>",
        "text": "Thanks for your order.",
    })
}

#[tokio::test]
async fn create_sends_through_the_outbox_and_get_reads_it_back() {
    let app = TestApp::new().await;
    let r = app.post("/v1/email", receipt("Customer@Example.com")).send().await.assert_status(200);
    let email = r.json;
    assert_eq!(email["object"], "email");
    assert_eq!(email["to_email_address"], "Customer@example.com");
    assert_eq!(email["from_email_name"], "support");
    assert_eq!((email["subject"].clone(), email["status"].clone()), (json!("Your receipt"), json!("accepted")));
    assert_eq!(email["body"], "<p>Thanks for your order.</p>");
    assert_eq!(email["body_plain"], "Thanks for your order.");
    assert_eq!(
        outbox(&app).await,
        [("Customer@example.com".into(), "Your receipt".into(), "Thanks for your order.".into())]
    );
    let id = email["id"].as_str().unwrap();
    assert!(id.starts_with("ema_"));
    let got = app.get(&format!("/v1/email/{id}")).send().await.assert_status(200).json;
    assert_eq!(got, email);
    app.get("/v1/email/ema_nope").send().await.assert_error(404, "resource_not_found", None);
    let (_, other) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/email/{id}")).bearer(&other).send().await.assert_error(404, "resource_not_found", None);

    // To a user: their primary address.
    let user = app
        .post("/v1/users", json!({ "email_address": ["ada@example.com"], "first_name": "Ada" }))
        .send()
        .await
        .assert_status(200)
        .json;
    let mut to_user = receipt("x@example.com");
    to_user["to"] = json!({ "user_id": user["id"] });
    let e = app.post("/v1/email", to_user).send().await.assert_status(200).json;
    assert_eq!(e["to_email_address"], "ada@example.com");
    assert_eq!(e["user_id"], user["id"]);
    assert_eq!(e["email_address_id"], user["primary_email_address_id"]);
}

#[tokio::test]
async fn the_same_key_and_request_is_the_same_email_and_another_request_a_409() {
    let app = TestApp::new().await;
    let send = |body: Value| app.post("/v1/email", body).header("Idempotency-Key", "order_123_receipt");
    let first = send(receipt("a@example.com")).send().await.assert_status(200).json;
    let again = send(receipt("a@example.com")).send().await.assert_status(200).json;
    assert_eq!(again, first, "a retry answers the original e-mail");
    assert_eq!(outbox(&app).await.len(), 1, "and sends nothing again");
    send(receipt("b@example.com")).send().await.assert_error(409, "conflict", None);
    // Keys are per instance; without a key every call is a new send.
    let (_, other) = app.create_instance(Environment::Development).await;
    send(receipt("b@example.com")).bearer(&other).send().await.assert_status(200);
    app.post("/v1/email", receipt("a@example.com")).send().await.assert_status(200);
    assert_eq!(outbox(&app).await.len(), 2);
    app.post("/v1/email", receipt("a@example.com")).header("Idempotency-Key", "not valid!").send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("idempotency_key"),
    );
}

#[tokio::test]
async fn invalid_messages_name_the_parameter() {
    let app = TestApp::new().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "to": { "address": "nope" } }), "form_param_format_invalid", "to.address"),
        (json!({ "to": { "address": "a@example.com", "user_id": "user_1" } }), "form_param_value_invalid", "to"),
        (json!({ "subject": "" }), "form_param_value_invalid", "subject"),
        (json!({ "html": null, "text": null }), "form_param_missing", "html"),
        (json!({ "cc": ["a@example.com"] }), "form_param_value_invalid", "cc"),
        (json!({ "headers": { "From": "x@example.com" } }), "form_param_value_invalid", "headers.From"),
        (
            json!({ "attachments": [{ "filename": "a.txt", "content": "%%%" }] }),
            "form_param_format_invalid",
            "attachments[0].content",
        ),
        (json!({ "bogus": 1 }), "form_param_unknown", "bogus"),
    ];
    for (change, code, param) in cases {
        let mut body = receipt("a@example.com");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.post("/v1/email", body).send().await.assert_error(422, code, Some(param));
    }
    let mut to_nobody = receipt("a@example.com");
    to_nobody["to"] = json!({ "user_id": "user_nope" });
    app.post("/v1/email", to_nobody).send().await.assert_error(404, "resource_not_found", None);
    assert!(outbox(&app).await.is_empty());
    // A production instance sends only from its own domain, and only with a relay configured.
    let (_, production) = app.create_instance(Environment::Production).await;
    app.post("/v1/email", receipt("a@example.com")).bearer(&production).send().await.assert_status(422);
}

#[tokio::test]
async fn batch_answers_one_result_per_message_in_order() {
    let app = TestApp::new().await;
    let mut bad = receipt("b@example.com");
    bad["subject"] = json!("");
    let mut keyed = receipt("c@example.com");
    keyed["idempotency_key"] = json!("batch_c");
    let results = app
        .post("/v1/email/batch", json!({ "messages": [receipt("a@example.com"), bad, keyed.clone()] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!((results[0]["index"].clone(), results[0]["status_code"].clone()), (json!(0), json!(200)));
    assert_eq!(results[0]["email"]["to_email_address"], "a@example.com");
    assert_eq!(results[1]["status_code"], 422);
    assert_eq!(results[1]["errors"][0]["code"], "form_param_value_invalid");
    assert_eq!(results[1]["errors"][0]["meta"]["param_name"], "messages[1].subject");
    assert!(results[1].get("email").is_none());
    let c_id = results[2]["email"]["id"].clone();
    assert_eq!(outbox(&app).await.len(), 2);
    // The same key through the single endpoint (or a retried batch) is the same e-mail.
    keyed.as_object_mut().unwrap().remove("idempotency_key");
    let single = app.post("/v1/email", keyed).header("Idempotency-Key", "batch_c").send().await.assert_status(200);
    assert_eq!(single.json["id"], c_id);
    assert_eq!(outbox(&app).await.len(), 2);
    // 1 to 100 messages.
    app.post("/v1/email/batch", json!({ "messages": [] })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("messages"),
    );
    let many: Vec<Value> = (0..101).map(|i| receipt(&format!("u{i}@example.com"))).collect();
    app.post("/v1/email/batch", json!({ "messages": many })).send().await.assert_status(422);
}
