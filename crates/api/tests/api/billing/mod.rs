//! Billing (issue 14): the catalogue and its switches, the 18 operations, the billing clock, token claims.

mod catalog;
mod clock;
mod credits;
mod items;

use serde_json::{Value, json};
use tessera_core::billing::catalog::CatalogFile;
use tessera_testkit::TestApp;

pub use crate::users::T0;

/// The test catalogue: free defaults, `pro` ($20/month or $16/month yearly) and `plus` ($50) for users, with
/// `pro` having a 14-day trial; `team` ($100) for organizations; two discounts.
pub fn catalogue() -> CatalogFile {
    serde_json::from_value(json!({
        "billing": { "user": true, "org": true },
        "features": [ { "slug": "reports", "name": "Reports" } ],
        "plans": [
            { "slug": "pro", "name": "Pro", "payer_type": "user", "fee": 2000, "annual_monthly_fee": 1600,
              "free_trial_days": 14, "features": ["reports", "exports"] },
            { "slug": "plus", "name": "Plus", "payer_type": "user", "fee": 5000, "features": ["reports", "api"] },
            { "slug": "team", "name": "Team", "payer_type": "org", "fee": 10000, "features": ["sso"] }
        ],
        "discounts": [
            { "slug": "half", "name": "Half off", "percent_off": 50, "cycles": 2 },
            { "slug": "five", "name": "Five dollars", "amount_off": 500, "promo_code": "FIVE" }
        ]
    }))
    .unwrap()
}

/// Applies the test catalogue (billing on for users and organizations).
pub async fn enable(app: &TestApp) {
    tessera_core::billing::catalog::apply(app.ctx(), &app.instance.id, &catalogue()).await.unwrap();
}

/// A user; returns its id.
pub async fn user(app: &TestApp, email: &str) -> String {
    crate::users::user_with_email(app, email).await
}

/// The plan with this slug, from the plan list.
pub async fn plan(app: &TestApp, slug: &str) -> Value {
    let plans = app.get("/v1/billing/plans?limit=100").send().await.assert_status(200).json;
    plans["data"].as_array().unwrap().iter().find(|p| p["slug"] == slug).unwrap_or_else(|| panic!("{slug}")).clone()
}

/// The default price of a plan.
pub async fn price_of(app: &TestApp, slug: &str) -> String {
    let plan_id = plan(app, slug).await["id"].as_str().unwrap().to_owned();
    let prices = app.get(&format!("/v1/billing/prices?plan_id={plan_id}")).send().await.assert_status(200).json;
    let p = prices["data"].as_array().unwrap().iter().find(|p| p["is_default"] == true).unwrap();
    p["id"].as_str().unwrap().to_owned()
}

/// A user's subscription.
pub async fn subscription(app: &TestApp, user_id: &str) -> Value {
    app.get(&format!("/v1/users/{user_id}/billing/subscription")).send().await.assert_status(200).json
}

/// The subscription's item for the plan with this slug.
pub fn item_of<'a>(sub: &'a Value, slug: &str) -> &'a Value {
    sub["subscription_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["plan"]["slug"] == slug)
        .unwrap_or_else(|| panic!("no {slug} item in {sub}"))
}

/// Moves a user from its current item (of plan `from`) to plan `to`'s default price; the transition answer.
pub async fn transition(app: &TestApp, user_id: &str, from: &str, to: &str) -> Value {
    let sub = subscription(app, user_id).await;
    let item = item_of(&sub, from);
    let body = json!({ "from_price_id": item["price_id"], "to_price_id": price_of(app, to).await });
    let path = format!("/v1/billing/subscription_items/{}/price_transition", item["id"].as_str().unwrap());
    app.post(&path, body).send().await.assert_status(200).json
}

/// A user on the paid `plus` plan (no trial); returns `(user id, item id)`.
pub async fn plus_user(app: &TestApp, email: &str) -> (String, String) {
    let u = user(app, email).await;
    let t = transition(app, &u, "free_user", "plus").await;
    (u, t["subscription_item"]["id"].as_str().unwrap().to_owned())
}

/// The id of the discount with this slug.
pub async fn discount_id(app: &TestApp, slug: &str) -> String {
    let all = tessera_core::store::billing::discounts(&app.ctx().db, &app.instance.id).await.unwrap();
    all.into_iter().find(|d| d.slug == slug).unwrap().id
}
