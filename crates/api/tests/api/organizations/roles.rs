//! Organization roles: the default roles, custom CRUD, permissions, the in-use rule, key renames, events.

use serde_json::{Value, json};
use tessera_core::events;
use tessera_testkit::TestApp;

use super::{T0, app, ids, org_by, user_with_email};

fn keys(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect()
}

fn perm_keys(role: &Value) -> Vec<String> {
    role["permissions"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect()
}

async fn permission(app: &TestApp, key: &str) -> String {
    let p = app
        .post("/v1/organization_permissions", json!({ "name": key, "key": key }))
        .send()
        .await
        .assert_status(200)
        .json;
    p["id"].as_str().unwrap().to_owned()
}

async fn role_id(app: &TestApp, key: &str) -> String {
    let list = app.get(&format!("/v1/organization_roles?query={key}")).send().await.assert_status(200).json;
    list["data"].as_array().unwrap().iter().find(|r| r["key"] == key).expect("role")["id"].as_str().unwrap().to_owned()
}

/// Events of the instance, oldest first, each checked against the webhook spec.
pub async fn outbox(app: &TestApp) -> Vec<Value> {
    let events = events::recent(app.ctx(), &app.instance.id, 1000).await.expect("events");
    events
        .into_iter()
        .map(|e| {
            tessera_spec_check::validate_webhook_event(&e.payload).unwrap_or_else(|why| panic!("{why}"));
            e.payload
        })
        .collect()
}

#[tokio::test]
async fn default_roles_exist() {
    let app = TestApp::new().await;
    let list = app.get("/v1/organization_roles?order_by=key").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 2);
    assert_eq!(keys(&list), ["org:admin", "org:member"]);
    let admin = &list["data"][0];
    assert_eq!((admin["name"].clone(), admin["is_creator_eligible"].clone()), (json!("Admin"), json!(true)));
    assert_eq!(perm_keys(admin).len(), 8, "every system permission: {admin}");
    let member = &list["data"][1];
    assert_eq!(perm_keys(member), ["org:sys_memberships:read"]);
    assert_eq!(member["is_creator_eligible"], false);
    // Reading again does not duplicate them.
    let list = app.get("/v1/organization_roles").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 2);
}

