//! The catalogue: enabling billing subscribes existing and new payers to the default plan; plans and prices.

use serde_json::json;
use tessera_core::billing::{PayerType, catalog};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{enable, plan, price_of, subscription, user};
use crate::events_of;

#[tokio::test]
async fn enabling_billing_gives_every_payer_the_default_plan() {
    let app = TestApp::new().await;
    crate::probe::enable_features(&app, None).await;
    let before = user(&app, "before@example.com").await;
    // Billing off: no subscription yet.
    app.get(&format!("/v1/users/{before}/billing/subscription")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get("/v1/users/user_nope/billing/subscription").send().await.assert_error(404, "resource_not_found", None);
    let org = app
        .post("/v1/organizations", json!({ "name": "Acme", "created_by": before }))
        .send()
        .await
        .assert_status(200)
        .json;
    let org_id = org["id"].as_str().unwrap();

    enable(&app).await;
    let sub = subscription(&app, &before).await;
    assert_eq!(sub["object"], "commerce_subscription");
    assert_eq!(sub["status"], "active");
    let items = sub["subscription_items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["plan"]["slug"], "free_user");
    assert_eq!(items[0]["plan"]["is_default"], true);
    assert_eq!(items[0]["status"], "active");
    assert_eq!(items[0]["period_end"], serde_json::Value::Null);
    assert_eq!(sub["eligible_for_free_trial"], true);

    let after = user(&app, "after@example.com").await;
    let sub2 = subscription(&app, &after).await;
    assert_eq!(super::item_of(&sub2, "free_user")["status"], "active");
    let org_sub =
        app.get(&format!("/v1/organizations/{org_id}/billing/subscription")).send().await.assert_status(200).json;
    assert_eq!(super::item_of(&org_sub, "free_org")["status"], "active");
    app.get("/v1/organizations/org_nope/billing/subscription").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    // Enabling again changes nothing; each payer got created + active events once.
    assert_eq!(catalog::set_enabled(app.ctx(), &app.instance.id, PayerType::User, true).await.unwrap(), 0);
    assert_eq!(events_of(&app, "subscription.created").await.len(), 3);
    assert_eq!(events_of(&app, "subscriptionItem.active").await.len(), 3);
    let created = events_of(&app, "subscription.created").await;
    assert_eq!(created[0]["data"]["items"][0]["plan"]["slug"], "free_user");
}

#[tokio::test]
async fn plans_list_newest_first_filtered_by_payer_type() {
    let app = TestApp::new().await;
    enable(&app).await;
    let all = app.get("/v1/billing/plans").send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 5);
    let user_plans = app.get("/v1/billing/plans?payer_type=user&limit=2&offset=1").send().await.assert_status(200).json;
    assert_eq!(user_plans["total_count"], 3);
    assert_eq!(user_plans["data"].as_array().unwrap().len(), 2);
    let org_plans = app.get("/v1/billing/plans?payer_type=org").send().await.assert_status(200).json;
    let slugs: Vec<_> = org_plans["data"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs.len(), 2);
    assert!(slugs.contains(&"team") && slugs.contains(&"free_org"));
    app.get("/v1/billing/plans?payer_type=robot").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("payer_type"),
    );

    let pro = plan(&app, "pro").await;
    assert_eq!(pro["fee"]["amount"], 2000);
    assert_eq!(pro["fee"]["amount_formatted"], "20.00");
    assert_eq!(pro["annual_fee"]["amount"], 19200);
    assert_eq!(pro["free_trial_enabled"], true);
    assert_eq!(pro["free_trial_days"], 14);
    let features: Vec<_> = pro["features"].as_array().unwrap().iter().map(|f| f["slug"].as_str().unwrap()).collect();
    assert_eq!(features, ["reports", "exports"]);
    assert_eq!(pro["for_payer_type"], "user");

    // Another instance sees none of them.
    let (_, key) = app.create_instance(Environment::Development).await;
    let other = app.get("/v1/billing/plans").bearer(&key).send().await.assert_status(200).json;
    assert_eq!(other["total_count"], 0);
}

