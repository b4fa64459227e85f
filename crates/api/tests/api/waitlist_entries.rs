//! Waitlist entries: create (one and bulk, existing addresses returned), list, delete, invite (an instance
//! invitation), reject; status transitions, errors, events, isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::events_of;

const T0: i64 = 1_750_000_000_000;

async fn outbox(app: &TestApp) -> Vec<(String, String)> {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap();
    msgs.into_iter().map(|m| (m.recipient, m.subject)).collect()
}

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
}

async fn add(app: &TestApp, body: Value) -> Value {
    app.post("/v1/waitlist_entries", body).send().await.assert_status(200).json
}

#[tokio::test]
async fn create_is_idempotent_per_address() {
    let app = TestApp::with_clock(T0).await;
    let e = add(&app, json!({ "email_address": "Early@Example.com" })).await;
    let id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["object"], "waitlist_entry");
    assert_eq!((e["email_address"].clone(), e["status"].clone()), (json!("early@example.com"), json!("pending")));
    assert_eq!((e["is_locked"].clone(), e["invitation"].clone()), (json!(false), Value::Null));
    assert_eq!(e["created_at"], T0);
    assert_eq!(outbox(&app).await, vec![("early@example.com".to_owned(), "You have joined the waitlist".to_owned())]);
    app.clock.advance_ms(10);
    let again = add(&app, json!({ "email_address": "early@example.com" })).await;
    assert_eq!(again, e, "the existing entry is returned");
    assert_eq!(outbox(&app).await.len(), 1, "no second confirmation");
    add(&app, json!({ "email_address": "quiet@example.com", "notify": false })).await;
    assert_eq!(outbox(&app).await.len(), 1);
    let created = events_of(&app, "waitlistEntry.created").await;
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["data"]["id"], id.as_str());

    for (body, code, param) in [
        (json!({}), "form_param_missing", "email_address"),
        (json!({ "email_address": "nope" }), "form_param_format_invalid", "email_address"),
        (json!({ "email_address": 5 }), "form_param_format_invalid", "email_address"),
    ] {
        app.post("/v1/waitlist_entries", body).send().await.assert_error(422, code, Some(param));
    }
}

#[tokio::test]
async fn bulk_returns_new_and_existing_entries_all_or_nothing() {
    let app = TestApp::with_clock(T0).await;
    let existing = add(&app, json!({ "email_address": "a@example.com", "notify": false })).await;
    app.post("/v1/waitlist_entries/bulk", json!([{ "email_address": "b@example.com" }, { "email_address": "bad" }]))
        .send()
        .await
        .assert_error(422, "form_param_format_invalid", Some("[1].email_address"));
    app.post(
        "/v1/waitlist_entries/bulk",
        json!([{ "email_address": "b@example.com" }, { "email_address": "B@example.com" }]),
    )
    .send()
    .await
    .assert_error(422, "form_param_value_invalid", Some("[1].email_address"));
    let many: Vec<Value> = (0..51).map(|i| json!({ "email_address": format!("u{i}@example.com") })).collect();
    app.post("/v1/waitlist_entries/bulk", json!(many)).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("body"),
    );
    app.post("/v1/waitlist_entries/bulk", json!([])).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("body"),
    );
    assert_eq!(app.get("/v1/waitlist_entries").send().await.json["total_count"], 1, "nothing half-written");

    let res = app
        .post(
            "/v1/waitlist_entries/bulk",
            json!([{ "email_address": "a@example.com" }, { "email_address": "b@example.com", "notify": true }]),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let items = res.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], existing);
    assert_eq!(
        (items[1]["email_address"].clone(), items[1]["status"].clone()),
        (json!("b@example.com"), json!("pending"))
    );
    assert_eq!(outbox(&app).await.len(), 1, "only the new address is told");
    assert_eq!(events_of(&app, "waitlistEntry.created").await.len(), 2);
}

