//! Organization permissions: system permissions in every instance, custom CRUD, list, errors, isolation.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, ids};

fn keys(list: &serde_json::Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn system_permissions_exist_and_are_immutable() {
    let app = TestApp::new().await;
    let list = app.get("/v1/organization_permissions?order_by=key&limit=100").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 8);
    let k = keys(&list);
    for key in
        ["org:sys_profile:manage", "org:sys_memberships:read", "org:sys_memberships:manage", "org:sys_domains:manage"]
    {
        assert!(k.contains(&key.to_owned()), "{key} in {k:?}");
    }
    assert!(list["data"].as_array().unwrap().iter().all(|p| p["type"] == "system" && p["object"] == "permission"));
    let sys = list["data"][0]["id"].as_str().unwrap();
    let path = format!("/v1/organization_permissions/{sys}");
    app.get(&path).send().await.assert_status(200);
    app.patch(&path, json!({ "name": "Mine" })).send().await.assert_error(403, "authorization_invalid", None);
    app.delete(&path).send().await.assert_error(403, "authorization_invalid", None);
    // Listing again does not duplicate them.
    let list = app.get("/v1/organization_permissions").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 8);
}

#[tokio::test]
async fn custom_permission_crud() {
    let app = TestApp::with_clock(T0 + 1_000_000).await;
    let p = app
        .post(
            "/v1/organization_permissions",
            json!({ "name": "Manage billing", "key": "org:invoices:manage", "description": "Invoices" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let id = p["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_ksuid_id(id, "perm"), "{id}");
    assert_eq!(
        (p["key"].clone(), p["type"].clone(), p["description"].clone()),
        (json!("org:invoices:manage"), json!("user"), json!("Invoices"))
    );
    let path = format!("/v1/organization_permissions/{id}");
    assert_eq!(app.get(&path).send().await.assert_status(200).json, p);

    app.clock.advance_ms(5);
    let u = app.patch(&path, json!({ "key": "org:invoices:read" })).send().await.assert_status(200).json;
    assert_eq!((u["key"].clone(), u["name"].clone()), (json!("org:invoices:read"), json!("Manage billing")));
    assert_eq!(u["updated_at"], p["updated_at"].as_i64().unwrap() + 5);

    let other = app
        .post("/v1/organization_permissions", json!({ "name": "Other", "key": "org:team:read" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(other["description"], "");
    app.patch(&path, json!({ "key": "org:team:read" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("key"),
    );
    app.post("/v1/organization_permissions", json!({ "name": "Dup", "key": "org:team:read" }))
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("key"));

    let list = app.get("/v1/organization_permissions?query=INVOICES").send().await.assert_status(200).json;
    assert_eq!(ids(&list), [id]);
    let list = app.get(&format!("/v1/organization_permissions?query={id}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [id]);
    let list = app.get("/v1/organization_permissions?limit=2").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 10);
    assert_eq!(ids(&list), [other["id"].as_str().unwrap(), id], "newest first");
    let list =
        app.get("/v1/organization_permissions?order_by=name&limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let d = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "permission", "id": id, "deleted": true }));
    app.get(&path).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "name": "x" })).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn permission_errors() {
    let app = TestApp::new().await;
    for (body, code, param) in [
        (json!({ "key": "org:a:b" }), "form_param_missing", "name"),
        (json!({ "name": "A" }), "form_param_missing", "key"),
        (json!({ "name": "A", "key": "billing:manage" }), "form_param_format_invalid", "key"),
        (json!({ "name": "A", "key": "org:Billing:manage" }), "form_param_format_invalid", "key"),
        (json!({ "name": "A", "key": "org:billing:manage:all" }), "form_param_format_invalid", "key"),
        (json!({ "name": "A", "key": "org:sys_profile:manage" }), "form_param_value_invalid", "key"),
    ] {
        app.post("/v1/organization_permissions", body).send().await.assert_error(422, code, Some(param));
    }
    app.get("/v1/organization_permissions?order_by=type").send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("order_by"),
    );
    app.get("/v1/organization_permissions?limit=501").send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("limit"),
    );
    let list = app.get("/v1/organization_permissions").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 8, "nothing half-written");
}

#[tokio::test]
async fn permissions_are_isolated_per_instance() {
    let app = TestApp::new().await;
    let p = app
        .post("/v1/organization_permissions", json!({ "name": "Mine", "key": "org:mine:read" }))
        .send()
        .await
        .assert_status(200)
        .json;
    let id = p["id"].as_str().unwrap();
    let (_, other) = app.create_instance(Environment::Development).await;
    // The same key is free in another instance, which has its own system permissions.
    app.post("/v1/organization_permissions", json!({ "name": "Mine", "key": "org:mine:read" }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200);
    let list = app
        .get(&format!("/v1/organization_permissions?query={id}"))
        .bearer(&other)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(list["total_count"], 0);
    assert_eq!(
        app.get("/v1/organization_permissions").bearer(&other).send().await.assert_status(200).json["total_count"],
        9
    );
    let path = format!("/v1/organization_permissions/{id}");
    app.get(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "name": "x" })).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    assert_eq!(app.get(&path).send().await.assert_status(200).json["name"], "Mine");
}
