//! Organization memberships: create, list (per organization, per user, instance-wide), update, metadata, delete,
//! the membership limit (also under concurrent adds), members_count, events, and sessions in an organization.

use std::sync::Arc;

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::roles::outbox;
use super::{T0, app, enable, org_by, user_with_email};
use crate::sessions::{decode, mint};

fn user_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["public_user_data"]["user_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn add(app: &TestApp, org: &str, user: &str, role: &str) -> Value {
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": user, "role": role }))
        .send()
        .await
        .assert_status(200)
        .json
}

#[tokio::test]
async fn create_update_metadata_delete() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let ada = app
        .post("/v1/users", json!({ "email_address": ["ada@example.com"], "first_name": "Ada", "username": "ada_l" }))
        .send()
        .await
        .assert_status(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let org = org_by(&app, "Acme", &owner).await;
    app.clock.advance_ms(10);
    let m = app
        .post(
            &format!("/v1/organizations/{org}/memberships"),
            json!({ "user_id": ada, "role": "org:member", "public_metadata": { "team": "a" },
                    "private_metadata": { "cost": 1 } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert!(tessera_core::ids::is_ksuid_id(m["id"].as_str().unwrap(), "orgmem"), "{m}");
    assert_eq!((m["object"].clone(), m["role"].clone()), (json!("organization_membership"), json!("org:member")));
    assert_eq!(
        (m["role_name"].clone(), m["permissions"].clone()),
        (json!("Member"), json!(["org:sys_memberships:read"]))
    );
    assert_eq!(m["public_metadata"], json!({ "team": "a" }));
    assert_eq!(m["organization"]["id"], org.as_str());
    assert_eq!(m["organization"]["members_count"], 2);
    let pud = &m["public_user_data"];
    assert_eq!(
        (pud["user_id"].clone(), pud["first_name"].clone(), pud["identifier"].clone(), pud["username"].clone()),
        (json!(ada), json!("Ada"), json!("ada@example.com"), json!("ada_l"))
    );
    assert_eq!(m["created_at"], T0 + 10);

    let path = format!("/v1/organizations/{org}/memberships/{ada}");
    app.clock.advance_ms(5);
    let u = app.patch(&path, json!({ "role": "org:admin" })).send().await.assert_status(200).json;
    assert_eq!((u["role"].clone(), u["role_name"].clone()), (json!("org:admin"), json!("Admin")));
    assert_eq!(u["updated_at"], T0 + 15);
    assert_eq!(u["permissions"].as_array().unwrap().len(), 8);

    let md = app
        .patch(
            &format!("{path}/metadata"),
            json!({ "public_metadata": { "team": null, "level": { "x": 1 } }, "private_metadata": { "more": true } }),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(md["public_metadata"], json!({ "level": { "x": 1 } }));
    assert_eq!(md["private_metadata"], json!({ "cost": 1, "more": true }));

    let list = app.get(&format!("/v1/organizations/{org}/memberships")).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 2);
    assert_eq!(user_ids(&list), [ada.clone(), owner.clone()], "newest first");

    let d = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!((d["id"].clone(), d["organization"]["members_count"].clone()), (md["id"].clone(), json!(1)));
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "role": "org:admin" })).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&format!("{path}/metadata"), json!({})).send().await.assert_error(404, "resource_not_found", None);
    let got = app.get(&format!("/v1/organizations/{org}?include_members_count=true")).send().await.json;
    assert_eq!(got["members_count"], 1);
}

