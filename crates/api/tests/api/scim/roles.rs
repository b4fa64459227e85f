//! Group → role mappings: members of a directory linked to an organization get the role of their mapped group of
//! lowest precedence, else the organization's default role; group changes and mapping changes move them.

use serde_json::{Value, json};

use super::directory;
use crate::events_of;
use crate::organizations::{app as org_app, create_org};

async fn role(app: &tessera_testkit::TestApp, key: &str) -> String {
    let r = app.post("/v1/organization_roles", json!({ "name": key, "key": key })).send().await.assert_status(200).json;
    r["id"].as_str().unwrap().to_owned()
}

async fn role_of(app: &tessera_testkit::TestApp, org: &str, user: &str) -> Option<String> {
    let l = app.get(&format!("/v1/organizations/{org}/memberships?limit=100")).send().await.assert_status(200).json;
    l["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["public_user_data"]["user_id"] == user)
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn groups_assign_roles_by_precedence() {
    let app = org_app().await;
    let org = id(&create_org(&app, json!({ "name": "Acme" })).await);
    let admin = role(&app, "org:it_admin").await;
    let viewer = role(&app, "org:viewer").await;
    // Role sets: the new roles join the organization's set so they can be assigned.
    let org_json = app.get(&format!("/v1/organizations/{org}")).send().await.assert_status(200).json;
    if let Some(set) = org_json["role_set_key"].as_str() {
        app.post(&format!("/v1/role_sets/{set}/roles"), json!({ "role_keys": ["org:it_admin", "org:viewer"] }))
            .send()
            .await
            .assert_status(200);
    }
    let (dir, key) = directory(&app, "okta", Some(&org)).await;
    let scim = app.scim(&dir, &key);
    let alice = id(&scim.post("/Users", json!({ "userName": "alice@acme.test" })).await.status(201).json);
    let bob = id(&scim.post("/Users", json!({ "userName": "bob@acme.test" })).await.status(201).json);
    // Provisioned into the linked organization with its default role.
    assert_eq!(role_of(&app, &org, &alice).await.as_deref(), Some("org:member"));

    let admins = id(&scim
        .post(
            "/Groups",
            json!({ "displayName": "Admins", "externalId": "okta-admins", "members": [{ "value": alice }] }),
        )
        .await
        .status(201)
        .json);
    let viewers = id(&scim
        .post("/Groups", json!({ "displayName": "Viewers", "members": [{ "value": alice }, { "value": bob }] }))
        .await
        .status(201)
        .json);
    assert_eq!(role_of(&app, &org, &alice).await.as_deref(), Some("org:member"), "mapping still disabled");

    app.patch(&format!("/v1/directories/{dir}"), json!({ "group_role_mapping_enabled": true }))
        .send()
        .await
        .assert_status(200);
    // Mapped by externalId and by SCIM id; the admins mapping first.
    let put = app
        .put(
            &format!("/v1/directories/{dir}/group_role_mappings"),
            json!({ "mappings": [{ "directory_group_id": "okta-admins", "role_id": admin }, { "directory_group_id": viewers, "role_id": viewer }] }),
        )
        .api_version("2026-05-12")
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(put["data"][1]["directory_group_display_name"], "Viewers");
    assert_eq!(role_of(&app, &org, &alice).await.as_deref(), Some("org:it_admin"));
    assert_eq!(role_of(&app, &org, &bob).await.as_deref(), Some("org:viewer"));

    // Leaving the admins group falls back to the next mapped group; deleting that group to the default role.
    scim.patch(
        &format!("/Groups/{admins}"),
        json!([{ "op": "remove", "path": format!("members[value eq \"{alice}\"]") }]),
    )
    .await
    .status(200);
    assert_eq!(role_of(&app, &org, &alice).await.as_deref(), Some("org:viewer"));
    scim.delete(&format!("/Groups/{viewers}")).await.status(204);
    assert_eq!(role_of(&app, &org, &alice).await.as_deref(), Some("org:member"));
    assert_eq!(role_of(&app, &org, &bob).await.as_deref(), Some("org:member"));

    let created = events_of(&app, "organizationMembership.created").await;
    assert_eq!(created.len(), 2);
    let updated = events_of(&app, "organizationMembership.updated").await;
    assert_eq!(updated.len(), 5, "alice→admin, bob→viewer, alice→viewer, alice→member, bob→member");
}
