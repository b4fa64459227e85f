//! The ten operations of API version 2026-05-12 on directories: group → role mappings (list, create, replace,
//! delete) and API-key rotation, in both views.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::saml_connection;

const V: &str = "2026-05-12";

async fn role(app: &TestApp, key: &str) -> String {
    let r = app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await.assert_status(200).json;
    r["id"].as_str().unwrap().to_owned()
}

async fn directory(app: &TestApp, mapping_enabled: bool) -> (String, String) {
    let ec = saml_connection(app, "acme.test").await;
    let d = app
        .post("/v1/directories", json!({ "enterprise_connection_id": ec, "provider": "okta" }))
        .send()
        .await
        .assert_status(200)
        .json;
    let id = d["id"].as_str().unwrap().to_owned();
    if mapping_enabled {
        app.patch(&format!("/v1/directories/{id}"), json!({ "group_role_mapping_enabled": true }))
            .send()
            .await
            .assert_status(200);
    }
    (id, d["api_key"].as_str().unwrap().to_owned())
}

fn groups(list: &Value) -> Vec<(String, i64)> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["directory_group_id"].as_str().unwrap().to_owned(), m["precedence"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn mappings_in_both_views() {
    let app = TestApp::new().await;
    let (id, _) = directory(&app, true).await;
    let admin = role(&app, "org:it_admin").await;
    let viewer = role(&app, "org:viewer").await;
    let base = format!("/v1/directories/{id}/group_role_mappings");
    let scim = format!("/v1/scim_directories/{id}/group_role_mappings");

    let m = app
        .post(&base, json!({ "directory_group_id": "g-admins", "role_id": admin }))
        .api_version(V)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(m["object"], "directory_group_role_mapping");
    assert_eq!((m["directory_id"].clone(), m["scim_directory_id"].clone()), (json!(id), json!(id)));
    assert_eq!((m["scim_group_id"].clone(), m["precedence"].clone()), (json!("g-admins"), json!(1)));
    assert_eq!(m["role"]["key"], "org:it_admin");
    // Appended after the others when no precedence is given; the SCIM view names the same fields.
    let s = app
        .post(&scim, json!({ "scim_group_id": "g-view", "role_id": viewer }))
        .api_version(V)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((s["object"].clone(), s["precedence"].clone()), (json!("scim_group_role_mapping"), json!(2)));
    app.post(&base, json!({ "directory_group_id": "g-admins", "role_id": viewer }))
        .api_version(V)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("directory_group_id"));
    app.post(&base, json!({ "directory_group_id": "a", "scim_group_id": "b", "role_id": viewer }))
        .api_version(V)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("directory_group_id"));
    app.post(&base, json!({ "directory_group_id": "x", "role_id": "role_nope" }))
        .api_version(V)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("role_id"));
    app.post(&base, json!({ "directory_group_id": "x", "role_id": viewer, "precedence": 0 }))
        .api_version(V)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("precedence"));

    let l = app.get(&scim).api_version(V).send().await.assert_status(200).json;
    assert_eq!(groups(&l), [("g-admins".into(), 1), ("g-view".into(), 2)]);
    assert_eq!(l["total_count"], 2);

    // Replace: array order is precedence; the old set is gone.
    let r = app
        .put(
            &base,
            json!({ "mappings": [{ "directory_group_id": "g-view", "role_id": viewer },
                                 { "scim_group_id": "g-new", "role_id": admin }] }),
        )
        .api_version(V)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(groups(&r), [("g-view".into(), 1), ("g-new".into(), 2)]);
    let gone = r["data"][1]["id"].as_str().unwrap().to_owned();
    let del = app.delete(&format!("{scim}/{gone}")).api_version(V).send().await.assert_status(200).json;
    assert_eq!(del, json!({ "object": "scim_group_role_mapping", "id": gone, "deleted": true }));
    app.delete(&format!("{base}/{gone}")).api_version(V).send().await.assert_error(404, "resource_not_found", None);
    let cleared = app.put(&base, json!({ "mappings": [] })).api_version(V).send().await.assert_status(200).json;
    assert_eq!(cleared["total_count"], 0);

    // A bad replace changes nothing.
    app.put(&base, json!({ "mappings": [{ "directory_group_id": "a", "role_id": viewer }, { "role_id": viewer }] }))
        .api_version(V)
        .send()
        .await
        .assert_error(422, "form_param_missing", Some("directory_group_id"));
    app.put(&base, json!({})).api_version(V).send().await.assert_error(422, "form_param_missing", Some("mappings"));
    assert_eq!(app.get(&base).api_version(V).send().await.json["total_count"], 0);
}