#[tokio::test]
async fn errors_leave_nothing_behind() {
    let app = TestApp::new().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    // Organizations off: refused.
    app.post("/v1/organizations/org_x/memberships", json!({ "user_id": other, "role": "org:member" }))
        .send()
        .await
        .assert_error(403, "organization_not_enabled_in_instance", None);
    enable(&app).await;
    let org = org_by(&app, "Acme", &owner).await;
    let path = format!("/v1/organizations/{org}/memberships");
    for (body, status, code, param) in [
        (json!({ "role": "org:member" }), 422, "form_param_missing", Some("user_id")),
        (json!({ "user_id": other }), 422, "form_param_missing", Some("role")),
        (json!({ "user_id": other, "role": "org:nope" }), 422, "form_param_value_invalid", Some("role")),
        (json!({ "user_id": "user_missing", "role": "org:member" }), 404, "resource_not_found", None),
        (json!({ "user_id": owner, "role": "org:member" }), 400, "already_a_member_in_organization", None),
    ] {
        app.post(&path, body).send().await.assert_error(status, code, param);
    }
    app.post("/v1/organizations/org_missing/memberships", json!({ "user_id": other, "role": "org:member" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    app.get("/v1/organizations/org_missing/memberships").send().await.assert_error(404, "resource_not_found", None);
    app.get(&format!("{path}?limit=0")).send().await.assert_error(422, "form_param_value_invalid", Some("limit"));
    app.get(&format!("{path}?order_by=password")).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("order_by"),
    );
    app.patch(&format!("{path}/{owner}"), json!({ "role": "org:nope" })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role"),
    );
    app.patch(&format!("{path}/{owner}"), json!({})).send().await.assert_error(422, "form_param_missing", Some("role"));
    app.patch(&format!("{path}/{owner}/metadata"), json!({ "unsafe_metadata": {} })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("unsafe_metadata"),
    );
    let list = app.get(&path).send().await.assert_status(200).json;
    assert_eq!((list["total_count"].clone(), list["data"][0]["role"].clone()), (json!(1), json!("org:admin")));
}

#[tokio::test]
async fn lists_filter_and_order() {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let mut users = Vec::new();
    for (email, first) in [("carol@example.com", "Carol"), ("alice@example.com", "Alice"), ("bob@example.com", "Bob")] {
        app.clock.advance_ms(10);
        let u = app
            .post("/v1/users", json!({ "email_address": [email], "first_name": first }))
            .send()
            .await
            .assert_status(200)
            .json;
        users.push(u["id"].as_str().unwrap().to_owned());
    }
    let (carol, alice, bob) = (users[0].clone(), users[1].clone(), users[2].clone());
    let org = org_by(&app, "Acme", &carol).await;
    app.clock.advance_ms(10);
    add(&app, &org, &alice, "org:member").await;
    app.clock.advance_ms(10);
    add(&app, &org, &bob, "org:member").await;
    app.clock.advance_ms(10);
    let other_org = org_by(&app, "Other", &bob).await;

    let path = format!("/v1/organizations/{org}/memberships");
    let get = |q: &str| {
        let app = &app;
        let url = format!("{path}{q}");
        async move { app.get(&url).send().await.assert_status(200).json }
    };
    assert_eq!(user_ids(&get("?order_by=first_name").await), [alice.clone(), bob.clone(), carol.clone()]);
    assert_eq!(user_ids(&get("?order_by=-email_address").await), [carol.clone(), bob.clone(), alice.clone()]);
    assert_eq!(user_ids(&get("?order_by=created_at&limit=1&offset=1").await), [alice.as_str()]);
    assert_eq!(user_ids(&get("?role=org:admin").await), [carol.as_str()]);
    assert_eq!(user_ids(&get("?query=ALI").await), [alice.as_str()]);
    assert_eq!(user_ids(&get("?email_address=bob@example.com").await), [bob.as_str()]);
    assert_eq!(user_ids(&get(&format!("?user_id=-{carol}&order_by=first_name")).await), [alice.clone(), bob.clone()]);
    assert_eq!(get("?role=org:member").await["total_count"], 2);

    // The user's memberships.
    let mine = app.get(&format!("/v1/users/{bob}/organization_memberships")).send().await.assert_status(200).json;
    assert_eq!(mine["total_count"], 2);
    let orgs: Vec<&str> =
        mine["data"].as_array().unwrap().iter().map(|m| m["organization"]["id"].as_str().unwrap()).collect();
    assert_eq!(orgs, [other_org.as_str(), org.as_str()]);
    app.get("/v1/users/user_missing/organization_memberships").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    // Every membership of the instance.
    let all = app.get("/v1/organization_memberships?order_by=created_at").send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 4);
    assert_eq!(user_ids(&all), [carol.clone(), alice.clone(), bob.clone(), bob.clone()]);
    app.get("/v1/organization_memberships?order_by=nope").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("order_by"),
    );

    // The user list's organization filter.
    let u = app.get(&format!("/v1/users?organization_id={other_org}")).send().await.assert_status(200).json;
    assert_eq!(crate::users::ids(&u), [bob.as_str()]);
    let u = app.get(&format!("/v1/users?organization_id=-{other_org}&order_by=created_at")).send().await.json;
    assert_eq!(crate::users::ids(&u), [carol.clone(), alice.clone()]);
    let c = app.get(&format!("/v1/users/count?organization_id={org}")).send().await.assert_status(200).json;
    assert_eq!(c["total_count"], 3);
}