#[tokio::test]
async fn invite_reject_delete_and_list() {
    let app = TestApp::with_clock(T0).await;
    let a = add(&app, json!({ "email_address": "ann@example.com", "notify": false })).await;
    app.clock.advance_ms(1);
    let b = add(&app, json!({ "email_address": "bob@example.com", "notify": false })).await;
    app.clock.advance_ms(1);
    let c = add(&app, json!({ "email_address": "cid@example.com", "notify": false })).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    // Invite: an instance invitation (waitlist template), e-mailed, in the entry.
    app.clock.advance_ms(1);
    let inv =
        app.post(&format!("/v1/waitlist_entries/{}/invite", id(&a)), json!({})).send().await.assert_status(200).json;
    assert_eq!(inv["status"], "invited");
    assert_eq!(inv["invitation"]["object"], "invitation");
    assert_eq!(
        (inv["invitation"]["email_address"].clone(), inv["invitation"]["status"].clone()),
        (json!("ann@example.com"), json!("pending"))
    );
    assert_eq!(inv["updated_at"], T0 + 3);
    assert_eq!(outbox(&app).await.len(), 1);
    let invitations = app.get("/v1/invitations").send().await.assert_status(200).json;
    assert_eq!(invitations[0]["id"], inv["invitation"]["id"]);
    app.post(&format!("/v1/waitlist_entries/{}/invite", id(&a)), json!({}))
        .send()
        .await
        .assert_error(409, "conflict", None);
    // An address with a pending invitation already: refused unless ignore_existing.
    app.post("/v1/invitations", json!({ "email_address": "bob@example.com", "notify": false }))
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/v1/waitlist_entries/{}/invite", id(&b)), json!({})).send().await.assert_error(
        400,
        "duplicate_record",
        Some("email_address"),
    );
    let got_b = app.get(&format!("/v1/waitlist_entries?query={}", id(&b))).send().await.json;
    assert_eq!(got_b["data"][0]["status"], "pending", "nothing half-written");
    app.post(&format!("/v1/waitlist_entries/{}/invite", id(&b)), json!({ "ignore_existing": true }))
        .send()
        .await
        .assert_status(200);

    // Reject: an invited entry's pending invitation is revoked; a rejected entry can be invited again.
    let rej =
        app.post(&format!("/v1/waitlist_entries/{}/reject", id(&a)), json!({})).send().await.assert_status(200).json;
    assert_eq!(rej["status"], "rejected");
    assert_eq!(
        (rej["invitation"]["status"].clone(), rej["invitation"]["revoked"].clone()),
        (json!("revoked"), json!(true))
    );
    app.post(&format!("/v1/waitlist_entries/{}/reject", id(&a)), json!({}))
        .send()
        .await
        .assert_error(409, "conflict", None);
    app.clock.advance_ms(1);
    let re =
        app.post(&format!("/v1/waitlist_entries/{}/invite", id(&a)), json!({})).send().await.assert_status(200).json;
    assert_eq!((re["status"].clone(), re["invitation"]["status"].clone()), (json!("invited"), json!("pending")));
    // Delete: pending entries only.
    app.delete(&format!("/v1/waitlist_entries/{}", id(&a))).send().await.assert_error(409, "conflict", None);
    let del = app.delete(&format!("/v1/waitlist_entries/{}", id(&c))).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "waitlist_entry", "id": id(&c), "deleted": true }));
    for path in ["/v1/waitlist_entries/wle_nope/invite", "/v1/waitlist_entries/wle_nope/reject"] {
        app.post(path, json!({})).send().await.assert_error(404, "resource_not_found", None);
    }
    app.delete(&format!("/v1/waitlist_entries/{}", id(&c))).send().await.assert_error(404, "resource_not_found", None);
    let updated = events_of(&app, "waitlistEntry.updated").await;
    assert_eq!(updated.len(), 4, "invite a, invite b, reject a, invite a");

    // Lists.
    let all = app.get("/v1/waitlist_entries").send().await.assert_status(200).json;
    assert_eq!(ids(&all), vec![id(&b), id(&a)]);
    assert_eq!(all["total_count"], 2);
    let by_mail = app.get("/v1/waitlist_entries?order_by=-email_address&limit=1").send().await.json;
    assert_eq!((ids(&by_mail), by_mail["total_count"].clone()), (vec![id(&b)], json!(2)));
    let by_invite = app.get("/v1/waitlist_entries?order_by=-invited_at").send().await.json;
    assert_eq!(ids(&by_invite), vec![id(&a), id(&b)], "a was invited last");
    assert_eq!(ids(&app.get("/v1/waitlist_entries?query=ANN").send().await.json), vec![id(&a)]);
    assert_eq!(ids(&app.get("/v1/waitlist_entries?status=invited&offset=1").send().await.json), vec![id(&a)]);
    assert_eq!(app.get("/v1/waitlist_entries?status=rejected").send().await.json["total_count"], 0);
    app.get("/v1/waitlist_entries?status=gone").send().await.assert_error(400, "query_param_invalid", Some("status"));
    app.get("/v1/waitlist_entries?order_by=status").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("order_by"),
    );
    app.get("/v1/waitlist_entries?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));

    // Another instance reaches none of them.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    assert_eq!(app.get("/v1/waitlist_entries").bearer(&key_b).send().await.json["total_count"], 0);
    app.post(&format!("/v1/waitlist_entries/{}/reject", id(&b)), json!({})).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let same = app
        .post("/v1/waitlist_entries", json!({ "email_address": "bob@example.com" }))
        .bearer(&key_b)
        .send()
        .await
        .json;
    assert_ne!(same["id"], b["id"], "addresses are per instance");
}
