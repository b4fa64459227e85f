//! Enrollment by verified organization domains: a verified domain in `automatic_suggestion` mode suggests its
//! organization to every user with a verified address at it (existing users, new users, newly verified addresses);
//! accepting the suggestion makes a membership request, which a manager accepts (membership) or rejects. In
//! `automatic_invitation` mode the same users get a pending invitation, accepted from `/v1/me`. Never to members,
//! never twice.

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
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}_clerk_session_id={session}")
}

/// Organizations with verified domains in both automatic modes; an organization made by a signed-in admin (whose
/// own address is at the domain: members are never enrolled) with `plain` as an `org:member`.
async fn setup(app: &TestApp) -> (TestBrowser<'_>, String, String) {
    let settings = json!({ "enabled": true, "domains_enabled": true,
        "domains_enrollment_modes": ["automatic_invitation", "automatic_suggestion"] });
    app.patch("/v1/instance/organization_settings", settings).send().await.assert_status(200);
    let (admin, _, asess) = member(app, "admin@acme.test").await;
    let r = admin.post(&at("/v1/organizations", &asess), &[("name", "Acme"), ("slug", "acme")]).send().await;
    let org = r.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    (admin, asess, org)
}

async fn add_domain(app: &TestApp, org: &str, mode: &str) -> String {
    let body = json!({ "name": "acme.test", "enrollment_mode": mode, "verified": true });
    let r = app.post(&format!("/v1/organizations/{org}/domains"), body).send().await.assert_status(200);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn pending_counts(app: &TestApp, org: &str) -> (Value, Value) {
    let r = app.get(&format!("/v1/organizations/{org}/domains")).send().await.assert_status(200).json;
    (r["data"][0]["total_pending_invitations"].clone(), r["data"][0]["total_pending_suggestions"].clone())
}

async fn invitations(b: &TestBrowser<'_>, sess: &str) -> tessera_testkit::TestResponse {
    b.get(&at("/v1/me/organization_invitations?status=pending", sess)).send().await
}

async fn suggestions(b: &TestBrowser<'_>, sess: &str, query: &str) -> Value {
    let r = b.get(&at(&format!("/v1/me/organization_suggestions{query}"), sess)).send().await;
    r.assert_status(200).json["response"].clone()
}

#[tokio::test]
async fn suggestions_become_membership_requests_that_managers_decide() {
    let app = TestApp::with_clock(T0).await;
    let (admin, asess, org) = setup(&app).await;
    let (alice, alice_id, alsess) = member(&app, "alice@acme.test").await;
    let (plain, plain_id, psess) = member(&app, "plain@elsewhere.test").await;
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": plain_id, "role": "org:member" }))
        .send()
        .await
        .assert_status(200);
    let (bob, bob_id, bsess) = member(&app, "bob@elsewhere.test").await;
    assert_eq!(suggestions(&alice, &alsess, "").await["total_count"], 0);

    // The domain becoming verified in the mode suggests the organization to existing users at it (not the admin).
    add_domain(&app, &org, "automatic_suggestion").await;
    let s = suggestions(&alice, &alsess, "?status=pending").await;
    assert_eq!(s["total_count"], 1);
    let sid = s["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&s["data"][0]["status"], &s["data"][0]["public_organization_data"]["id"]),
        (&json!("pending"), &json!(org))
    );
    assert_eq!(suggestions(&admin, &asess, "").await["total_count"], 0);
    assert_eq!(suggestions(&bob, &bsess, "").await["total_count"], 0);
    // A user created with an address there, and an address verified later, get one too.
    let (carol, _, csess) = member(&app, "carol@acme.test").await;
    assert_eq!(suggestions(&carol, &csess, "").await["total_count"], 1);
    let body = json!({ "user_id": bob_id, "email_address": "bob@acme.test", "verified": true });
    app.post("/v1/email_addresses", body).send().await.assert_status(200);
    let bs = suggestions(&bob, &bsess, "").await;
    assert_eq!(bs["total_count"], 1);
    assert_eq!(pending_counts(&app, &org).await, (json!(0), json!(3)));
    let old = app.browser().await.with_version("2025-11-10");
    let old_sess = old.sign_in_as(&alice_id).await;
    assert_eq!(suggestions(&old, &old_sess, "").await["total_count"], 1);

    // Filters and the error cases of accepting.
    assert_eq!(suggestions(&alice, &alsess, "?status=accepted").await["total_count"], 0);
    alice.get(&at("/v1/me/organization_suggestions?status=bogus", &alsess)).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("status"),
    );
    let accept = |id: &str| format!("/v1/me/organization_suggestions/{id}/accept");
    bob.post(&at(&accept(&sid), &bsess), &[]).send().await.assert_error(404, "resource_not_found", None);
    alice.post(&at(&accept("orgsug_unknown"), &alsess), &[]).send().await.assert_error(404, "resource_not_found", None);
    let r = alice.post(&at(&accept(&sid), &alsess), &[]).send().await.assert_status(200);
    assert_eq!((&r.json["response"]["id"], &r.json["response"]["status"]), (&json!(sid), &json!("accepted")));
    alice.post(&at(&accept(&sid), &alsess), &[]).send().await.assert_error(
        422,
        "organization_suggestion_already_accepted",
        None,
    );
    let s = suggestions(&alice, &alsess, "?status=pending&status=accepted").await;
    assert_eq!((&s["total_count"], &s["data"][0]["status"]), (&json!(1), &json!("accepted")));

    // The organization's membership requests: managers only.
    let requests = format!("/v1/organizations/{org}/membership_requests");
    plain.get(&at(&requests, &psess)).send().await.assert_error(403, "missing_organization_permission", None);
    alice.get(&at(&requests, &alsess)).send().await.assert_error(403, "not_a_member_in_organization", None);
    let r = admin.get(&at(&format!("{requests}?status=pending"), &asess)).send().await.assert_status(200).json;
    assert_eq!(r["response"]["total_count"], 1);
    let req = &r["response"]["data"][0];
    assert_eq!((&req["status"], &req["public_user_data"]["user_id"]), (&json!("pending"), &json!(alice_id)));
    assert_eq!(req["public_user_data"]["identifier"], "alice@acme.test");
    let rid = req["id"].as_str().unwrap().to_owned();
    admin.get(&at(&format!("{requests}?status=nope"), &asess)).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("status"),
    );

    // Accepting makes the membership (with its event); only once; not by a plain member; unknown ids are 404.
    let decide = |id: &str, what: &str| at(&format!("{requests}/{id}/{what}"), &asess);
    plain.post(&at(&format!("{requests}/{rid}/accept"), &psess), &[]).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    admin.post(&decide("orgmbr_unknown", "accept"), &[]).send().await.assert_error(404, "resource_not_found", None);
    app.clock.advance_ms(1000);
    let r = admin.post(&decide(&rid, "accept"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "accepted");
    admin.post(&decide(&rid, "reject"), &[]).send().await.assert_error(
        422,
        "organization_membership_request_not_pending",
        None,
    );
    let created = events_of(&app, "organizationMembership.created").await;
    assert!(created.iter().any(|e| e["data"]["public_user_data"]["user_id"] == alice_id.as_str()));
    let r = alice.get(&at("/v1/me/organization_memberships?paginated=true", &alsess)).send().await;
    let r = r.assert_status(200).json;
    assert_eq!((&r["response"]["total_count"], &r["response"]["data"][0]["role"]), (&json!(1), &json!("org:member")));
    // A member is no longer offered the organization.
    assert_eq!(suggestions(&alice, &alsess, "").await["total_count"], 0);

    // Rejecting leaves the user out.
    let csid = suggestions(&carol, &csess, "").await["data"][0]["id"].as_str().unwrap().to_owned();
    carol.post(&at(&accept(&csid), &csess), &[]).send().await.assert_status(200);
    let r = admin.get(&at(&format!("{requests}?status=pending"), &asess)).send().await.assert_status(200).json;
    let crid = r["response"]["data"][0]["id"].as_str().unwrap().to_owned();
    let r = admin.post(&decide(&crid, "reject"), &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "rejected");
    let r = carol.get(&at("/v1/me/organization_memberships?paginated=true", &csess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["total_count"], 0);

    // Never twice: the domain verified again suggests nothing new.
    let domain = app.get(&format!("/v1/organizations/{org}/domains")).send().await.json["data"][0]["id"].clone();
    let path = format!("/v1/organizations/{org}/domains/{}", domain.as_str().unwrap());
    app.patch(&path, json!({ "verified": false })).send().await.assert_status(200);
    app.patch(&path, json!({ "verified": true })).send().await.assert_status(200);
    assert_eq!(suggestions(&carol, &csess, "").await["total_count"], 1);
    assert_eq!(pending_counts(&app, &org).await, (json!(0), json!(1)));
}

#[tokio::test]
async fn automatic_invitations_reach_users_once_and_are_accepted() {
    let app = TestApp::with_clock(T0).await;
    let (admin, asess, org) = setup(&app).await;
    let (dave, _, dsess) = member(&app, "dave@acme.test").await;
    let domain = add_domain(&app, &org, "automatic_invitation").await;
    let r = invitations(&dave, &dsess).await.assert_status(200).json;
    assert_eq!(r["response"]["total_count"], 1);
    let inv = &r["response"]["data"][0];
    assert_eq!((&inv["email_address"], &inv["role"]), (&json!("dave@acme.test"), &json!("org:member")));
    let iid = inv["id"].as_str().unwrap().to_owned();
    let created = events_of(&app, "organizationInvitation.created").await;
    assert!(created.iter().any(|e| e["data"]["id"] == iid.as_str()));
    assert_eq!(pending_counts(&app, &org).await, (json!(1), json!(0)));
    // Not to members, and not as a suggestion.
    let r = admin.get(&at("/v1/me/organization_invitations", &asess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["total_count"], 0);
    assert_eq!(suggestions(&dave, &dsess, "").await["total_count"], 0);

    let r = dave.post(&at(&format!("/v1/me/organization_invitations/{iid}/accept"), &dsess), &[]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["status"], "accepted");
    let r = dave.get(&at("/v1/me/organization_memberships?paginated=true", &dsess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["data"][0]["organization"]["id"], org.as_str());

    // Dropping the pending ones when the mode changes revokes them; the new mode suggests instead.
    let (erin, _, esess) = member(&app, "erin@acme.test").await;
    assert_eq!(invitations(&erin, &esess).await.assert_status(200).json["response"]["total_count"], 1);
    let mode = at(&format!("/v1/organizations/{org}/domains/{domain}/update_enrollment_mode"), &asess);
    let r = admin.post(&mode, &[("enrollment_mode", "automatic_suggestion"), ("delete_pending", "true")]).send().await;
    let d = r.assert_status(200).json["response"].clone();
    assert_eq!((&d["total_pending_invitations"], &d["total_pending_suggestions"]), (&json!(0), &json!(1)));
    assert_eq!(invitations(&erin, &esess).await.assert_status(200).json["response"]["total_count"], 0);
    assert!(!events_of(&app, "organizationInvitation.revoked").await.is_empty());
    assert_eq!(suggestions(&erin, &esess, "").await["total_count"], 1);
    // Back to invitations: Erin was invited once already, so not again.
    let r = admin.post(&mode, &[("enrollment_mode", "automatic_invitation")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["total_pending_invitations"], 0);
    assert_eq!(invitations(&erin, &esess).await.assert_status(200).json["response"]["total_count"], 0);
}

#[tokio::test]
async fn nothing_while_verified_domains_are_off() {
    let app = TestApp::with_clock(T0).await;
    let (_admin, _asess, org) = setup(&app).await;
    add_domain(&app, &org, "automatic_suggestion").await;
    let settings = json!({ "domains_enabled": false });
    app.patch("/v1/instance/organization_settings", settings).send().await.assert_status(200);
    let (frank, _, fsess) = member(&app, "frank@acme.test").await;
    assert_eq!(suggestions(&frank, &fsess, "").await["total_count"], 0);
}
