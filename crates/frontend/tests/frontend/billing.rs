//! Billing as the browser reads it: the public plans, and the subscriptions of the signed-in user and of an
//! organization (for members who may read its billing).

use serde_json::{Value, json};
use tessera_core::billing::catalog::{self, CatalogFile};
use tessera_testkit::TestApp;

use crate::T0;

fn catalogue(users: bool, orgs: bool) -> CatalogFile {
    serde_json::from_value(json!({
        "billing": { "user": users, "org": orgs },
        "plans": [
            { "slug": "pro", "name": "Pro", "payer_type": "user", "fee": 2000, "features": ["reports"] },
            { "slug": "secret", "name": "Secret", "payer_type": "user", "fee": 100, "publicly_visible": false },
            { "slug": "team", "name": "Team", "payer_type": "org", "fee": 10000, "features": ["sso"] }
        ]
    }))
    .unwrap()
}

async fn user(app: &TestApp, email: &str) -> String {
    let r = app.post("/v1/users", json!({ "email_address": [email] })).send().await.assert_status(200);
    r.json["id"].as_str().unwrap().to_owned()
}

fn slugs(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect()
}

/// Moves the payer of `item` to the default price of plan `slug` through the Backend API.
async fn move_to(app: &TestApp, item: &Value, slug: &str) {
    let plans = app.get("/v1/billing/plans?limit=100").send().await.assert_status(200).json;
    let plan = plans["data"].as_array().unwrap().iter().find(|p| p["slug"] == slug).unwrap().clone();
    let prices = app.get(&format!("/v1/billing/prices?plan_id={}", plan["id"].as_str().unwrap())).send().await;
    let to = prices.assert_status(200).json["data"][0]["id"].clone();
    let path = format!("/v1/billing/subscription_items/{}/price_transition", item["id"].as_str().unwrap());
    let body = json!({ "from_price_id": item["price_id"], "to_price_id": to });
    app.post(&path, body).send().await.assert_status(200);
}

#[tokio::test]
async fn public_plans_of_the_enabled_payer_types() {
    let app = TestApp::with_clock(T0).await;
    let browser = app.browser().await;
    // No catalogue: no plans.
    let r = browser.get("/v1/billing/plans").send().await.assert_status(200);
    assert_eq!(r.json, json!({ "data": [], "total_count": 0 }));

    catalog::apply(app.ctx(), &app.instance.id, &catalogue(true, false)).await.unwrap();
    let all = browser.get("/v1/billing/plans").send().await.assert_status(200).json;
    // Hidden plans and the plans of organizations (billing off for them) are not shown.
    let mut got = slugs(&all);
    got.sort_unstable();
    assert_eq!(got, ["free_user", "pro"]);
    assert_eq!(all["total_count"], 2);
    let pro = all["data"].as_array().unwrap().iter().find(|p| p["slug"] == "pro").unwrap();
    assert_eq!((pro["object"].as_str(), pro["fee"]["amount"].as_i64()), (Some("commerce_plan"), Some(2000)));
    assert_eq!(pro["features"][0]["slug"], "reports");
    let orgs = browser.get("/v1/billing/plans?payer_type=org").send().await.assert_status(200).json;
    assert_eq!(orgs["total_count"], 0);
    let users = browser.get("/v1/billing/plans?payer_type=user").send().await.assert_status(200).json;
    assert_eq!(users["total_count"], 2);
    browser.get("/v1/billing/plans?payer_type=nobody").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("payer_type"),
    );

    // One plan, by slug or by id.
    let by_slug = browser.get("/v1/billing/plans/pro").send().await.assert_status(200).json;
    assert_eq!(by_slug, *pro);
    let by_id = browser.get(&format!("/v1/billing/plans/{}", pro["id"].as_str().unwrap())).send().await;
    assert_eq!(by_id.assert_status(200).json["slug"], "pro");
    for hidden in ["secret", "team", "nope"] {
        browser.get(&format!("/v1/billing/plans/{hidden}")).send().await.assert_error(404, "resource_not_found", None);
    }

    // Another instance sees none of them.
    let (other, _) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let theirs = app.browser_for(&other).await;
    assert_eq!(theirs.get("/v1/billing/plans").send().await.assert_status(200).json["total_count"], 0);
    theirs.get("/v1/billing/plans/pro").send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn the_signed_in_users_subscription_and_items() {
    let app = TestApp::with_clock(T0).await;
    let u = user(&app, "payer@example.com").await;
    let browser = app.browser().await;
    let sess = browser.sign_in_as(&u).await;
    let at = |path: &str| format!("{path}?_clerk_session_id={sess}");
    // Billing off for users: no subscription.
    browser.get(&at("/v1/me/billing/subscription")).send().await.assert_error(404, "resource_not_found", None);

    catalog::apply(app.ctx(), &app.instance.id, &catalogue(true, true)).await.unwrap();
    let r = browser.get(&at("/v1/me/billing/subscription")).send().await.assert_status(200).json;
    let sub = &r["response"];
    assert_eq!((sub["object"].as_str(), sub["status"].as_str()), (Some("commerce_subscription"), Some("active")));
    assert_eq!(sub["subscription_items"][0]["plan"]["slug"], "free_user");
    assert_eq!(r["client"]["sessions"][0]["id"], sess.as_str());
    let free = sub["subscription_items"][0].clone();

    move_to(&app, &free, "pro").await;
    let items = browser.get(&at("/v1/me/billing/subscription_items")).send().await.assert_status(200).json;
    let list = &items["response"];
    assert_eq!(list["total_count"], 1, "{list}");
    assert_eq!(
        (list["data"][0]["plan"]["slug"].as_str(), list["data"][0]["status"].as_str()),
        (Some("pro"), Some("active"))
    );
    let sub = browser.get(&at("/v1/me/billing/subscription")).send().await.assert_status(200).json;
    assert_eq!(sub["response"]["subscription_items"][0]["id"], list["data"][0]["id"]);
    let page = browser.get(&format!("{}&offset=1", at("/v1/me/billing/subscription_items"))).send().await;
    let page = page.assert_status(200).json;
    assert_eq!(
        (page["response"]["data"].as_array().unwrap().len(), page["response"]["total_count"].as_i64()),
        (0, Some(1))
    );

    // Signed out: 401.
    let anonymous = app.browser().await;
    anonymous.get("/v1/me/billing/subscription").send().await.assert_error(401, "signed_out", None);
}

