//! Beta Features: `PATCH /beta_features/instance_settings`, and the production domain change (`PUT
//! /beta_features/domain`, deprecated, and `POST /instance/change_domain`).

use serde_json::json;
use tessera_core::instances::{self, Environment};
use tessera_core::settings;
use tessera_testkit::TestApp;

#[tokio::test]
async fn instance_settings_update_answers_and_persists() {
    let app = TestApp::new().await;
    let r = app
        .patch(
            "/v1/beta_features/instance_settings",
            json!({ "restricted_to_allowlist": true, "from_email_address": "hello",
                    "progressive_sign_up": false, "test_mode": false }),
        )
        .send()
        .await
        .assert_status(200);
    assert_eq!(
        r.json,
        json!({ "object": "instance_settings", "id": app.instance.id, "restricted_to_allowlist": true,
                "from_email_address": "hello", "progressive_sign_up": false,
                "enhanced_email_deliverability": false })
    );
    // One switch each: the allowlist restriction and the instance's test mode.
    assert!(settings::restrictions(app.ctx(), &app.instance.id).await.unwrap().allowlist);
    let r = app.patch("/v1/instance/restrictions", json!({})).send().await.assert_status(200);
    assert_eq!(r.json["allowlist"], true);
    let c = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert!(!c.test_mode && !c.progressive_sign_up);
    assert_eq!(c.from_email_address, "hello");

    // Absent = unchanged; null resets the sender to the default; restrictions changed elsewhere show here.
    app.patch("/v1/instance/restrictions", json!({ "allowlist": false })).send().await.assert_status(200);
    let r = app
        .patch("/v1/beta_features/instance_settings", json!({ "from_email_address": null }))
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["from_email_address"], "notifications");
    assert_eq!(r.json["restricted_to_allowlist"], false);
    assert_eq!(r.json["progressive_sign_up"], false);
    let r = app.patch("/v1/beta_features/instance_settings", json!({})).send().await.assert_status(200);
    assert_eq!(r.json["progressive_sign_up"], false);
}

#[tokio::test]
async fn instance_settings_update_rejects_invalid_values() {
    let app = TestApp::new().await;
    let cases = [
        (json!({ "from_email_address": "foo@example.com" }), "form_param_format_invalid", "from_email_address"),
        (json!({ "from_email_address": "no.dots" }), "form_param_format_invalid", "from_email_address"),
        (json!({ "from_email_address": 7 }), "form_param_format_invalid", "from_email_address"),
        (json!({ "restricted_to_allowlist": "yes" }), "form_param_format_invalid", "restricted_to_allowlist"),
        (json!({ "enhanced_email_deliverability": true }), "form_param_unknown", "enhanced_email_deliverability"),
    ];
    for (body, code, param) in cases {
        app.patch("/v1/beta_features/instance_settings", body).send().await.assert_error(422, code, Some(param));
    }
    let c = settings::instance_config(app.ctx(), &app.instance.id).await.unwrap();
    assert_eq!(c.from_email_address, "notifications");
}

#[tokio::test]
async fn development_instances_cannot_change_domain() {
    let app = TestApp::new().await;
    let before = app.get("/v1/domains").send().await.json;
    app.post("/v1/instance/change_domain", json!({ "home_url": "https://www.example.com" })).send().await.assert_error(
        400,
        "production_instance_required",
        None,
    );
    app.put("/v1/beta_features/domain", json!({ "home_url": "https://www.example.com" })).send().await.assert_error(
        400,
        "production_instance_required",
        None,
    );
    assert_eq!(app.get("/v1/domains").send().await.json, before);
}

