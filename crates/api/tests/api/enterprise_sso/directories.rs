//! `/directories` and `/scim_directories`: one record, two views; the API key shown once and stored as a digest.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::saml_connection;
use crate::machines::assert_not_in_database;

async fn role(app: &TestApp, key: &str) -> String {
    let r = app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await.assert_status(200).json;
    r["id"].as_str().unwrap().to_owned()
}

fn key_of(d: &Value) -> String {
    d["api_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_views_of_one_directory() {
    let app = TestApp::new().await;
    let ec = saml_connection(&app, "acme.test").await;
    let admin = role(&app, "org:it_admin").await;
    let d = app
        .post(
            "/v1/directories",
            json!({ "enterprise_connection_id": ec, "provider": "okta", "name": "Acme Okta",
                    "group_role_mappings": [{ "directory_group_id": "g1", "role_id": admin },
                                            { "scim_group_id": "g2", "scim_group_display_name": "IT", "role_id": admin }] }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let id = d["id"].as_str().unwrap().to_owned();
    assert_eq!(d["object"], "directory");
    assert_eq!(d["endpoint_url"], format!("https://{}/scim/v2/{id}", app.instance.frontend_host()));
    assert_eq!((d["enabled"].clone(), d["group_role_mapping_enabled"].clone()), (json!(true), json!(true)));
    assert_eq!(d["attribute_mapping"]["email_address"], "emails[0].value");
    let key = key_of(&d);
    assert!(key.starts_with("dsk_") && key.len() > 40, "{key}");
    assert_not_in_database(&app, &[&key]).await;
    let mappings = tessera_core::directories::group_role_mappings(app.ctx(), &app.instance.id, &id).await.unwrap();
    let got: Vec<_> =
        mappings.iter().map(|m| (m.group_id.as_str(), m.precedence, m.group_display_name.as_deref())).collect();
    assert_eq!(got, [("g1", 1, None), ("g2", 2, Some("IT"))]);

    // The other view: same record, another object name, never the key again.
    let s = app.get(&format!("/v1/scim_directories/{id}")).send().await.assert_status(200).json;
    assert_eq!(
        (s["object"].clone(), s["api_key"].clone(), s["name"].clone()),
        (json!("scim_directory"), json!(null), json!("Acme Okta"))
    );
    let l = app.get("/v1/directories").send().await.assert_status(200).json;
    assert_eq!(l["total_count"], 1);
    assert_eq!(l["data"][0]["api_key"], json!(null));

    let u = app
        .patch(
            &format!("/v1/scim_directories/{id}"),
            json!({ "enabled": false, "attribute_mapping": { "email_address": null, "phone_number": "phoneNumbers[0].value" } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(u["enabled"], false);
    assert_eq!(u["attribute_mapping"].get("email_address"), None);
    assert_eq!(u["attribute_mapping"]["phone_number"], "phoneNumbers[0].value");
    app.patch(&format!("/v1/directories/{id}"), json!({ "attribute_mapping": { "password": "x" } }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("attribute_mapping"));

    let del = app.delete(&format!("/v1/scim_directories/{id}")).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "scim_directory", "id": id, "deleted": true }));
    app.get(&format!("/v1/directories/{id}")).send().await.assert_error(404, "resource_not_found", None);
    let hash = app.ctx().secrets.digest(&key);
    assert!(
        tessera_core::store::directories::by_api_key(&app.ctx().db, &hash).await.unwrap().is_none(),
        "the key is dead"
    );
}

#[tokio::test]
async fn create_rules_and_isolation() {
    let app = TestApp::new().await;
    let ec = saml_connection(&app, "acme.test").await;
    let post = |path: &'static str, body| app.post(path, body).send();
    post("/v1/scim_directories", json!({ "provider": "okta" })).await.assert_error(
        422,
        "form_param_missing",
        Some("enterprise_connection_id"),
    );
    post("/v1/scim_directories", json!({ "enterprise_connection_id": "ec_nope", "provider": "okta" }))
        .await
        .assert_error(422, "form_param_value_invalid", Some("enterprise_connection_id"));
    post("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "google" })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("provider"),
    );
    post("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "okta",
                                    "group_role_mappings": [{ "directory_group_id": "a", "scim_group_id": "b", "role_id": "x" }] }))
        .await
        .assert_error(422, "form_param_value_invalid", Some("directory_group_id"));
    post(
        "/v1/directories",
        json!({ "enterprise_connection_id": ec, "provider": "okta",
                                    "group_role_mappings": [{ "directory_group_id": "a", "role_id": "role_nope" }] }),
    )
    .await
    .assert_error(422, "form_param_value_invalid", Some("group_role_mappings"));
    assert_eq!(app.get("/v1/directories").send().await.json["total_count"], 0, "failed creates leave nothing");
    let d = post("/v1/scim_directories", json!({ "enterprise_connection_id": ec, "provider": "microsoft" }))
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (d["object"].clone(), d["name"].clone()),
        (json!("scim_directory"), json!("Acme SSO")),
        "named after the connection"
    );
    let id = d["id"].as_str().unwrap();

    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.get(&format!("/v1/directories/{id}")).bearer(&key_b).send().await.assert_status(404);
    app.post("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "okta" }))
        .bearer(&key_b)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("enterprise_connection_id"));

    // Deleting the connection keeps the directory, detached.
    app.delete(&format!("/v1/enterprise_connections/{ec}")).send().await.assert_status(200);
    let d = app.get(&format!("/v1/directories/{id}")).send().await.assert_status(200).json;
    assert_eq!(d["enterprise_connection_id"], json!(null));
}
