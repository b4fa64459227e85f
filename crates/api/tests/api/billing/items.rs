//! Subscription items: price transitions, cancellation, trials, discounts, the item list, statements.

use serde_json::json;
use tessera_testkit::TestApp;

use super::{T0, discount_id, enable, item_of, plus_user, price_of, subscription, transition, user};
use crate::events_of;

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn free_to_paid_is_immediate_and_charged() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let u = user(&app, "ann@example.com").await;
    let t = transition(&app, &u, "free_user", "plus").await;
    assert_eq!(t["object"], "commerce_price_transition");
    let item = &t["subscription_item"];
    assert_eq!(item["status"], "active");
    assert_eq!(item["plan"]["slug"], "plus");
    assert_eq!(item["period_start"], T0);
    assert_eq!(item["is_free_trial"], false);
    assert_eq!(t["transition"]["effective_mode"], "immediate");
    assert_eq!(t["transition"]["charged_immediately"], true);
    assert_eq!(t["transition"]["immediate_charge"]["amount"], 5000);
    assert_eq!(t["transition"]["previous_subscription_item_status"], "ended");
    assert_eq!(t["transition"]["previous_plan"]["slug"], "free_user");

    let sub = subscription(&app, &u).await;
    let items = sub["subscription_items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{sub}");
    assert_eq!(items[0]["plan"]["slug"], "plus");
    assert_eq!(items[0]["lifetime_paid"]["amount"], 5000);
    assert_eq!(items[0]["next_payment"]["amount"]["amount"], 5000);

    // The charge is on the payer's statement of the month.
    let statements = app.get("/v1/billing/statements").send().await.assert_status(200).json;
    assert_eq!(statements["total_count"], 1);
    let st = &statements["data"][0];
    assert_eq!(st["status"], "open");
    assert_eq!(st["totals"]["grand_total"]["amount"], 5000);
    assert_eq!(st["payer"]["user_id"], u.as_str());
    let st_id = st["id"].as_str().unwrap();
    let one = app.get(&format!("/v1/billing/statements/{st_id}")).send().await.assert_status(200).json;
    assert_eq!(one["groups"][0]["items"][0]["charge_type"], "checkout");
    let attempts =
        app.get(&format!("/v1/billing/statements/{st_id}/payment_attempts")).send().await.assert_status(200).json;
    assert_eq!(attempts["total_count"], 1);
    assert_eq!(attempts["data"][0]["status"], "paid");
    assert_eq!(attempts["data"][0]["amount"]["amount"], 5000);
    app.get("/v1/billing/statements/cstmt_nope").send().await.assert_error(404, "resource_not_found", None);
    app.get("/v1/billing/statements/cstmt_nope/payment_attempts").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    let paid = events_of(&app, "paymentAttempt.updated").await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0]["data"]["status"], "paid");
    assert_eq!(events_of(&app, "paymentAttempt.created").await[0]["data"]["status"], "pending");
    assert_eq!(events_of(&app, "subscriptionItem.ended").await.len(), 1);
}