#[tokio::test]
async fn mapping_changes_need_mapping_enabled_and_an_existing_directory() {
    let app = TestApp::new().await;
    let (id, _) = directory(&app, false).await;
    let viewer = role(&app, "org:viewer").await;
    let base = format!("/v1/directories/{id}/group_role_mappings");
    app.get(&base).api_version(V).send().await.assert_status(200);
    app.post(&base, json!({ "directory_group_id": "g", "role_id": viewer })).api_version(V).send().await.assert_error(
        422,
        "group_role_mapping_disabled",
        None,
    );
    app.put(&base, json!({ "mappings": [] })).api_version(V).send().await.assert_error(
        422,
        "group_role_mapping_disabled",
        None,
    );
    app.get("/v1/directories/dir_nope/group_role_mappings").api_version(V).send().await.assert_status(404);
    app.post("/v1/scim_directories/dir_nope/rotate_api_key", json!({})).api_version(V).send().await.assert_status(404);
    // Another instance sees none of it.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.get(&base).bearer(&key_b).api_version(V).send().await.assert_status(404);
    app.post(&format!("/v1/directories/{id}/rotate_api_key"), json!({}))
        .bearer(&key_b)
        .api_version(V)
        .send()
        .await
        .assert_status(404);
}

/// 2026-05-12 added them; they are served under 2025-11-10 as well (what clerk-backend-api 7.0 sends).
#[tokio::test]
async fn the_operations_of_2026_05_12_are_served_under_2025_11_10_too() {
    let app = TestApp::new().await;
    let (id, old) = directory(&app, true).await;
    let r = app.post(&format!("/v1/directories/{id}/rotate_api_key"), json!({})).api_version("2025-11-10").send().await;
    let rotated = r.assert_status(200).json["api_key"].as_str().expect("the new key, shown once").to_owned();
    assert_ne!(rotated, old);
    let list = app.get(&format!("/v1/scim_directories/{id}/group_role_mappings")).send().await.assert_status(200);
    assert!(list.json["data"].is_array(), "{}", list.json);
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_its_grace_period() {
    let app = TestApp::with_clock(1_800_000_000_000).await;
    let (id, old) = directory(&app, false).await;
    let d = app
        .post(&format!("/v1/scim_directories/{id}/rotate_api_key"), json!({}))
        .api_version(V)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(d["object"], "scim_directory");
    let new = d["api_key"].as_str().unwrap().to_owned();
    assert!(new.starts_with("dsk_") && new != old);
    crate::machines::assert_not_in_database(&app, &[&new]).await;
    assert_eq!(app.get(&format!("/v1/directories/{id}")).send().await.json["api_key"], json!(null));

    app.scim(&id, &new).get("/Users").await.status(200);
    app.scim(&id, &old).get("/Users").await.status(200);
    app.clock.advance_ms(tessera_core::directories::ROTATION_GRACE_MS);
    app.scim(&id, &old).get("/Users").await.error(401, None);
    app.scim(&id, &new).get("/Users").await.status(200);

    // A second rotation ends the first key's successor's grace at once for the key before it.
    let d2 = app
        .post(&format!("/v1/directories/{id}/rotate_api_key"), json!({}))
        .api_version(V)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(d2["object"], "directory");
    let newest = d2["api_key"].as_str().unwrap();
    app.scim(&id, &new).get("/Users").await.status(200);
    app.scim(&id, newest).get("/Users").await.status(200);
    app.scim(&id, &old).get("/Users").await.error(401, None);
}