#[tokio::test]
async fn the_membership_limit_holds() {
    let app = app().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let org = app
        .post("/v1/organizations", json!({ "name": "Small", "created_by": owner, "max_allowed_memberships": 2 }))
        .send()
        .await
        .assert_status(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = user_with_email(&app, "a@example.com").await;
    let b = user_with_email(&app, "b@example.com").await;
    add(&app, &org, &a, "org:member").await;
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": b, "role": "org:member" }))
        .send()
        .await
        .assert_error(403, "organization_membership_quota_exceeded", None);
    // Raising the limit lets the next member in; 0 is unlimited.
    app.patch(&format!("/v1/organizations/{org}"), json!({ "max_allowed_memberships": 0 }))
        .send()
        .await
        .assert_status(200);
    add(&app, &org, &b, "org:member").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_never_exceed_the_limit() {
    let app = Arc::new(app().await);
    let owner = user_with_email(&app, "owner@example.com").await;
    let org = app
        .post("/v1/organizations", json!({ "name": "Race", "created_by": owner, "max_allowed_memberships": 5 }))
        .send()
        .await
        .assert_status(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut users = Vec::new();
    for i in 0..16 {
        users.push(user_with_email(&app, &format!("racer{i}@example.com")).await);
    }
    let mut tasks = Vec::new();
    for user in users {
        let (app, org) = (app.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let res = app
                .post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": user, "role": "org:member" }))
                .send()
                .await;
            (res.status, res.error_code().to_owned())
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.expect("task") {
            (200, _) => ok += 1,
            (403, code) => assert_eq!(code, "organization_membership_quota_exceeded"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 4, "the owner plus four members fill the five places");
    let list = app.get(&format!("/v1/organizations/{org}/memberships")).send().await.assert_status(200).json;
    assert_eq!(list["total_count"], 5);
}

#[tokio::test]
async fn members_count_and_elevated_members() {
    let app = app().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    let org = org_by(&app, "Acme", &owner).await;
    add(&app, &org, &other, "org:member").await;
    let q = "?include_members_count=true&include_missing_member_with_elevated_permissions=true";
    let got = app.get(&format!("/v1/organizations/{org}{q}")).send().await.assert_status(200).json;
    assert_eq!(
        (got["members_count"].clone(), got["missing_member_with_elevated_permissions"].clone()),
        (json!(2), json!(false))
    );
    app.patch(&format!("/v1/organizations/{org}/memberships/{owner}"), json!({ "role": "org:member" }))
        .send()
        .await
        .assert_status(200);
    let got = app.get(&format!("/v1/organizations/{org}{q}")).send().await.assert_status(200).json;
    assert_eq!(got["missing_member_with_elevated_permissions"], true);
    // A custom role that can manage members is elevated too.
    let perms = app.get("/v1/organization_permissions?query=sys_memberships:manage").send().await.json;
    let manage = perms["data"][0]["id"].as_str().unwrap().to_owned();
    app.post("/v1/organization_roles", json!({ "name": "Manager", "key": "org:manager", "permissions": [manage], "include_in_initial_role_set": true }))
        .send()
        .await
        .assert_status(200);
    app.patch(&format!("/v1/organizations/{org}/memberships/{other}"), json!({ "role": "org:manager" }))
        .send()
        .await
        .assert_status(200);
    let got = app.get(&format!("/v1/organizations/{org}{q}")).send().await.assert_status(200).json;
    assert_eq!(got["missing_member_with_elevated_permissions"], false);
}

#[tokio::test]
async fn organization_and_membership_events() {
    let app = app().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let other = user_with_email(&app, "other@example.com").await;
    let org = org_by(&app, "Acme", &owner).await;
    let path = format!("/v1/organizations/{org}/memberships/{other}");
    add(&app, &org, &other, "org:member").await;
    app.patch(&path, json!({ "role": "org:admin" })).send().await.assert_status(200);
    app.patch(&format!("{path}/metadata"), json!({ "public_metadata": { "a": 1 } })).send().await.assert_status(200);
    app.delete(&path).send().await.assert_status(200);
    app.patch(&format!("/v1/organizations/{org}"), json!({ "name": "Acme 2" })).send().await.assert_status(200);
    app.patch(&format!("/v1/organizations/{org}/metadata"), json!({ "public_metadata": { "b": 2 } }))
        .send()
        .await
        .assert_status(200);
    // Refused: nothing written.
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": owner, "role": "org:member" }))
        .send()
        .await
        .assert_status(400);
    app.delete(&format!("/v1/organizations/{org}")).send().await.assert_status(200);
    let events: Vec<Value> = outbox(&app).await.into_iter().filter(|e| e["type"] != "user.created").collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "organization.created",
            "organizationMembership.created",
            "organizationMembership.created",
            "organizationMembership.updated",
            "organizationMembership.updated",
            "organizationMembership.deleted",
            "organization.updated",
            "organization.updated",
            "organization.deleted",
        ]
    );
    assert_eq!(events[0]["data"]["id"], org.as_str());
    assert_eq!(events[1]["data"]["public_user_data"]["user_id"], owner.as_str());
    assert_eq!(events[1]["data"]["role"], "org:admin");
    assert_eq!(events[2]["data"]["organization"]["members_count"], 2);
    assert_eq!(events[4]["data"]["public_metadata"], json!({ "a": 1 }));
    assert_eq!(events[6]["data"]["name"], "Acme 2");
    assert_eq!(events[8]["data"], json!({ "object": "organization", "id": org, "slug": "acme", "deleted": true }));
}

#[tokio::test]
async fn sessions_carry_the_active_organization() {
    let app = app().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let member = user_with_email(&app, "member@example.com").await;
    let stranger = user_with_email(&app, "stranger@example.com").await;
    let org = org_by(&app, "Acme Corp", &owner).await;
    let read = app
        .post("/v1/organization_permissions", json!({ "name": "Read posts", "key": "org:posts:read" }))
        .send()
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let publish = app
        .post("/v1/organization_permissions", json!({ "name": "Publish", "key": "org:posts:publish" }))
        .send()
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let billing = app
        .post("/v1/organization_permissions", json!({ "name": "Billing", "key": "org:billing:read" }))
        .send()
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/v1/organization_roles",
        json!({ "name": "Editor", "key": "org:editor", "permissions": [read, publish, billing],
                "include_in_initial_role_set": true }),
    )
    .send()
    .await
    .assert_status(200);
    add(&app, &org, &member, "org:editor").await;

    let s = app
        .post("/v1/sessions", json!({ "user_id": member, "active_organization_id": org }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(s["last_active_organization_id"], org.as_str());
    let (_, claims) = decode(&mint(&app, s["id"].as_str().unwrap(), json!({})).await);
    assert_eq!(claims["o"]["id"], org.as_str());
    assert_eq!(claims["o"]["slg"], "acme-corp");
    assert_eq!(claims["o"]["rol"], "editor");
    // Permissions by key: billing:read, posts:publish, posts:read — features billing and posts, actions read
    // (bit 0) and publish (bit 1).
    assert_eq!(claims["o"]["per"], "read,publish");
    assert_eq!(claims["o"]["fpm"], "1,3");
    assert_eq!(claims["fea"], "o:billing,o:posts");

    // By slug too; a session without an organization has no `o`.
    app.post("/v1/sessions", json!({ "user_id": member, "active_organization_id": "acme-corp" }))
        .send()
        .await
        .assert_status(200);
    let plain = app.post("/v1/sessions", json!({ "user_id": member })).send().await.assert_status(200).json;
    let (_, claims) = decode(&mint(&app, plain["id"].as_str().unwrap(), json!({})).await);
    assert!(claims.get("o").is_none(), "{claims}");

    app.post("/v1/sessions", json!({ "user_id": stranger, "active_organization_id": org })).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("active_organization_id"),
    );
    app.post("/v1/sessions", json!({ "user_id": member, "active_organization_id": "org_missing" }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);

    // Removed from the organization: the session's tokens lose the claim.
    app.delete(&format!("/v1/organizations/{org}/memberships/{member}")).send().await.assert_status(200);
    let (_, claims) = decode(&mint(&app, s["id"].as_str().unwrap(), json!({})).await);
    assert!(claims.get("o").is_none(), "{claims}");
}

#[tokio::test]
async fn other_instances_see_nothing() {
    let app = app().await;
    let owner = user_with_email(&app, "owner@example.com").await;
    let org = org_by(&app, "Acme", &owner).await;
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true }))
        .bearer(&key_b)
        .send()
        .await
        .assert_status(200);
    let all = app.get("/v1/organization_memberships").bearer(&key_b).send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 0);
    app.get(&format!("/v1/organizations/{org}/memberships")).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": owner, "role": "org:member" }))
        .bearer(&key_b)
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
}