#[tokio::test]
async fn transition_errors() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let u = user(&app, "bob@example.com").await;
    let sub = subscription(&app, &u).await;
    let item = item_of(&sub, "free_user");
    let path = format!("/v1/billing/subscription_items/{}/price_transition", item["id"].as_str().unwrap());
    let free = item["price_id"].as_str().unwrap();
    let plus = price_of(&app, "plus").await;
    let team = price_of(&app, "team").await;
    let post = |body| app.post(&path, body);
    post(json!({ "from_price_id": plus, "to_price_id": plus })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("from_price_id"),
    );
    post(json!({ "from_price_id": free, "to_price_id": free })).send().await.assert_error(
        409,
        "conflict",
        Some("to_price_id"),
    );
    post(json!({ "from_price_id": free, "to_price_id": "cprice_nope" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    post(json!({ "from_price_id": free, "to_price_id": team })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("to_price_id"),
    );
    post(json!({ "from_price_id": free })).send().await.assert_error(422, "form_param_missing", Some("to_price_id"));
    app.post(
        "/v1/billing/subscription_items/csubi_nope/price_transition",
        json!({ "from_price_id": free, "to_price_id": plus }),
    )
    .send()
    .await
    .assert_error(404, "resource_not_found", None);

    // A declined payment changes nothing.
    tessera_core::billing::catalog::set_payments_succeed(app.ctx(), &app.instance.id, false).await.unwrap();
    post(json!({ "from_price_id": free, "to_price_id": plus })).send().await.assert_error(
        422,
        "billing_payment_failed",
        None,
    );
    assert_eq!(item_of(&subscription(&app, &u).await, "free_user")["status"], "active");
}

#[tokio::test]
async fn paid_changes_wait_for_the_period_end() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let (u, plus_item) = plus_user(&app, "cat@example.com").await;
    app.clock.advance_ms(DAY);
    // paid → paid: upcoming at the period's end, the current item canceled (keeps its features until then).
    let t = transition(&app, &u, "plus", "pro").await;
    assert_eq!(t["subscription_item"]["status"], "upcoming");
    assert_eq!(t["transition"]["effective_mode"], "end_of_period");
    assert_eq!(t["transition"]["charged_immediately"], false);
    assert_eq!(t["transition"]["previous_subscription_item_status"], "canceled");
    let period_end = t["transition"]["effective_at"].as_i64().unwrap();
    assert!(period_end > T0 + 27 * DAY);
    let sub = subscription(&app, &u).await;
    assert_eq!(item_of(&sub, "plus")["status"], "canceled");
    assert_eq!(item_of(&sub, "pro")["status"], "upcoming");
    // paid → free instead: the pro upcoming item is abandoned, the default plan is upcoming.
    let t = transition(&app, &u, "plus", "free_user").await;
    assert_eq!(t["subscription_item"]["plan"]["slug"], "free_user");
    assert_eq!(t["subscription_item"]["status"], "upcoming");
    let sub = subscription(&app, &u).await;
    assert_eq!(sub["subscription_items"].as_array().unwrap().len(), 2, "{sub}");
    assert_eq!(events_of(&app, "subscriptionItem.abandoned").await.len(), 1);

    // The list: paid items by default, free ones with include_free, by status / plan / query.
    let list = |q: &str| app.get(&format!("/v1/billing/subscription_items{q}"));
    let paid = list("").send().await.assert_status(200).json;
    assert_eq!(paid["total_count"], 2);
    let with_free = list("?include_free=true").send().await.assert_status(200).json;
    assert_eq!(with_free["total_count"], 3);
    let upcoming = list("?status=upcoming&include_free=true").send().await.assert_status(200).json;
    assert_eq!(upcoming["total_count"], 1);
    assert_eq!(list("?status=active").send().await.assert_status(200).json["total_count"], 0);
    assert_eq!(list(&format!("?query={u}")).send().await.assert_status(200).json["total_count"], 2);
    assert_eq!(list("?query=PLU").send().await.assert_status(200).json["total_count"], 1);
    assert_eq!(list("?payer_type=org").send().await.assert_status(200).json["total_count"], 0);
    list("?status=gone").send().await.assert_error(400, "query_param_invalid", Some("status"));

    // Cancel now: the item ends, the default plan is active at once.
    let ended = app
        .delete(&format!("/v1/billing/subscription_items/{plus_item}?end_now=true"))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(ended["status"], "ended");
    let sub = subscription(&app, &u).await;
    assert_eq!(item_of(&sub, "free_user")["status"], "active");
}

#[tokio::test]
async fn cancel_at_period_end() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let (u, item) = plus_user(&app, "dan@example.com").await;
    let path = format!("/v1/billing/subscription_items/{item}");
    let c = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(c["status"], "canceled");
    assert_eq!(c["canceled_at"], T0);
    app.delete(&path).send().await.assert_status(200);
    let sub = subscription(&app, &u).await;
    assert_eq!(item_of(&sub, "free_user")["status"], "upcoming");
    assert_eq!(item_of(&sub, "free_user")["period_start"], c["period_end"]);
    assert_eq!(events_of(&app, "subscriptionItem.canceled").await.len(), 1);
    assert_eq!(events_of(&app, "subscriptionItem.upcoming").await.len(), 1);
    let free = item_of(&sub, "free_user")["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/billing/subscription_items/{free}")).send().await.assert_error(
        422,
        "billing_invalid_state",
        None,
    );
    app.delete("/v1/billing/subscription_items/csubi_nope").send().await.assert_error(404, "resource_not_found", None);
    // The period ends: the item ends, the default plan takes over (same id as before).
    app.clock.advance_ms(31 * DAY);
    tessera_core::billing::clock::run_due(app.ctx()).await.unwrap();
    let sub = subscription(&app, &u).await;
    let items = sub["subscription_items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], free.as_str());
    assert_eq!(items[0]["status"], "active");
}