#[tokio::test]
async fn change_domain_moves_the_primary_domain_and_publishable_key() {
    let app = TestApp::new().await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let old_pk = prod.publishable_key.clone();
    let r = app
        .post("/v1/instance/change_domain", json!({ "home_url": "https://www.example.com" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(202);
    assert!(r.body.is_empty());

    let list = app.get("/v1/domains").bearer(&key).send().await.assert_status(200).json;
    let primary = &list["data"][0];
    assert_eq!(primary["name"], "example.com", "the registrable domain, not www.");
    assert_eq!(primary["is_satellite"], false);
    assert_eq!(primary["frontend_api_url"], "https://clerk.example.com");
    assert_eq!(primary["accounts_portal_url"], "https://accounts.example.com");
    let hosts: Vec<&str> =
        primary["cname_targets"].as_array().unwrap().iter().map(|t| t["host"].as_str().unwrap()).collect();
    assert!(hosts.contains(&"clerk.example.com") && hosts.contains(&"accounts.example.com"), "{hosts:?}");

    // The publishable key now encodes the new Frontend API host; the secret key still works.
    let now = instances::authenticate(app.ctx(), &key).await.unwrap();
    assert_ne!(now.publishable_key, old_pk);
    assert!(now.publishable_key.starts_with("pk_live_"));
    assert_eq!(now.frontend_host(), "clerk.example.com");
    let stored = instances::list_instances(app.ctx()).await.unwrap();
    assert_eq!(stored.iter().find(|i| i.id == prod.id).unwrap().publishable_key, now.publishable_key);

    // The deprecated PUT does the same; a secondary app keeps its subdomain.
    app.put("/v1/beta_features/domain", json!({ "home_url": "https://app.example.org/", "is_secondary": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(202);
    let list = app.get("/v1/domains").bearer(&key).send().await.json;
    assert_eq!(list["data"][0]["name"], "app.example.org");
    assert_eq!(list["data"][0]["frontend_api_url"], "https://clerk.app.example.org");
    let now = instances::authenticate(app.ctx(), &key).await.unwrap();
    assert_eq!(now.frontend_host(), "clerk.app.example.org");

    // The development instance of the same server is untouched.
    let dev = app.get("/v1/domains").send().await.json;
    assert_eq!(dev["total_count"], 1);
    assert_eq!(dev["data"][0]["name"].as_str().unwrap(), app.instance.frontend_host());
}

#[tokio::test]
async fn change_domain_validates_the_home_url() {
    let app = TestApp::new().await;
    let (_, key) = app.create_instance(Environment::Production).await;
    let cases = [
        (json!({}), "form_param_missing"),
        (json!({ "home_url": "" }), "form_param_missing"),
        (json!({ "home_url": "not a url" }), "form_param_format_invalid"),
        (json!({ "home_url": "ftp://example.com" }), "form_param_format_invalid"),
        (json!({ "home_url": "https://example.com:8443" }), "form_param_format_invalid"),
        (json!({ "home_url": "https://localhost" }), "form_param_format_invalid"),
        (json!({ "home_url": "https://127.0.0.1" }), "form_param_format_invalid"),
        (json!({ "home_url": 5 }), "form_param_format_invalid"),
    ];
    for (body, code) in cases {
        app.post("/v1/instance/change_domain", body.clone()).bearer(&key).send().await.assert_error(
            422,
            code,
            Some("home_url"),
        );
        app.put("/v1/beta_features/domain", body).bearer(&key).send().await.assert_error(422, code, Some("home_url"));
    }
    app.post("/v1/instance/change_domain", json!({ "home_url": "https://example.com", "force": true }))
        .bearer(&key)
        .send()
        .await
        .assert_error(422, "form_param_unknown", Some("force"));
    // A satellite already holds the name: the primary cannot take it.
    app.post("/v1/domains", json!({ "name": "taken.com", "is_satellite": true }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    app.post("/v1/instance/change_domain", json!({ "home_url": "https://www.taken.com" }))
        .bearer(&key)
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("home_url"));
}

#[tokio::test]
async fn beta_instance_settings_are_isolated() {
    let app = TestApp::new().await;
    let (other, key) = app.create_instance(Environment::Development).await;
    let r = app
        .patch("/v1/beta_features/instance_settings", json!({ "from_email_address": "other" }))
        .bearer(&key)
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["id"], other.id.as_str());
    let mine = app.patch("/v1/beta_features/instance_settings", json!({})).send().await.assert_status(200);
    assert_eq!(mine.json["id"], app.instance.id.as_str());
    assert_eq!(mine.json["from_email_address"], "notifications");
}
