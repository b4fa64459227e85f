//! The billing clock: a year of daily ticks with renewals, credits drawn, a declined renewal going past due, a
//! trial converting, and statements that add up.

use serde_json::{Value, json};
use tessera_core::billing::{catalog, clock};
use tessera_testkit::TestApp;

use super::{T0, enable, item_of, subscription, transition, user};

const DAY: i64 = 86_400_000;

/// Events of `kind` (a year makes more than the usual helper's 1000 recent ones), each valid against the spec.
async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    let all = tessera_core::events::recent(app.ctx(), &app.instance.id, 100_000).await.unwrap();
    all.into_iter()
        .filter(|e| e.event_type == kind)
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            e.payload
        })
        .collect()
}

fn amounts(list: &[Value], field: &str) -> i64 {
    list.iter().map(|s| s["totals"][field]["amount"].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn the_clock_has_something_due_only_when_a_period_ends_a_trial_nears_or_a_statement_closes() {
    let app = TestApp::with_clock(T0).await;
    assert!(!clock::anything_due(app.ctx()).await.unwrap(), "no billing at all");
    enable(&app).await;
    let a = user(&app, "ann@example.com").await;
    transition(&app, &a, "free_user", "plus").await;
    assert!(!clock::anything_due(app.ctx()).await.unwrap(), "a fresh period is not due");
    app.clock.advance_ms(40 * DAY);
    assert!(clock::anything_due(app.ctx()).await.unwrap(), "the period ended");
    clock::run_due(app.ctx()).await.unwrap();
    assert!(!clock::anything_due(app.ctx()).await.unwrap(), "renewed and the statement closed");

    let b = user(&app, "bea@example.com").await;
    transition(&app, &b, "free_user", "pro").await;
    app.clock.advance_ms(11 * DAY);
    assert!(clock::anything_due(app.ctx()).await.unwrap(), "the trial ends within three days");
    clock::run_due(app.ctx()).await.unwrap();
    assert!(!clock::anything_due(app.ctx()).await.unwrap(), "announced");
}

#[tokio::test]
async fn a_year_of_periods() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let a = user(&app, "ann@example.com").await;
    let b = user(&app, "bea@example.com").await;
    let credit = json!({ "amount": 12000, "action": "increase", "idempotency_key": "start" });
    app.post(&format!("/v1/users/{a}/billing/credits"), credit).send().await.assert_status(200);
    transition(&app, &a, "free_user", "plus").await;
    let trial = transition(&app, &b, "free_user", "pro").await;
    assert_eq!(trial["subscription_item"]["is_free_trial"], true);

    for day in 1..=365 {
        app.clock.advance_ms(DAY);
        match day {
            170 => catalog::set_payments_succeed(app.ctx(), &app.instance.id, false).await.unwrap(),
            190 => catalog::set_payments_succeed(app.ctx(), &app.instance.id, true).await.unwrap(),
            _ => {}
        }
        clock::run_due(app.ctx()).await.unwrap();
        match day {
            11 => assert_eq!(events(&app, "subscriptionItem.freeTrialEnding").await.len(), 1),
            13 => assert_eq!(item_of(&subscription(&app, &b).await, "pro")["is_free_trial"], true),
            14 => {
                let item = item_of(&subscription(&app, &b).await, "pro").clone();
                assert_eq!(item["is_free_trial"], false, "{item}");
                assert_eq!(item["status"], "active");
                assert_eq!(item["lifetime_paid"]["amount"], 2000);
            }
            183 => {
                let sub = subscription(&app, &a).await;
                assert_eq!(sub["status"], "past_due", "{sub}");
                assert_eq!(item_of(&sub, "plus")["status"], "past_due");
            }
            214 => {
                let sub = subscription(&app, &a).await;
                assert_eq!(sub["status"], "active");
                assert_eq!(item_of(&sub, "free_user")["status"], "active");
            }
            230 => {
                transition(&app, &a, "free_user", "plus").await;
            }
            _ => {}
        }
    }
    // Nothing left to do.
    let again = clock::run_due(app.ctx()).await.unwrap();
    assert_eq!(again, 0);
    assert_eq!(events(&app, "subscriptionItem.freeTrialEnding").await.len(), 1);
    assert_eq!(events(&app, "subscription.pastDue").await.len(), 1);
    assert_eq!(events(&app, "subscriptionItem.pastDue").await.len(), 1);

    let all = app.get("/v1/billing/statements?limit=100").send().await.assert_status(200).json;
    let all = all["data"].as_array().unwrap().clone();
    let of = |u: &str| -> Vec<Value> { all.iter().filter(|s| s["payer"]["user_id"] == u).cloned().collect() };
    let (sa, sb) = (of(&a), of(&b));
    // Ann: Jun–Dec 2025 and Jan–May 2026, all closed (no charge yet in June 2026).
    assert_eq!(sa.len(), 12);
    assert!(sa.iter().all(|s| s["status"] == "closed"));
    // Credits paid $50 + $50 + $20; the card $30, three × $50, then five × $50 after resubscribing.
    assert_eq!(amounts(&sa, "grand_total"), 43000);
    assert_eq!(amounts(&sa, "subtotal"), 55000);
    let failed: Vec<Value> = sa
        .iter()
        .flat_map(|s| s["groups"].as_array().unwrap().iter().flat_map(|g| g["items"].as_array().unwrap().clone()))
        .filter(|a| a["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    let bal = app.get(&format!("/v1/users/{a}/billing/credits")).send().await.assert_status(200).json;
    assert_eq!(bal["balance"]["amount"], 0);
    // Bea: the trial converted, then eleven renewals at $20.
    assert_eq!(amounts(&sb, "grand_total"), 24000);
    assert_eq!(item_of(&subscription(&app, &b).await, "pro")["lifetime_paid"]["amount"], 24000);
}

#[tokio::test]
async fn only_one_node_holds_the_clock() {
    let app = TestApp::with_clock(T0).await;
    assert!(clock::take_lease(app.ctx(), "node-a", 30_000).await.unwrap());
    assert!(!clock::take_lease(app.ctx(), "node-b", 30_000).await.unwrap());
    assert!(clock::take_lease(app.ctx(), "node-a", 30_000).await.unwrap());
    app.clock.advance_ms(30_001);
    assert!(clock::take_lease(app.ctx(), "node-b", 30_000).await.unwrap());
    assert!(!clock::take_lease(app.ctx(), "node-a", 30_000).await.unwrap());
}
