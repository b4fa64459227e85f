//! The signed-in user's own organization actions: leaving (the last member who can manage memberships stays) and
//! accepting an invitation addressed to them.

use serde_json::{Value, json};
use tessera_testkit::{TestApp, TestBrowser};

use crate::{T0, events_of};

async fn user(app: &TestApp, email: &str) -> String {
    let r = app.post("/v1/users", json!({ "email_address": [email], "password": "correct horse battery staple" }));
    r.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned()
}

async fn member<'a>(app: &'a TestApp, email: &str) -> (TestBrowser<'a>, String, String) {
    let id = user(app, email).await;
    let b = app.browser().await;
    let sess = b.sign_in_as(&id).await;
    (b, id, sess)
}

fn at(path: &str, session: &str) -> String {
    format!("{path}?_clerk_session_id={session}")
}

async fn organization(app: &TestApp, admin: &str) -> String {
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
    let org = app.post("/v1/organizations", json!({ "name": "Acme", "created_by": admin })).send().await;
    org.assert_status(200).json["id"].as_str().unwrap().to_owned()
}

async fn add(app: &TestApp, org: &str, user: &str, role: &str) {
    let body = json!({ "user_id": user, "role": role });
    app.post(&format!("/v1/organizations/{org}/memberships"), body).send().await.assert_status(200);
}

async fn member_ids(app: &TestApp, org: &str) -> Vec<String> {
    let r = app.get(&format!("/v1/organizations/{org}/memberships")).send().await.assert_status(200).json;
    r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["public_user_data"]["user_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn members_leave_but_the_last_admin_stays() {
    let app = TestApp::with_clock(T0).await;
    let (admin, admin_id, asess) = member(&app, "admin@example.com").await;
    let (plain, plain_id, psess) = member(&app, "plain@example.com").await;
    let org = organization(&app, &admin_id).await;
    add(&app, &org, &plain_id, "org:member").await;
    let path = format!("/v1/me/organization_memberships/{org}");

    // The last admin cannot leave; nothing changes.
    admin.delete(&at(&path, &asess)).send().await.assert_error(400, "organization_minimum_permissions_needed", None);
    assert_eq!(member_ids(&app, &org).await.len(), 2);
    // A member leaves: the answer is the deleted membership, and the client no longer lists it.
    let r = plain.delete(&at(&path, &psess)).send().await.assert_status(200);
    assert_eq!(
        (r.json["response"]["object"].as_str(), r.json["response"]["deleted"].as_bool()),
        (Some("organization_membership"), Some(true))
    );
    assert!(r.json["response"]["id"].as_str().unwrap().starts_with("orgmem_"));
    let memberships = &r.json["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!(memberships, &json!([]));
    assert_eq!(member_ids(&app, &org).await, vec![admin_id.clone()]);
    let deleted = events_of(&app, "organizationMembership.deleted").await;
    assert_eq!(deleted[0]["data"]["public_user_data"]["user_id"], plain_id.as_str());
    // Not a member (any more), or an unknown organization: 404.
    plain.delete(&at(&path, &psess)).send().await.assert_status(404);
    plain.delete(&at("/v1/me/organization_memberships/org_nope", &psess)).send().await.assert_status(404);
    // With another admin, the first may leave.
    add(&app, &org, &plain_id, "org:admin").await;
    admin.delete(&at(&path, &asess)).send().await.assert_status(200);
    assert_eq!(member_ids(&app, &org).await, vec![plain_id]);
}

#[tokio::test]
async fn users_accept_invitations_addressed_to_them() {
    let app = TestApp::with_clock(T0).await;
    let admin_id = user(&app, "admin@example.com").await;
    let org = organization(&app, &admin_id).await;
    let (b, uid, sess) = member(&app, "ada@example.com").await;
    let (other, _, osess) = member(&app, "bo@example.com").await;
    let invite = |email: &'static str| {
        let app = &app;
        let org = org.clone();
        async move {
            let body = json!({ "email_address": email, "role": "org:member", "public_metadata": { "k": 1 } });
            let r = app.post(&format!("/v1/organizations/{org}/invitations"), body).send().await;
            r.assert_status(200).json["id"].as_str().unwrap().to_owned()
        }
    };
    let inv = invite("ada@example.com").await;
    let path = format!("/v1/me/organization_invitations/{inv}/accept");
    // Someone else's invitation reads as unknown.
    other.post(&at(&path, &osess), &[]).send().await.assert_status(404);
    let r = b.post(&at(&path, &sess), &[]).send().await.assert_status(200);
    let resp: &Value = &r.json["response"];
    assert_eq!((resp["id"].as_str(), resp["status"].as_str()), (Some(inv.as_str()), Some("accepted")));
    assert_eq!(resp["public_organization_data"]["id"], org.as_str());
    assert_eq!(
        r.json["client"]["sessions"][0]["user"]["organization_memberships"][0]["organization"]["id"],
        org.as_str()
    );
    assert!(member_ids(&app, &org).await.contains(&uid));
    assert_eq!(events_of(&app, "organizationInvitation.accepted").await.len(), 1);
    // Not pending any more; unknown.
    b.post(&at(&path, &sess), &[]).send().await.assert_status(404);
    b.post(&at("/v1/me/organization_invitations/orginv_nope/accept", &sess), &[]).send().await.assert_status(404);
    // A revoked invitation cannot be accepted.
    let inv2 = invite("bo@example.com").await;
    app.post(&format!("/v1/organizations/{org}/invitations/{inv2}/revoke"), json!({})).send().await.assert_status(200);
    other
        .post(&at(&format!("/v1/me/organization_invitations/{inv2}/accept"), &osess), &[])
        .send()
        .await
        .assert_status(404);
}
