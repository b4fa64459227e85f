//! Credit balances and idempotent adjustments, for users and organizations.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, user};

#[tokio::test]
async fn adjustments_are_idempotent_and_never_negative() {
    let app = TestApp::with_clock(T0).await;
    let u = user(&app, "ida@example.com").await;
    let bal = format!("/v1/users/{u}/billing/credits");
    let b = app.get(&bal).send().await.assert_status(200).json;
    assert_eq!(b["object"], "commerce_credit_balance");
    assert_eq!(b["balance"], serde_json::Value::Null);

    let add = json!({ "amount": 5000, "action": "increase", "idempotency_key": "k1", "note": "welcome" });
    let e = app.post(&bal, add.clone()).send().await.assert_status(200).json;
    assert_eq!(e["object"], "commerce_credit_ledger");
    assert_eq!(e["amount"]["amount"], 5000);
    assert_eq!(e["note"], "welcome");
    assert_eq!(e["created_at"], "2025-06-15T15:06:40.000Z");
    // Same key, same request: the original entry; same key, another request: 409.
    app.clock.advance_ms(1000);
    let again = app.post(&bal, add).send().await.assert_status(200).json;
    assert_eq!(again, e);
    let other = json!({ "amount": 1, "action": "increase", "idempotency_key": "k1" });
    app.post(&bal, other).send().await.assert_error(409, "conflict", Some("idempotency_key"));
    let b = app.get(&bal).send().await.assert_status(200).json;
    assert_eq!(b["balance"]["amount"], 5000);
    assert_eq!(b["balance"]["amount_formatted"], "50.00");

    let take = json!({ "amount": 2000, "action": "decrease", "idempotency_key": "k2", "currency": "USD" });
    let d = app.post(&bal, take).send().await.assert_status(200).json;
    assert_eq!(d["amount"]["amount"], -2000);
    assert_eq!(d["amount"]["amount_formatted"], "-20.00");
    let too_much = json!({ "amount": 3001, "action": "decrease", "idempotency_key": "k3" });
    app.post(&bal, too_much).send().await.assert_error(422, "insufficient_credit_balance", None);
    let post = |body| app.post(&bal, body);
    post(json!({ "amount": 0, "action": "increase", "idempotency_key": "k4" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("amount"),
    );
    post(json!({ "amount": 1, "action": "double", "idempotency_key": "k4" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("action"),
    );
    post(json!({ "amount": 1, "action": "increase", "idempotency_key": "k4", "currency": "EUR" }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("currency"));
    post(json!({ "amount": 1, "action": "increase" })).send().await.assert_error(
        422,
        "form_param_missing",
        Some("idempotency_key"),
    );
    assert_eq!(app.get(&bal).send().await.assert_status(200).json["balance"]["amount"], 3000);

    app.get("/v1/users/user_nope/billing/credits").send().await.assert_error(404, "resource_not_found", None);
    let body = json!({ "amount": 1, "action": "increase", "idempotency_key": "x" });
    app.post("/v1/users/user_nope/billing/credits", body.clone()).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let (_, key) = app.create_instance(Environment::Development).await;
    app.post(&bal, body).bearer(&key).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn organizations_have_credits_too() {
    let app = TestApp::new().await;
    crate::probe::enable_features(&app, None).await;
    let org = app.post("/v1/organizations", json!({ "name": "Credits Inc" })).send().await.assert_status(200).json;
    let path = format!("/v1/organizations/{}/billing/credits", org["id"].as_str().unwrap());
    assert_eq!(app.get(&path).send().await.assert_status(200).json["balance"], serde_json::Value::Null);
    let e = app
        .post(&path, json!({ "amount": 700, "action": "increase", "idempotency_key": "org-1" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert!(e["payer_id"].as_str().unwrap().starts_with("cpayer_"));
    assert_eq!(app.get(&path).send().await.assert_status(200).json["balance"]["amount"], 700);
    app.get("/v1/organizations/org_nope/billing/credits").send().await.assert_error(404, "resource_not_found", None);
}
