//! Organization domains: create, list (per organization and instance-wide), update, delete, verify ownership;
//! the settings that gate them, their errors and events, isolation.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, enable, ids, org_by, user_with_email};
use crate::events_of;

/// An app at T0 with organizations and verified domains on (both automatic modes enabled), and two organizations.
async fn setup() -> (TestApp, String, String) {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    app.patch(
        "/v1/instance/organization_settings",
        json!({ "domains_enabled": true, "domains_enrollment_modes": ["automatic_invitation", "automatic_suggestion"] }),
    )
    .send()
    .await
    .assert_status(200);
    let admin = user_with_email(&app, "admin@acme.test").await;
    let acme = org_by(&app, "Acme", &admin).await;
    let globex = org_by(&app, "Globex", &admin).await;
    (app, acme, globex)
}

async fn add(app: &TestApp, org: &str, body: Value) -> Value {
    app.post(&format!("/v1/organizations/{org}/domains"), body).send().await.assert_status(200).json
}

#[tokio::test]
async fn create_update_verify_delete() {
    let (app, acme, _) = setup().await;
    let d = add(&app, &acme, json!({ "name": "Acme.Test", "enrollment_mode": "manual_invitation" })).await;
    let id = d["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("orgdmn_"), "{id}");
    assert_eq!(d["object"], "organization_domain");
    assert_eq!((d["name"].clone(), d["organization_id"].clone()), (json!("acme.test"), json!(acme)));
    assert_eq!(d["enrollment_mode"], "manual_invitation");
    // Verified by default: the admin vouches for the affiliation; ownership is not proven yet.
    assert_eq!(d["affiliation_verification"]["status"], "verified");
    assert_eq!(d["affiliation_verification"]["strategy"], "admin");
    assert_eq!(d["verification"], d["affiliation_verification"]);
    assert_eq!(d["ownership_verification"], Value::Null);
    assert_eq!(d["affiliation_email_address"], Value::Null);
    assert_eq!((d["total_pending_invitations"].clone(), d["total_pending_suggestions"].clone()), (json!(0), json!(0)));
    assert_eq!(d["public_organization_data"]["name"], "Acme");
    assert_eq!(d["created_at"], T0);

    app.clock.advance_ms(5);
    let path = format!("/v1/organizations/{acme}/domains/{id}");
    let up = app
        .patch(&path, json!({ "enrollment_mode": "automatic_invitation", "verified": false }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(up["enrollment_mode"], "automatic_invitation");
    assert_eq!((up["affiliation_verification"].clone(), up["verification"].clone()), (Value::Null, Value::Null));
    assert_eq!(up["updated_at"], T0 + 5);
    let same = app.patch(&path, json!({ "enrollment_mode": null })).send().await.assert_status(200).json;
    assert_eq!(same["enrollment_mode"], "automatic_invitation", "null leaves it unchanged");

    let v = app.post(&format!("{path}/verify_ownership"), json!({})).send().await.assert_status(200).json;
    assert_eq!(v["ownership_verification"]["status"], "verified");
    assert_eq!(v["ownership_verification"]["strategy"], "manual_override");
    assert_eq!(v["ownership_verification"]["verified_at"], T0 + 5);
    app.clock.advance_ms(5);
    let again = app.post(&format!("{path}/verify_ownership"), json!({})).send().await.assert_status(200).json;
    assert_eq!(again, v, "idempotent");

    let del = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "organization_domain", "id": id, "deleted": true }));
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "verified": true })).send().await.assert_error(404, "resource_not_found", None);
    app.post(&format!("{path}/verify_ownership"), json!({})).send().await.assert_error(404, "resource_not_found", None);

    let created = events_of(&app, "organizationDomain.created").await;
    let updated = events_of(&app, "organizationDomain.updated").await;
    let deleted = events_of(&app, "organizationDomain.deleted").await;
    // Two updates and one ownership verification (the idempotent repeat emits nothing).
    assert_eq!((created.len(), updated.len(), deleted.len()), (1, 3, 1));
    assert_eq!(deleted[0]["data"], del);
}

