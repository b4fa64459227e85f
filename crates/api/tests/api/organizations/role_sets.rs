//! Role sets: CRUD, the initial set for new organizations, members' roles limited to the set, replacing a role
//! and a whole set (with reassignment), errors.

use serde_json::{Value, json};
use tessera_testkit::TestApp;

use super::{T0, app, user_with_email};

fn role_keys(set: &Value) -> Vec<String> {
    set["roles"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_owned()).collect()
}

async fn create_role(app: &TestApp, key: &str) {
    app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await.assert_status(200);
}

async fn create_set(app: &TestApp, body: Value) -> Value {
    app.post("/v1/role_sets", body).send().await.assert_status(200).json
}

#[tokio::test]
async fn role_set_crud() {
    let app = TestApp::with_clock(T0).await;
    create_role(&app, "org:viewer").await;
    let s = create_set(
        &app,
        json!({ "name": "Sales Team", "description": "Sales", "default_role_key": "org:viewer",
                "creator_role_key": "org:admin", "roles": ["org:admin", "org:viewer"] }),
    )
    .await;
    assert_eq!((s["object"].clone(), s["key"].clone()), (json!("role_set"), json!("role_set:sales_team")));
    assert_eq!((s["type"].clone(), s["description"].clone()), (json!("custom"), json!("Sales")));
    assert_eq!(role_keys(&s), ["org:admin", "org:viewer"]);
    assert_eq!(s["default_role"]["key"], "org:viewer");
    assert_eq!(s["creator_role"]["key"], "org:admin");
    assert_eq!(s["roles"][0]["object"], "role_set_item");
    let id = s["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/role_sets/{id}")).send().await.assert_status(200).json, s);
    assert_eq!(app.get("/v1/role_sets/role_set:sales_team").send().await.assert_status(200).json, s);

    app.clock.advance_ms(5);
    let u = app
        .patch(
            "/v1/role_sets/role_set:sales_team",
            json!({ "name": "Sales", "key": "role_set:sales", "default_role_key": "org:admin", "type": "initial" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (u["key"].clone(), u["type"].clone(), u["name"].clone()),
        (json!("role_set:sales"), json!("initial"), json!("Sales"))
    );
    assert_eq!((u["default_role"]["key"].clone(), u["updated_at"].clone()), (json!("org:admin"), json!(T0 + 5)));

    // A second initial set makes the first custom.
    let other = create_set(
        &app,
        json!({ "name": "Other", "key": "role_set:other", "default_role_key": "org:member",
                "creator_role_key": "org:admin", "roles": ["org:admin", "org:member"], "type": "initial" }),
    )
    .await;
    assert_eq!(other["type"], "initial");
    assert_eq!(app.get(&format!("/v1/role_sets/{id}")).send().await.json["type"], "custom");

    // With Clerk's primary role set, which every instance has.
    let list = app.get("/v1/role_sets?order_by=key").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 3);
    assert_eq!(
        (list["data"][0]["key"].clone(), list["data"][1]["key"].clone()),
        (json!("role_set:default"), json!("role_set:other"))
    );
    let list = app.get("/v1/role_sets?query=SALE").send().await.assert_status(200).json;
    assert_eq!((list["total_count"].clone(), list["data"][0]["id"].clone()), (json!(1), json!(id)));

    // Adding roles, optionally changing the default role.
    create_role(&app, "org:lead").await;
    let added = app
        .post(
            "/v1/role_sets/role_set:sales/roles",
            json!({ "role_keys": ["org:lead", "org:viewer"], "default_role_key": "org:lead" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(role_keys(&added), ["org:admin", "org:viewer", "org:lead"]);
    assert_eq!(added["default_role"]["key"], "org:lead");

    // Errors.
    for (body, status, code, param) in [
        (
            json!({ "default_role_key": "org:admin", "creator_role_key": "org:admin", "roles": ["org:admin"] }),
            422,
            "form_param_missing",
            Some("name"),
        ),
        (
            json!({ "name": "X", "key": "sales", "default_role_key": "org:admin", "creator_role_key": "org:admin",
                 "roles": ["org:admin"] }),
            422,
            "form_param_format_invalid",
            Some("key"),
        ),
        (
            json!({ "name": "X", "key": "role_set:sales", "default_role_key": "org:admin",
                 "creator_role_key": "org:admin", "roles": ["org:admin"] }),
            422,
            "form_identifier_exists",
            Some("key"),
        ),
        (
            json!({ "name": "X", "default_role_key": "org:member", "creator_role_key": "org:admin",
                 "roles": ["org:admin"] }),
            422,
            "form_param_value_invalid",
            Some("default_role_key"),
        ),
        (
            json!({ "name": "X", "default_role_key": "org:admin", "creator_role_key": "org:admin", "roles": [] }),
            422,
            "form_param_value_invalid",
            Some("roles"),
        ),
        (
            json!({ "name": "X", "default_role_key": "org:nope", "creator_role_key": "org:nope",
                 "roles": ["org:nope"] }),
            422,
            "form_param_value_invalid",
            Some("roles"),
        ),
    ] {
        app.post("/v1/role_sets", body).send().await.assert_error(status, code, param);
    }
    app.get("/v1/role_sets/role_set:missing").send().await.assert_error(404, "resource_not_found", None);
    app.patch("/v1/role_sets/role_set:missing", json!({ "name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.patch("/v1/role_sets/role_set:sales", json!({ "creator_role_key": "org:member" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("creator_role_key"),
    );
    app.patch("/v1/role_sets/role_set:sales", json!({ "type": "custom" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("type"),
    );
    app.post("/v1/role_sets/role_set:sales/roles", json!({ "role_keys": ["org:nope"] })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role_keys"),
    );
    assert_eq!(app.get("/v1/role_sets").send().await.json["total_count"], 3, "nothing half-written");
    // A role in a set cannot be deleted.
    let lead = app.get("/v1/organization_roles?query=org:lead").send().await.json["data"][0]["id"].clone();
    app.delete(&format!("/v1/organization_roles/{}", lead.as_str().unwrap())).send().await.assert_error(
        422,
        "form_param_value_invalid",
        None,
    );
}

#[tokio::test]
async fn organizations_use_their_role_set() {
    let app = app().await;
    create_role(&app, "org:viewer").await;
    create_set(
        &app,
        json!({ "name": "Viewers", "key": "role_set:viewers", "default_role_key": "org:viewer",
                "creator_role_key": "org:admin", "roles": ["org:admin", "org:viewer"], "type": "initial" }),
    )
    .await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    // New organizations get the initial set; the creator gets the set's creator role.
    let org = app
        .post("/v1/organizations", json!({ "name": "Acme", "created_by": owner }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(org["role_set_key"], "role_set:viewers");
    let org_id = org["id"].as_str().unwrap();
    let path = format!("/v1/organizations/{org_id}/memberships");
    // A role outside the set is refused, one inside accepted.
    app.post(&path, json!({ "user_id": other, "role": "org:member" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role"),
    );
    app.post(&path, json!({ "user_id": other, "role": "org:viewer" })).send().await.assert_status(200);
    app.patch(&format!("{path}/{other}"), json!({ "role": "org:member" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role"),
    );
    // An unknown role set key is refused.
    app.post("/v1/organizations", json!({ "name": "B", "role_set_key": "role_set:none" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role_set_key"),
    );

    // Replacing a role of the set moves its holders to the other role.
    let s = app
        .post(
            "/v1/role_sets/role_set:viewers/roles/replace",
            json!({ "role_key": "org:viewer", "to_role_key": "org:admin" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(role_keys(&s), ["org:admin"]);
    assert_eq!(s["default_role"]["key"], "org:admin");
    let members = app.get(&path).send().await.json;
    assert!(members["data"].as_array().unwrap().iter().all(|m| m["role"] == "org:admin"), "{members}");
    app.post(
        "/v1/role_sets/role_set:viewers/roles/replace",
        json!({ "role_key": "org:member", "to_role_key": "org:admin" }),
    )
    .send()
    .await
    .assert_error(422, "form_param_value_invalid", Some("role_key"));

    // Replacing the whole set: members' roles the destination lacks need a mapping.
    create_set(
        &app,
        json!({ "name": "Basic", "key": "role_set:basic", "default_role_key": "org:member",
                "creator_role_key": "org:member", "roles": ["org:member"] }),
    )
    .await;
    app.post("/v1/role_sets/role_set:viewers/replace", json!({ "dest_role_set_key": "role_set:basic" }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("reassignment_mappings"));
    app.post("/v1/role_sets/role_set:viewers/replace", json!({ "dest_role_set_key": "role_set:nope" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", Some("dest_role_set_key"));
    let d = app
        .post(
            "/v1/role_sets/role_set:viewers/replace",
            json!({ "dest_role_set_key": "role_set:basic", "reassignment_mappings": { "org:admin": "org:member" } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(d["deleted"], true);
    app.get("/v1/role_sets/role_set:viewers").send().await.assert_error(404, "resource_not_found", None);
    let basic = app.get("/v1/role_sets/role_set:basic").send().await.json;
    assert_eq!(basic["type"], "initial", "the replacement inherits the initial type");
    let got = app.get(&format!("/v1/organizations/{org_id}")).send().await.json;
    assert_eq!(got["role_set_key"], "role_set:basic");
    let members = app.get(&path).send().await.json;
    assert!(members["data"].as_array().unwrap().iter().all(|m| m["role"] == "org:member"), "{members}");
}

/// Clerk's primary role set: every instance has it, it is the initial one (`initial_role_set_key`), new
/// organizations get it, and a new role joins it only with `include_in_initial_role_set`.
#[tokio::test]
async fn the_primary_role_set_is_the_default_role_set() {
    let app = TestApp::new().await;
    let list = app.get("/v1/role_sets").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 1);
    let primary = &list["data"][0];
    assert_eq!((primary["key"].clone(), primary["type"].clone()), (json!("role_set:default"), json!("initial")));
    assert_eq!(role_keys(primary), ["org:admin", "org:member"]);
    assert_eq!(
        (primary["default_role"]["key"].clone(), primary["creator_role"]["key"].clone()),
        (json!("org:member"), json!("org:admin"))
    );
    let settings = app.get("/v1/instance/organization_settings").send().await.assert_status(200).json;
    assert_eq!(settings["initial_role_set_key"], "role_set:default");
    let settings = app
        .patch("/v1/instance/organization_settings", json!({ "enabled": true }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(settings["initial_role_set_key"], "role_set:default");

    // A role created with include_in_initial_role_set joins it; one created without does not.
    app.post(
        "/v1/organization_roles",
        json!({ "name": "Viewer", "key": "org:viewer", "include_in_initial_role_set": true }),
    )
    .send()
    .await
    .assert_status(200);
    create_role(&app, "org:auditor").await;
    let primary = app.get("/v1/role_sets/role_set:default").send().await.assert_status(200).json;
    assert_eq!(role_keys(&primary), ["org:admin", "org:member", "org:viewer"]);

    let owner = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    let org = app.post("/v1/organizations", json!({ "name": "Free", "created_by": owner })).send().await.json;
    assert_eq!(org["role_set_key"], "role_set:default");
    let path = format!("/v1/organizations/{}/memberships", org["id"].as_str().unwrap());
    app.post(&path, json!({ "user_id": other, "role": "org:auditor" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role"),
    );
    app.post(&path, json!({ "user_id": other, "role": "org:viewer" })).send().await.assert_status(200);

    // Another initial set takes over: initial_role_set_key follows.
    create_set(
        &app,
        json!({ "name": "Pro", "key": "role_set:pro", "default_role_key": "org:member", "creator_role_key": "org:admin",
                "roles": ["org:admin", "org:member", "org:auditor"], "type": "initial" }),
    )
    .await;
    let settings = app.get("/v1/instance/organization_settings").send().await.json;
    assert_eq!(settings["initial_role_set_key"], "role_set:pro");
    assert_eq!(app.get("/v1/role_sets/role_set:default").send().await.json["type"], "custom");
}

#[tokio::test]
async fn max_role_sets_allowed_is_enforced() {
    let app = TestApp::with_clock(T0).await;
    let body = |name: &str| {
        json!({ "name": name, "default_role_key": "org:member", "creator_role_key": "org:admin",
                "roles": ["org:admin", "org:member"] })
    };
    // Clerk's default limit: 10 role sets.
    // The primary role set is the first.
    for i in 0..8 {
        create_set(&app, body(&format!("Set {i}"))).await;
    }
    // The last free slot goes to exactly one of two concurrent creations.
    let (a, b) = tokio::join!(app.post("/v1/role_sets", body("A")).send(), app.post("/v1/role_sets", body("B")).send());
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 422]);
    let loser = if a.status == 422 { a } else { b };
    loser.assert_error(422, "form_param_value_invalid", Some("key"));
    app.post("/v1/role_sets", body("C")).send().await.assert_error(422, "form_param_value_invalid", Some("key"));
    let list = app.get("/v1/role_sets?limit=100").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 10);
}