/// Clerk's rule for free→paid when the payer has another live paid item: the new plan is upcoming at that item's
/// period end (no double billing), whether the paid item is canceled (the default plan upcoming) or active.
#[tokio::test]
async fn free_to_paid_beside_a_paid_item_waits_for_its_period_end() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let (u, item) = plus_user(&app, "fay@example.com").await;
    let c = app.delete(&format!("/v1/billing/subscription_items/{item}")).send().await.assert_status(200).json;
    let t = transition(&app, &u, "free_user", "pro").await;
    assert_eq!(t["subscription_item"]["status"], "upcoming");
    assert_eq!(t["subscription_item"]["plan"]["slug"], "pro");
    assert_eq!(t["subscription_item"]["period_start"], c["period_end"]);
    let sub = subscription(&app, &u).await;
    let mut live: Vec<(&str, &str)> = sub["subscription_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["plan"]["slug"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    live.sort_unstable();
    assert_eq!(live, [("plus", "canceled"), ("pro", "upcoming")], "the default plan's upcoming item is abandoned");
    // At the period's end the new plan starts and is charged; nothing was charged before.
    let statements = app.get("/v1/billing/statements").send().await.assert_status(200).json;
    assert_eq!(statements["data"][0]["totals"]["grand_total"]["amount"], 5000);
    app.clock.advance_ms(31 * DAY);
    tessera_core::billing::clock::run_due(app.ctx()).await.unwrap();
    let sub = subscription(&app, &u).await;
    assert_eq!(item_of(&sub, "pro")["status"], "active");

    // With the paid item active (not canceled), the same: it is canceled and the new plan waits for its end.
    let (v, _) = plus_user(&app, "gil@example.com").await;
    let sub = subscription(&app, &v).await;
    let plus = item_of(&sub, "plus").clone();
    let free = sub["subscription_items"].as_array().unwrap().iter().find(|i| i["plan"]["slug"] == "free_user");
    assert!(free.is_none(), "the default item ended when plus started");
    let all = app.get(&format!("/v1/billing/subscription_items?include_free=true&status=ended&query={v}")).send().await;
    let ended_free = all.assert_status(200).json["data"][0].clone();
    let body = json!({ "from_price_id": ended_free["price_id"], "to_price_id": price_of(&app, "pro").await });
    let path = format!("/v1/billing/subscription_items/{}/price_transition", ended_free["id"].as_str().unwrap());
    let t = app.post(&path, body).send().await.assert_status(200).json;
    assert_eq!(t["subscription_item"]["status"], "upcoming");
    assert_eq!(t["subscription_item"]["period_start"], plus["period_end"]);
    assert_eq!(item_of(&subscription(&app, &v).await, "plus")["status"], "canceled");
}

