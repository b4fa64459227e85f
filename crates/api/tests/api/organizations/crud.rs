//! Organizations: create, get by id or slug, list, update, delete, metadata, settings, isolation.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, app, create_org, enable, ids, org_by, user_with_email};

#[tokio::test]
async fn organizations_are_off_until_enabled() {
    let app = TestApp::new().await;
    app.post("/v1/organizations", json!({ "name": "Acme" })).send().await.assert_error(
        403,
        "organization_not_enabled_in_instance",
        None,
    );
    app.get("/v1/organizations").send().await.assert_error(403, "organization_not_enabled_in_instance", None);
    app.get("/v1/organizations/org_x").send().await.assert_error(403, "organization_not_enabled_in_instance", None);
    enable(&app).await;
    create_org(&app, json!({ "name": "Acme" })).await;
}

#[tokio::test]
async fn create_with_creator_get_by_id_and_slug() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let user = user_with_email(&app, "founder@example.com").await;
    let o = create_org(
        &app,
        json!({
            "name": "Acme Inc.", "created_by": user, "public_metadata": { "plan": "pro" },
            "private_metadata": { "crm": 7 }, "max_allowed_memberships": 3
        }),
    )
    .await;
    let id = o["id"].as_str().unwrap();
    assert!(tessera_core::ids::is_ksuid_id(id, "org"), "{id}");
    assert_eq!(o["object"], "organization");
    assert_eq!(o["name"], "Acme Inc.");
    assert_eq!(o["slug"], "acme-inc", "generated from the name");
    assert_eq!(o["created_by"], user.as_str());
    assert_eq!(o["max_allowed_memberships"], 3);
    assert_eq!(o["admin_delete_enabled"], true);
    assert_eq!(o["public_metadata"], json!({ "plan": "pro" }));
    assert_eq!(o["private_metadata"], json!({ "crm": 7 }));
    assert_eq!((o["has_image"].clone(), o["image_url"].clone()), (json!(false), json!("")));
    assert_eq!(o["created_at"], T0);
    assert!(o.get("members_count").is_none(), "only on request");

    let got = app
        .get(&format!(
            "/v1/organizations/{id}?include_members_count=true&include_missing_member_with_elevated_permissions=true"
        ))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(got["members_count"], 1, "the creator is the first member");
    assert_eq!(got["missing_member_with_elevated_permissions"], false, "the creator is an admin");
    let by_slug = app.get("/v1/organizations/acme-inc").send().await.assert_status(200).json;
    assert_eq!(by_slug["id"], id);

    // Without a creator there are no members, hence nobody with elevated permissions.
    let lone = create_org(&app, json!({ "name": "Lone", "slug": "lone-1" })).await;
    assert_eq!(lone["slug"], "lone-1");
    assert!(lone.get("created_by").is_none());
    let got = app
        .get("/v1/organizations/lone-1?include_members_count=1&include_missing_member_with_elevated_permissions=1")
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(
        (got["members_count"].clone(), got["missing_member_with_elevated_permissions"].clone()),
        (json!(0), json!(true))
    );
    assert_eq!(got["max_allowed_memberships"], 5, "the instance default");

    // A generated slug that is taken gets a suffix; a given one is refused.
    let again = create_org(&app, json!({ "name": "Acme Inc" })).await;
    let slug = again["slug"].as_str().unwrap();
    assert!(slug.starts_with("acme-inc-") && slug.len() > 9, "{slug}");
    app.post("/v1/organizations", json!({ "name": "X", "slug": "acme-inc" })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("slug"),
    );
    app.get("/v1/organizations/org_missing").send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn create_validates_its_input() {
    let app = app().await;
    for (body, status, code, param) in [
        (json!({}), 422, "form_param_missing", "name"),
        (json!({ "name": "  " }), 422, "form_param_missing", "name"),
        (json!({ "name": "x".repeat(257) }), 422, "form_param_value_invalid", "name"),
        (json!({ "name": "<b>bold</b>" }), 422, "form_param_value_invalid", "name"),
        (json!({ "name": "visit https://evil.example" }), 422, "form_param_value_invalid", "name"),
        (json!({ "name": "A", "slug": "Not OK" }), 422, "form_param_format_invalid", "slug"),
        (json!({ "name": "A", "created_by": "user_missing" }), 422, "form_param_value_invalid", "created_by"),
        (
            json!({ "name": "A", "max_allowed_memberships": -1 }),
            422,
            "form_param_value_invalid",
            "max_allowed_memberships",
        ),
        (json!({ "name": "A", "created_at": "yesterday" }), 422, "form_param_format_invalid", "created_at"),
        (json!({ "name": "A", "role_set_key": "role_set:none" }), 422, "form_param_value_invalid", "role_set_key"),
    ] {
        app.post("/v1/organizations", body.clone()).send().await.assert_error(status, code, Some(param));
    }
    let list = app.get("/v1/organizations").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0, "nothing half-written");
}