#[tokio::test]
async fn an_organizations_subscription_for_members_who_may_read_its_billing() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
    catalog::apply(app.ctx(), &app.instance.id, &catalogue(true, true)).await.unwrap();
    let admin = user(&app, "admin@example.com").await;
    let member = user(&app, "member@example.com").await;
    let outsider = user(&app, "outsider@example.com").await;
    let org = app.post("/v1/organizations", json!({ "name": "Acme", "created_by": admin })).send().await;
    let org = org.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let body = json!({ "user_id": member, "role": "org:member" });
    app.post(&format!("/v1/organizations/{org}/memberships"), body).send().await.assert_status(200);

    let b = app.browser().await;
    let sess = b.sign_in_as(&admin).await;
    let path = |tail: &str| format!("/v1/organizations/{org}/billing/{tail}?_clerk_session_id={sess}");
    let sub = b.get(&path("subscription")).send().await.assert_status(200).json;
    let free = sub["response"]["subscription_items"][0].clone();
    assert_eq!(free["plan"]["slug"], "free_org");
    assert_eq!(free["payer"]["organization_id"], org.as_str());
    move_to(&app, &free, "team").await;
    let items = b.get(&path("subscription_items")).send().await.assert_status(200).json;
    assert_eq!(items["response"]["data"][0]["plan"]["slug"], "team");
    assert_eq!(items["response"]["total_count"], 1);

    // A member without org:sys_billing:read: 403; not a member, or no such organization: 404.
    let mb = app.browser().await;
    let msess = mb.sign_in_as(&member).await;
    let url = format!("/v1/organizations/{org}/billing/subscription?_clerk_session_id={msess}");
    mb.get(&url).send().await.assert_error(403, "missing_organization_permission", None);
    let ob = app.browser().await;
    let osess = ob.sign_in_as(&outsider).await;
    let url = format!("/v1/organizations/{org}/billing/subscription_items?_clerk_session_id={osess}");
    ob.get(&url).send().await.assert_error(404, "organization_not_found_or_unauthorized", None);
    let url = format!("/v1/organizations/org_nope/billing/subscription?_clerk_session_id={sess}");
    b.get(&url).send().await.assert_error(404, "organization_not_found_or_unauthorized", None);
}