#[tokio::test]
async fn trials_start_once_and_extend() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let u = user(&app, "eve@example.com").await;
    let t = transition(&app, &u, "free_user", "pro").await;
    let item = &t["subscription_item"];
    assert_eq!(item["is_free_trial"], true);
    assert_eq!(item["period_end"], T0 + 14 * DAY);
    assert_eq!(t["transition"]["charged_immediately"], false);
    assert_eq!(subscription(&app, &u).await["eligible_for_free_trial"], false);
    let id = item["id"].as_str().unwrap();
    let path = format!("/v1/billing/subscription_items/{id}/extend_free_trial");
    let iso = |ms: i64| tessera_core::billing::calendar::rfc3339(ms);
    let e = app.post(&path, json!({ "extend_to": iso(T0 + 20 * DAY) })).send().await.assert_status(200).json;
    assert_eq!(e["period_end"], T0 + 20 * DAY);
    assert_eq!(e["is_free_trial"], true);
    // The same end again is idempotent; earlier, past, too far or malformed ends are refused.
    app.post(&path, json!({ "extend_to": iso(T0 + 20 * DAY) })).send().await.assert_status(200);
    let refuse = |v: serde_json::Value, code: &str| {
        let r = app.post(&path, json!({ "extend_to": v }));
        let code = code.to_owned();
        async move { r.send().await.assert_error(422, &code, Some("extend_to")) }
    };
    refuse(json!(iso(T0 + 15 * DAY)), "form_param_value_invalid").await;
    refuse(json!(iso(T0 - DAY)), "form_param_value_invalid").await;
    refuse(json!(iso(T0 + 400 * DAY)), "form_param_value_invalid").await;
    refuse(json!("soon"), "form_param_format_invalid").await;
    // A paid item has no trial to extend.
    let (_, plus) = plus_user(&app, "fay@example.com").await;
    app.post(
        &format!("/v1/billing/subscription_items/{plus}/extend_free_trial"),
        json!({ "extend_to": iso(T0 + DAY) }),
    )
    .send()
    .await
    .assert_error(422, "billing_invalid_state", None);
}

#[tokio::test]
async fn discounts_apply_replace_and_remove() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let (u, item) = plus_user(&app, "gus@example.com").await;
    let half = discount_id(&app, "half").await;
    let five = discount_id(&app, "five").await;
    let path = format!("/v1/billing/subscription_items/{item}/discounts");
    let r = app.post(&path, json!({ "discount_id": half })).send().await.assert_status(200).json;
    assert_eq!(r["object"], "commerce_discount_redemption");
    assert_eq!(r["status"], "active");
    assert_eq!(r["effect"], "percentage");
    assert_eq!(r["percent_off"], 50.0);
    assert_eq!(r["cycles_remaining"], 2);
    app.post(&path, json!({ "discount_id": half })).send().await.assert_error(409, "conflict", Some("discount_id"));
    let r = app.post(&path, json!({ "discount_id": five })).send().await.assert_status(200).json;
    assert_eq!(r["source"], "promo_code");
    assert_eq!(r["amount_off"]["amount"], 500);
    app.post(&path, json!({ "discount_id": "cdisc_nope" })).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("{path}/{half}")).send().await.assert_error(404, "resource_not_found", None);
    let removed = app.delete(&format!("{path}/{five}")).send().await.assert_status(200).json;
    assert_eq!(removed["status"], "removed");
    let sub = subscription(&app, &u).await;
    let free = item_of(&sub, "plus")["id"].as_str().unwrap().to_owned();
    assert_eq!(free, item);
    // The default plan takes no discount.
    let v = user(&app, "hal@example.com").await;
    let sub = subscription(&app, &v).await;
    let free_item = item_of(&sub, "free_user")["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/billing/subscription_items/{free_item}/discounts"), json!({ "discount_id": half }))
        .send()
        .await
        .assert_error(422, "billing_invalid_state", None);
}