#[tokio::test]
async fn creator_role_comes_from_the_settings() {
    let app = app().await;
    app.patch(
        "/v1/instance/organization_settings",
        json!({ "creator_role_id": "org:member", "max_allowed_memberships": 0 }),
    )
    .send()
    .await
    .assert_status(200);
    let user = user_with_email(&app, "member@example.com").await;
    let id = org_by(&app, "Members", &user).await;
    let got = app
        .get(&format!("/v1/organizations/{id}?include_missing_member_with_elevated_permissions=true"))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(got["missing_member_with_elevated_permissions"], true, "the creator is only a member");
    assert_eq!(got["max_allowed_memberships"], 0, "0 = unlimited, from the settings");
}

#[tokio::test]
async fn list_filters_orders_and_pages() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let alice = user_with_email(&app, "alice@example.com").await;
    let bob = user_with_email(&app, "bob@example.com").await;
    let a = org_by(&app, "Zeta Corp", &alice).await;
    app.clock.advance_ms(10);
    let b = org_by(&app, "alpha labs", &bob).await;
    app.clock.advance_ms(10);
    let c = create_org(&app, json!({ "name": "Middle", "slug": "mid-zeta" })).await["id"].as_str().unwrap().to_owned();

    let list = app.get("/v1/organizations").send().await.assert_status(200).json;
    assert_eq!(ids(&list), [c.as_str(), b.as_str(), a.as_str()], "newest first by default");
    assert_eq!(list["total_count"], 3);
    assert!(list["data"][0].get("members_count").is_none());

    let list = app.get("/v1/organizations?order_by=name").send().await.assert_status(200).json;
    assert_eq!(ids(&list), [b.as_str(), c.as_str(), a.as_str()], "case-insensitive name order");
    let list = app
        .get("/v1/organizations?order_by=-members_count&include_members_count=true")
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(ids(&list)[2], c);
    assert_eq!(list["data"][2]["members_count"], 0);
    assert_eq!(list["data"][0]["members_count"], 1);

    let list = app.get("/v1/organizations?query=ZETA").send().await.assert_status(200).json;
    assert_eq!(ids(&list), [c.as_str(), a.as_str()], "name or slug, case-insensitive");
    let list = app.get(&format!("/v1/organizations?query={b}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [b.as_str()], "exact id");
    let list = app.get("/v1/organizations?query=%25").send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0, "LIKE wildcards are literal");

    let list =
        app.get(&format!("/v1/organizations?user_id={alice}&user_id=%2B{bob}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [b.as_str(), a.as_str()]);
    let list = app.get(&format!("/v1/organizations?user_id=-{alice}")).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [c.as_str(), b.as_str()]);
    let list = app
        .get(&format!("/v1/organizations?organization_id={a}&organization_id={c}&organization_id=-{c}"))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(ids(&list), [a.as_str()]);

    let list = app.get("/v1/organizations?limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!((ids(&list), list["total_count"].clone()), (vec![b.clone()], json!(3)));
    app.get("/v1/organizations?limit=0").send().await.assert_error(400, "query_param_invalid", Some("limit"));
    app.get("/v1/organizations?order_by=slug").send().await.assert_error(400, "query_param_invalid", Some("order_by"));
    let many: String = (0..101).map(|i| format!("organization_id=org_{i}&")).collect();
    app.get(&format!("/v1/organizations?{many}")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("organization_id"),
    );
}

#[tokio::test]
async fn update_changes_only_given_fields() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let o = create_org(&app, json!({ "name": "Old", "slug": "old", "public_metadata": { "a": 1 } })).await;
    let id = o["id"].as_str().unwrap();
    app.clock.advance_ms(1000);
    let path = format!("/v1/organizations/{id}");
    let u = app
        .patch(
            &path,
            json!({ "name": "New", "slug": "new", "max_allowed_memberships": 9, "admin_delete_enabled": false }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((u["name"].clone(), u["slug"].clone()), (json!("New"), json!("new")));
    assert_eq!((u["max_allowed_memberships"].clone(), u["admin_delete_enabled"].clone()), (json!(9), json!(false)));
    assert_eq!(u["public_metadata"], json!({ "a": 1 }));
    assert_eq!(u["updated_at"], T0 + 1000);
    assert_eq!(u["created_at"], T0);
    // By slug, too; null leaves a field alone; metadata replaces (deprecated path).
    let u = app
        .patch(
            "/v1/organizations/new",
            json!({ "name": null, "public_metadata": { "b": 2 }, "created_at": "2020-01-01T00:00:00Z" }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((u["name"].clone(), u["public_metadata"].clone()), (json!("New"), json!({ "b": 2 })));
    assert_eq!(u["created_at"], 1_577_836_800_000_i64);

    let other = create_org(&app, json!({ "name": "Other", "slug": "other" })).await;
    app.patch(&path, json!({ "slug": "other" })).send().await.assert_error(422, "form_identifier_exists", Some("slug"));
    app.patch(&path, json!({ "slug": "BAD slug" })).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("slug"),
    );
    app.patch(&path, json!({ "name": "" })).send().await.assert_error(422, "form_param_missing", Some("name"));
    app.patch(&path, json!({ "max_allowed_memberships": -2 })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("max_allowed_memberships"),
    );
    app.patch(&path, json!({ "unknown": 1 })).send().await.assert_error(422, "form_param_unknown", Some("unknown"));
    app.patch("/v1/organizations/org_missing", json!({ "name": "x" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    assert_eq!(
        app.get(&format!("/v1/organizations/{}", other["id"].as_str().unwrap())).send().await.assert_status(200).json["slug"],
        "other"
    );
}

#[tokio::test]
async fn metadata_merge_and_replace() {
    let app = app().await;
    let o = create_org(
        &app,
        json!({ "name": "Meta", "public_metadata": { "a": 1, "nested": { "x": 1, "y": 2 } }, "private_metadata": { "p": true } }),
    )
    .await;
    let path = format!("/v1/organizations/{}/metadata", o["id"].as_str().unwrap());
    let m = app
        .patch(&path, json!({ "public_metadata": { "a": null, "nested": { "y": null, "z": 3 }, "b": [1] } }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(m["public_metadata"], json!({ "nested": { "x": 1, "z": 3 }, "b": [1] }));
    assert_eq!(m["private_metadata"], json!({ "p": true }), "absent fields are unchanged");
    let m = app.put(&path, json!({ "private_metadata": { "q": 1 } })).send().await.assert_status(200).json;
    assert_eq!(m["private_metadata"], json!({ "q": 1 }));
    assert_eq!(m["public_metadata"], json!({ "nested": { "x": 1, "z": 3 }, "b": [1] }));
    app.put(&path, json!({ "unsafe_metadata": {} })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("unsafe_metadata"),
    );
    app.patch("/v1/organizations/org_missing/metadata", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.put("/v1/organizations/org_missing/metadata", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn delete_removes_the_organization_and_its_memberships() {
    let app = app().await;
    let user = user_with_email(&app, "owner@example.com").await;
    let id = org_by(&app, "Doomed", &user).await;
    let d = app.delete(&format!("/v1/organizations/{id}")).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "organization", "id": id, "slug": "doomed", "deleted": true }));
    app.get(&format!("/v1/organizations/{id}")).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&format!("/v1/organizations/{id}")).send().await.assert_error(404, "resource_not_found", None);
    let list = app.get(&format!("/v1/organizations?user_id={user}")).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);
    // The slug is free again; the user still exists.
    create_org(&app, json!({ "name": "Doomed", "slug": "doomed" })).await;
    app.get(&format!("/v1/users/{user}")).send().await.assert_status(200);
}

#[tokio::test]
async fn organizations_are_isolated_per_instance() {
    let app = app().await;
    let mine = create_org(&app, json!({ "name": "Mine", "slug": "mine" })).await;
    let id = mine["id"].as_str().unwrap();
    let (_, other) = app.create_instance(Environment::Development).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200);
    // The same slug is free in another instance.
    let theirs = app
        .post("/v1/organizations", json!({ "name": "Mine", "slug": "mine" }))
        .bearer(&other)
        .send()
        .await
        .assert_status(200)
        .json;
    assert_ne!(theirs["id"], mine["id"]);
    let list = app.get("/v1/organizations").bearer(&other).send().await.assert_status(200).json;
    assert_eq!(ids(&list), [theirs["id"].as_str().unwrap()]);
    let list = app.get(&format!("/v1/organizations?query={id}")).bearer(&other).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 0);
    let path = format!("/v1/organizations/{id}");
    app.get(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "name": "x" })).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&format!("{path}/metadata"), json!({})).bearer(&other).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.put(&format!("{path}/metadata"), json!({})).bearer(&other).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.delete(&format!("{path}/logo")).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).bearer(&other).send().await.assert_error(404, "resource_not_found", None);
    // A user of another instance cannot create here.
    let stranger = user_with_email(&app, "s@example.com").await;
    app.post("/v1/organizations", json!({ "name": "X", "created_by": stranger }))
        .bearer(&other)
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("created_by"));
    assert_eq!(app.get(&path).send().await.assert_status(200).json["name"], "Mine");
}