#[tokio::test]
async fn names_are_unique_per_instance_and_settings_gate() {
    let (app, acme, globex) = setup().await;
    add(&app, &acme, json!({ "name": "acme.test", "enrollment_mode": "manual_invitation", "verified": false })).await;
    // The same name cannot belong to another organization, nor twice to one.
    for org in [&acme, &globex] {
        app.post(
            &format!("/v1/organizations/{org}/domains"),
            json!({ "name": "ACME.test", "enrollment_mode": "manual_invitation" }),
        )
        .send()
        .await
        .assert_error(422, "organization_domain_already_exists", Some("name"));
    }
    let post = |body: Value| app.post(&format!("/v1/organizations/{acme}/domains"), body);
    let cases = [
        (json!({ "enrollment_mode": "manual_invitation" }), "form_param_missing", "name"),
        (json!({ "name": "x.test" }), "form_param_missing", "enrollment_mode"),
        (json!({ "name": "localhost", "enrollment_mode": "manual_invitation" }), "form_param_format_invalid", "name"),
        (json!({ "name": "gmail.com", "enrollment_mode": "manual_invitation" }), "form_param_value_invalid", "name"),
        (
            json!({ "name": "x.test", "enrollment_mode": "enterprise_sso" }),
            "form_param_value_invalid",
            "enrollment_mode",
        ),
        (json!({ "name": "x.test", "enrollment_mode": "bogus" }), "form_param_value_invalid", "enrollment_mode"),
        (
            json!({ "name": "x.test", "enrollment_mode": "manual_invitation", "extra": 1 }),
            "form_param_unknown",
            "extra",
        ),
    ];
    for (body, code, param) in cases {
        let res = post(body.clone()).send().await;
        assert_eq!(res.status, 422, "{body}: {}", res.json);
        assert_eq!(
            (res.error_code(), res.json["errors"][0]["meta"]["param_name"].as_str()),
            (code, Some(param)),
            "{body}"
        );
    }
    app.post("/v1/organizations/org_nope/domains", json!({ "name": "x.test", "enrollment_mode": "manual_invitation" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    // Automatic modes only when the instance enables them.
    app.patch("/v1/instance/organization_settings", json!({ "domains_enrollment_modes": ["automatic_suggestion"] }))
        .send()
        .await
        .assert_status(200);
    post(json!({ "name": "x.test", "enrollment_mode": "automatic_invitation" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("enrollment_mode"),
    );
    add(&app, &acme, json!({ "name": "x.test", "enrollment_mode": "automatic_suggestion" })).await;
    // Domains off: no changes.
    app.patch("/v1/instance/organization_settings", json!({ "domains_enabled": false }))
        .send()
        .await
        .assert_status(200);
    post(json!({ "name": "y.test", "enrollment_mode": "manual_invitation" })).send().await.assert_error(
        403,
        "organization_domains_not_enabled",
        None,
    );
    // The quota.
    app.patch("/v1/instance/organization_settings", json!({ "domains_enabled": true })).send().await.assert_status(200);
    let mut settings = tessera_core::settings::organization_settings(app.ctx(), &app.instance.id).await.unwrap();
    settings.max_allowed_domains = 2;
    tessera_core::settings::store_organization_settings(app.ctx(), &app.instance, settings).await.unwrap();
    post(json!({ "name": "z.test", "enrollment_mode": "manual_invitation" })).send().await.assert_error(
        403,
        "organization_domain_quota_exceeded",
        None,
    );
    let list = app.get(&format!("/v1/organizations/{acme}/domains")).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 2);
}

#[tokio::test]
async fn lists_filter_and_order() {
    let (app, acme, globex) = setup().await;
    let a = add(&app, &acme, json!({ "name": "b-acme.test", "enrollment_mode": "manual_invitation" })).await;
    app.clock.advance_ms(1);
    let b =
        add(&app, &acme, json!({ "name": "acme.test", "enrollment_mode": "automatic_invitation", "verified": false }))
            .await;
    app.clock.advance_ms(1);
    let c = add(&app, &globex, json!({ "name": "globex.test", "enrollment_mode": "automatic_suggestion" })).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    let per_org = format!("/v1/organizations/{acme}/domains");
    let list = app.get(&per_org).send().await.assert_status(200).json;
    assert_eq!(ids(&list), vec![id(&b), id(&a)]);
    assert_eq!(ids(&app.get(&format!("{per_org}?verified=true")).send().await.json), vec![id(&a)]);
    assert_eq!(ids(&app.get(&format!("{per_org}?verified=false")).send().await.json), vec![id(&b)]);
    assert_eq!(ids(&app.get(&format!("{per_org}?enrollment_mode=-manual_invitation")).send().await.json), vec![id(&b)]);
    assert_eq!(ids(&app.get(&format!("{per_org}?enrollment_mode=manual_invitation")).send().await.json), vec![id(&a)]);
    let page = app.get(&format!("{per_org}?limit=1&offset=1")).send().await.json;
    assert_eq!((ids(&page), page["total_count"].clone()), (vec![id(&a)], json!(2)));
    app.get(&format!("{per_org}?verified=maybe")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("verified"),
    );
    app.get("/v1/organizations/org_nope/domains").send().await.assert_error(404, "resource_not_found", None);

    let all = app.get("/v1/organization_domains").send().await.assert_status(200).json;
    assert_eq!(ids(&all), vec![id(&c), id(&b), id(&a)]);
    let by_name = app.get("/v1/organization_domains?order_by=name").send().await.json;
    assert_eq!(ids(&by_name), vec![id(&b), id(&a), id(&c)]);
    let q = app.get("/v1/organization_domains?query=ACME").send().await.json;
    assert_eq!(q["total_count"], 2);
    let q = app.get(&format!("/v1/organization_domains?query={globex}")).send().await.json;
    assert_eq!(ids(&q), vec![id(&c)]);
    let f = app.get(&format!("/v1/organization_domains?organization_id={acme}&verified=true")).send().await.json;
    assert_eq!(ids(&f), vec![id(&a)]);
    let f = app
        .get("/v1/organization_domains?enrollment_mode=automatic_invitation&enrollment_mode=automatic_suggestion")
        .send()
        .await
        .json;
    assert_eq!(ids(&f), vec![id(&c), id(&b)]);
    let f = app.get("/v1/organization_domains?domains=globex.test&domains=acme.test&order_by=+name").send().await.json;
    assert_eq!(ids(&f), vec![id(&b), id(&c)]);
    app.get("/v1/organization_domains?query=%20").send().await.assert_error(400, "query_param_invalid", Some("query"));
    app.get("/v1/organization_domains?enrollment_mode=nope").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("enrollment_mode"),
    );

    // Another instance sees none of them and cannot reach them through its own organization.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true, "domains_enabled": true }))
        .bearer(&key_b)
        .send()
        .await
        .assert_status(200);
    let org_b =
        app.post("/v1/organizations", json!({ "name": "B" })).bearer(&key_b).send().await.assert_status(200).json;
    let org_b = org_b["id"].as_str().unwrap();
    assert_eq!(app.get("/v1/organization_domains").bearer(&key_b).send().await.json["total_count"], 0);
    app.delete(&format!("/v1/organizations/{org_b}/domains/{}", id(&a))).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // The name is free in another instance.
    app.post(
        &format!("/v1/organizations/{org_b}/domains"),
        json!({ "name": "acme.test", "enrollment_mode": "manual_invitation" }),
    )
    .bearer(&key_b)
    .send()
    .await
    .assert_status(200);
    // And across organizations of one instance, ids stay in their organization.
    app.delete(&format!("/v1/organizations/{globex}/domains/{}", id(&a))).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}