#[tokio::test]
async fn custom_role_crud_and_permissions() {
    let app = TestApp::with_clock(T0).await;
    let read = permission(&app, "org:posts:read").await;
    let write = permission(&app, "org:posts:write").await;
    app.clock.advance_ms(10);
    let r = app
        .post(
            "/v1/organization_roles",
            json!({ "name": "Editor", "key": "org:editor", "description": "Edits", "permissions": [read] }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!((r["object"].clone(), r["key"].clone()), (json!("role"), json!("org:editor")));
    assert_eq!(perm_keys(&r), ["org:posts:read"]);
    let path = format!("/v1/organization_roles/{id}");
    assert_eq!(app.get(&path).send().await.assert_status(200).json, r);

    app.clock.advance_ms(5);
    let u = app
        .patch(&path, json!({ "name": "Writer", "description": null, "permissions": [write] }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((u["name"].clone(), u["description"].clone()), (json!("Writer"), json!("Edits")));
    assert_eq!(perm_keys(&u), ["org:posts:write"]);
    assert_eq!(u["updated_at"], T0 + 15);

    let assigned = app.post(&format!("{path}/permissions/{read}"), json!({})).send().await.assert_status(200).json;
    assert_eq!(perm_keys(&assigned), ["org:posts:read", "org:posts:write"]);
    app.post(&format!("{path}/permissions/{read}"), json!({})).send().await.assert_error(409, "conflict", None);
    app.post(&format!("{path}/permissions/perm_missing"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let removed = app.delete(&format!("{path}/permissions/{read}")).send().await.assert_status(200).json;
    assert_eq!(perm_keys(&removed), ["org:posts:write"]);
    app.delete(&format!("{path}/permissions/{read}")).send().await.assert_error(404, "resource_not_found", None);
    // Deleting a permission takes it from the role.
    app.delete(&format!("/v1/organization_permissions/{write}")).send().await.assert_status(200);
    assert!(perm_keys(&app.get(&path).send().await.assert_status(200).json).is_empty());

    // Errors.
    for (body, status, code, param) in [
        (json!({ "name": "X", "key": "editor" }), 422, "form_param_format_invalid", Some("key")),
        (json!({ "name": "X", "key": "org:Editor" }), 422, "form_param_format_invalid", Some("key")),
        (json!({ "name": "X", "key": "org:editor" }), 422, "form_identifier_exists", Some("key")),
        (json!({ "key": "org:x" }), 422, "form_param_missing", Some("name")),
        (json!({ "name": "X", "key": "org:x", "permissions": ["perm_missing"] }), 404, "resource_not_found", None),
        (json!({ "name": "X", "key": "org:x", "bogus": 1 }), 422, "form_param_unknown", Some("bogus")),
    ] {
        app.post("/v1/organization_roles", body.clone()).send().await.assert_error(status, code, param);
    }
    app.get("/v1/organization_roles/role_missing").send().await.assert_error(404, "resource_not_found", None);
    app.patch("/v1/organization_roles/role_missing", json!({ "name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.patch(&path, json!({ "key": "org:admin" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("key"),
    );
    let list = app.get("/v1/organization_roles").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 3, "nothing half-written");

    app.delete(&path).send().await.assert_status(200);
    app.get(&path).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn list_queries_orders_and_pages() {
    let app = TestApp::with_clock(T0).await;
    for (i, key) in ["org:alpha", "org:beta", "org:gamma"].iter().enumerate() {
        app.clock.advance_ms(10);
        app.post("/v1/organization_roles", json!({ "name": format!("Role {i}"), "key": key }))
            .send()
            .await
            .assert_status(200);
    }
    let list = app.get("/v1/organization_roles").send().await.assert_status(200).json;
    assert_eq!(keys(&list), ["org:gamma", "org:beta", "org:alpha", "org:member", "org:admin"], "newest first");
    let list = app.get("/v1/organization_roles?order_by=key&limit=2&offset=1").send().await.assert_status(200).json;
    assert_eq!((keys(&list), list["total_count"].clone()), (vec!["org:alpha".to_owned(), "org:beta".into()], json!(5)));
    let list = app.get("/v1/organization_roles?query=GAM").send().await.assert_status(200).json;
    assert_eq!(keys(&list), ["org:gamma"]);
    let gamma = ids(&list)[0].clone();
    let list = app.get(&format!("/v1/organization_roles?query={gamma}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [gamma]);
    app.get("/v1/organization_roles?order_by=secret").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("order_by"),
    );
    app.get("/v1/organization_roles?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
}

#[tokio::test]
async fn a_role_in_use_cannot_be_deleted() {
    let app = app().await;
    let user = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    let org = org_by(&app, "Acme", &user).await;
    let custom = app
        .post(
            "/v1/organization_roles",
            json!({ "name": "Viewer", "key": "org:viewer", "include_in_initial_role_set": true }),
        )
        .send()
        .await
        .assert_status(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/organizations/{org}/memberships");
    app.post(&path, json!({ "user_id": other, "role": "org:viewer" })).send().await.assert_status(200);
    for id in [custom.clone(), role_id(&app, "org:admin").await, role_id(&app, "org:member").await] {
        app.delete(&format!("/v1/organization_roles/{id}")).send().await.assert_error(
            422,
            "form_param_value_invalid",
            None,
        );
    }
    app.delete(&format!("{path}/{other}")).send().await.assert_status(200);
    // A role of a role set leaves it first (the primary role set holds it).
    let replace = "/v1/role_sets/role_set:default/roles/replace";
    app.post(replace, json!({ "role_key": "org:viewer", "to_role_key": "org:member" })).send().await.assert_status(200);
    app.delete(&format!("/v1/organization_roles/{custom}")).send().await.assert_status(200);
    // Creator and domain roles are freed by pointing the settings elsewhere.
    app.patch(
        "/v1/instance/organization_settings",
        json!({ "creator_role_id": "org:admin", "domains_default_role_id": "org:admin" }),
    )
    .send()
    .await
    .assert_status(200);
    app.post(replace, json!({ "role_key": "org:member", "to_role_key": "org:admin" })).send().await.assert_status(200);
    let member = role_id(&app, "org:member").await;
    app.delete(&format!("/v1/organization_roles/{member}")).send().await.assert_status(200);
}

#[tokio::test]
async fn renaming_a_key_follows_memberships_and_settings() {
    let app = app().await;
    let user = user_with_email(&app, "owner@example.com").await;
    let org = org_by(&app, "Acme", &user).await;
    let admin = role_id(&app, "org:admin").await;
    let r = app
        .patch(&format!("/v1/organization_roles/{admin}"), json!({ "key": "org:owner" }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(r["key"], "org:owner");
    let members = app.get(&format!("/v1/organizations/{org}/memberships")).send().await.assert_status(200).json;
    assert_eq!(members["data"][0]["role"], "org:owner");
    assert_eq!(members["data"][0]["role_name"], "Admin");
    let s = app.get("/v1/instance/organization_settings").send().await.assert_status(200).json;
    assert_eq!(s["creator_role"], "org:owner");
    // The settings name roles by id too.
    app.patch("/v1/instance/organization_settings", json!({ "creator_role_id": admin }))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn role_and_permission_events() {
    let app = TestApp::new().await;
    let perm = permission(&app, "org:docs:read").await;
    app.patch(&format!("/v1/organization_permissions/{perm}"), json!({ "name": "Docs" }))
        .send()
        .await
        .assert_status(200);
    let role = app
        .post("/v1/organization_roles", json!({ "name": "Reader", "key": "org:reader", "permissions": [perm] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let id = role["id"].as_str().unwrap();
    app.patch(&format!("/v1/organization_roles/{id}"), json!({ "name": "Readers" })).send().await.assert_status(200);
    app.delete(&format!("/v1/organization_roles/{id}/permissions/{perm}")).send().await.assert_status(200);
    app.delete(&format!("/v1/organization_roles/{id}")).send().await.assert_status(200);
    app.delete(&format!("/v1/organization_permissions/{perm}")).send().await.assert_status(200);
    // Refused changes write nothing.
    app.post("/v1/organization_roles", json!({ "name": "Bad", "key": "bad" })).send().await.assert_status(422);
    let events = outbox(&app).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "permission.created",
            "permission.updated",
            "role.created",
            "role.updated",
            "role.updated",
            "role.deleted",
            "permission.deleted"
        ]
    );
    assert_eq!(events[2]["data"], role);
    assert_eq!(events[5]["data"], json!({ "object": "role", "id": id, "deleted": true }));
    assert_eq!(events[6]["data"], json!({ "object": "permission", "id": perm, "deleted": true }));
}

/// An instance as versions before default-role seeding at creation left it: no permission or role rows. Returns
/// its id and secret key.
async fn instance_without_defaults(app: &TestApp) -> (String, String) {
    use tessera_core::store::instances;
    let id = tessera_core::ids::new_id("ins");
    let key = format!("sk_test_{}", tessera_core::ids::random_base62(42));
    let mut tx = app.ctx().db.begin().await.unwrap();
    let row = instances::InstanceRow {
        id: id.clone(),
        environment_type: "development".into(),
        publishable_key: format!("pk_test_{id}"),
        created_at: T0,
        updated_at: T0,
    };
    instances::insert(&mut tx, &row).await.unwrap();
    instances::insert_secret_key(&mut tx, &tessera_core::ids::new_id("sk"), &id, &app.ctx().secrets.digest(&key), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (id, key)
}

/// Stored (role, system permission) rows of an instance.
async fn stored_defaults(app: &TestApp, instance_id: &str) -> (i64, i64) {
    let db = &app.ctx().db;
    let roles = tessera_core::store::organization_roles::count_all(db, instance_id).await.unwrap();
    let perms = tessera_core::store::organization_permissions::count_system(db, instance_id).await.unwrap();
    (roles, perms)
}

#[tokio::test]
async fn reads_never_write_the_default_roles() {
    let app = TestApp::new().await;
    // A new instance has them from its creation, before any request.
    assert_eq!(stored_defaults(&app, &app.instance.id).await, (2, 8));

    // An older instance without them: GETs (roles, permissions, one role) write nothing.
    let (old, key) = instance_without_defaults(&app).await;
    let list = app.get("/v1/organization_roles").bearer(&key).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);
    app.get("/v1/organization_permissions").bearer(&key).send().await.assert_status(200);
    app.get("/v1/organization_roles/role_nope").bearer(&key).send().await.assert_status(404);
    assert_eq!(stored_defaults(&app, &old).await, (0, 0));

    // Its first organization write seeds them inside its own transaction.
    let r = app.post("/v1/organization_roles", json!({ "name": "Editor", "key": "org:editor" })).bearer(&key).send();
    r.await.assert_status(200);
    assert_eq!(stored_defaults(&app, &old).await, (3, 8));
    let list = app.get("/v1/organization_roles?order_by=key").bearer(&key).send().await.assert_status(200).json;
    assert_eq!(keys(&list), ["org:admin", "org:editor", "org:member"]);

    // Start-up seeds the others, once.
    let (other, key) = instance_without_defaults(&app).await;
    tessera_core::startup::seed_organization_defaults(app.ctx()).await.unwrap();
    tessera_core::startup::seed_organization_defaults(app.ctx()).await.unwrap();
    assert_eq!(stored_defaults(&app, &other).await, (2, 8));
    assert_eq!(stored_defaults(&app, &app.instance.id).await, (2, 8));
    let list = app.get("/v1/organization_roles?order_by=key").bearer(&key).send().await.assert_status(200).json;
    assert_eq!(keys(&list), ["org:admin", "org:member"]);
    assert_eq!(perm_keys(&list["data"][0]).len(), 8);
}

#[tokio::test]
async fn settings_never_name_a_concurrently_deleted_role() {
    let app = app().await;
    for i in 0..8 {
        let key = format!("org:lead{i}");
        let r = app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await;
        let id = r.assert_status(200).json["id"].as_str().unwrap().to_owned();
        let (deleted, patched) = tokio::join!(
            app.delete(&format!("/v1/organization_roles/{id}")).send(),
            app.patch("/v1/instance/organization_settings", json!({ "domains_default_role_id": id })).send(),
        );
        // One of them wins: the settings name the role (so it was not deleted), or it is gone (so the update
        // found nothing to name).
        assert!(
            (deleted.status == 200) != (patched.status == 200),
            "delete {} / settings update {}",
            deleted.status,
            patched.status
        );
        let s = app.get("/v1/instance/organization_settings").send().await.assert_status(200).json;
        let roles = app.get("/v1/organization_roles?limit=100").send().await.assert_status(200).json;
        assert!(keys(&roles).contains(&s["domains_default_role"].as_str().unwrap().to_owned()), "{s}");
        if patched.status == 200 {
            let body = json!({ "domains_default_role_id": "org:member" });
            app.patch("/v1/instance/organization_settings", body).send().await.assert_status(200);
            app.delete(&format!("/v1/organization_roles/{id}")).send().await.assert_status(200);
        }
    }
}

#[tokio::test]
async fn max_allowed_roles_is_enforced() {
    let app = app().await;
    // Clerk's default limit: 10 custom roles (the default roles do not count).
    for i in 0..9 {
        let key = format!("org:r{i}");
        app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await.assert_status(200);
    }
    // The last free slot goes to exactly one of two concurrent creations.
    let (a, b) = tokio::join!(
        app.post("/v1/organization_roles", json!({ "name": "A", "key": "org:a" })).send(),
        app.post("/v1/organization_roles", json!({ "name": "B", "key": "org:b" })).send(),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 403]);
    let loser = if a.status == 403 { a } else { b };
    loser.assert_error(403, "organization_role_quota_exceeded", None);
    let r = app.post("/v1/organization_roles", json!({ "name": "C", "key": "org:c" })).send().await;
    r.assert_error(403, "organization_role_quota_exceeded", None);
    let list = app.get("/v1/organization_roles?limit=100").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 12);

    // Deleting one frees a slot.
    let id = role_id(&app, "org:r0").await;
    app.delete(&format!("/v1/organization_roles/{id}")).send().await.assert_status(200);
    app.post("/v1/organization_roles", json!({ "name": "C", "key": "org:c" })).send().await.assert_status(200);
    // Another instance has its own quota.
    let (_, key_b) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let r = app.post("/v1/organization_roles", json!({ "name": "C", "key": "org:c" })).bearer(&key_b).send().await;
    r.assert_status(200);
}