#[tokio::test]
async fn custom_prices() {
    let app = TestApp::with_clock(super::T0).await;
    enable(&app).await;
    let pro = plan(&app, "pro").await;
    let pro_id = pro["id"].as_str().unwrap();
    let p = app
        .post("/v1/billing/prices", json!({ "plan_id": pro_id, "amount": 1500, "description": "friends" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(p["object"], "commerce_price");
    assert_eq!(p["is_default"], false);
    assert_eq!(p["supported_billing_periods"], "month");
    assert_eq!(p["fee"]["amount_formatted"], "15.00");
    let free = app.post("/v1/billing/prices", json!({ "plan_id": pro_id, "amount": 0, "annual_monthly_amount": 0 }));
    free.send().await.assert_status(200);
    app.clock.advance_ms(1);
    let annual = app
        .post("/v1/billing/prices", json!({ "plan_id": pro_id, "amount": null, "annual_monthly_amount": 1000 }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(annual["amount"], 2000);
    assert_eq!(annual["supported_billing_periods"], "both");

    // Sorted by amount, then newest first.
    let list = app.get(&format!("/v1/billing/prices?plan_id={pro_id}")).send().await.assert_status(200).json;
    let amounts: Vec<_> = list["data"].as_array().unwrap().iter().map(|p| p["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, [0, 1500, 2000, 2000]);
    assert_eq!(list["data"][2]["id"], annual["id"]);
    let all = app.get("/v1/billing/prices?limit=2").send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 8);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);

    app.get("/v1/billing/prices?plan_id=cplan_nope").send().await.assert_error(404, "resource_not_found", None);
    let bad = |body| app.post("/v1/billing/prices", body);
    bad(json!({ "plan_id": "cplan_nope", "amount": 100 })).send().await.assert_error(404, "resource_not_found", None);
    bad(json!({ "plan_id": pro_id, "amount": 50 })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("amount"),
    );
    bad(json!({ "plan_id": pro_id, "amount": 500, "currency": "EUR" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("currency"),
    );
    bad(json!({ "plan_id": pro_id, "amount": 500, "supported_billing_periods": "annual" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("annual_monthly_amount"),
    );
    let free_plan = plan(&app, "free_user").await;
    bad(json!({ "plan_id": free_plan["id"], "amount": 500 })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("plan_id"),
    );
    bad(json!({ "amount": 500 })).send().await.assert_error(422, "form_param_missing", Some("plan_id"));
    assert!(!price_of(&app, "plus").await.is_empty());
}

#[tokio::test]
async fn catalogue_files_are_checked() {
    let app = TestApp::new().await;
    let bad = |text: &str| catalog::parse_file(text).map(|_| ());
    assert!(bad("{\"plans\": [], \"extra\": 1}").is_err());
    let file = catalog::parse_file(r#"{"plans": [{"slug": "x", "payer_type": "robot"}]}"#).unwrap();
    assert!(catalog::apply(app.ctx(), &app.instance.id, &file).await.is_err());
    let file = catalog::parse_file(r#"{"plans": [{"slug": "x", "payer_type": "user", "fee": 100, "default": true}]}"#)
        .unwrap();
    assert!(catalog::apply(app.ctx(), &app.instance.id, &file).await.is_err());
    let file = catalog::parse_file(r#"{"discounts": [{"slug": "d", "percent_off": 10, "amount_off": 5}]}"#).unwrap();
    assert!(catalog::apply(app.ctx(), &app.instance.id, &file).await.is_err());
    // Updating by slug keeps the plan's id and moves its fee.
    enable(&app).await;
    let before = plan(&app, "plus").await;
    let file = catalog::parse_file(r#"{"plans": [{"slug": "plus", "payer_type": "user", "fee": 6000}]}"#).unwrap();
    catalog::apply(app.ctx(), &app.instance.id, &file).await.unwrap();
    let after = plan(&app, "plus").await;
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["fee"]["amount"], 6000);
}
