//! The signed-in browser: `/v1/me` (read, profile, unsafe metadata), its organization memberships, invitations and
//! suggestions, creating an organization and reading one; the session a request acts for (`_clerk_session_id`)
//! must be live on the browser's client, else 401 `signed_out`.

use serde_json::json;
use tessera_testkit::{TestApp, TestBrowser};

use crate::{T0, events_of};

/// A browser signed in by signing up (a test address: code 424242); returns its session id and user id.
pub async fn signed_in<'a>(app: &'a TestApp, email: &str) -> (TestBrowser<'a>, String, String) {
    let b = app.browser().await;
    let r = b.post("/v1/client/sign_ups", &[("email_address", email), ("password", "correct horse battery")]).send();
    let sid = r.await.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    b.post(&format!("/v1/client/sign_ups/{sid}/prepare_verification"), &[("strategy", "email_code")])
        .send()
        .await
        .assert_status(200);
    let r = b
        .post(
            &format!("/v1/client/sign_ups/{sid}/attempt_verification"),
            &[("strategy", "email_code"), ("code", "424242")],
        )
        .send()
        .await
        .assert_status(200)
        .json;
    let session = r["response"]["created_session_id"].as_str().unwrap().to_owned();
    let user = r["response"]["created_user_id"].as_str().unwrap().to_owned();
    (b, session, user)
}

fn with_session(path: &str, session: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}_clerk_session_id={session}")
}

async fn enable_organizations(app: &TestApp) {
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
}

#[tokio::test]
async fn me_reads_and_updates_the_signed_in_user() {
    let app = TestApp::with_clock(T0).await;
    let (b, sess, user) = signed_in(&app, "ada+clerk_test@example.com").await;
    let r = b.get(&with_session("/v1/me", &sess)).send().await.assert_status(200).json;
    assert_eq!((&r["response"]["id"], &r["response"]["object"]), (&json!(user), &json!("user")));
    assert_eq!(r["response"]["email_addresses"][0]["email_address"], "ada+clerk_test@example.com");
    assert!(r["response"].get("private_metadata").is_none());
    assert_eq!(r["client"]["last_active_session_id"], sess.as_str());
    // Without `_clerk_session_id`: the client's last active session.
    assert_eq!(b.get("/v1/me").send().await.assert_status(200).json["response"]["id"], user.as_str());

    app.clock.advance_ms(1000);
    let r = b
        .patch(&with_session("/v1/me", &sess), &[("first_name", "Ada"), ("last_name", "Lovelace"), ("username", "")])
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((&r["response"]["first_name"], &r["response"]["last_name"]), (&json!("Ada"), &json!("Lovelace")));
    assert_eq!(r["client"]["sessions"][0]["user"]["first_name"], "Ada");
    let u = app.get(&format!("/v1/users/{user}")).send().await.assert_status(200).json;
    assert_eq!(u["first_name"], "Ada");
    assert!(!events_of(&app, "user.updated").await.is_empty());
    // clerk-js 6 sends unsafe metadata to /v1/me/metadata; /v1/me refuses it.
    b.patch(&with_session("/v1/me", &sess), &[("unsafe_metadata", r#"{"a":1}"#)]).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("unsafe_metadata"),
    );
    let path = with_session("/v1/me/metadata", &sess);
    let r = b.patch(&path, &[("unsafe_metadata", r#"{"theme":{"dark":true,"font":"x"},"n":1}"#)]).send().await;
    assert_eq!(
        r.assert_status(200).json["response"]["unsafe_metadata"],
        json!({ "theme": { "dark": true, "font": "x" }, "n": 1 })
    );
    let r = b.patch(&path, &[("unsafe_metadata", r#"{"theme":{"font":null},"n":2}"#)]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["unsafe_metadata"], json!({ "theme": { "dark": true }, "n": 2 }));
    b.patch(&path, &[("unsafe_metadata", "[]")]).send().await.assert_error(
        422,
        "form_param_format_invalid",
        Some("unsafe_metadata"),
    );
    b.patch(&path, &[]).send().await.assert_error(422, "form_param_missing", Some("unsafe_metadata"));
    // clerk-js 5 still sets unsafe metadata on /v1/me (replacing it).
    let v5 = b.with_version("2025-11-10");
    let r = v5.patch(&with_session("/v1/me", &sess), &[("unsafe_metadata", r#"{"v":5}"#)]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["unsafe_metadata"], json!({ "v": 5 }));
}

#[tokio::test]
async fn only_a_live_session_of_this_browser_is_signed_in() {
    let app = TestApp::with_clock(T0).await;
    let (b, sess, _) = signed_in(&app, "one+clerk_test@example.com").await;
    let (other, other_sess, _) = signed_in(&app, "two+clerk_test@example.com").await;
    // Another browser's session, an unknown one, or none at all: signed out.
    b.get(&with_session("/v1/me", &other_sess)).send().await.assert_error(401, "signed_out", None);
    b.get(&with_session("/v1/me", "sess_unknown")).send().await.assert_error(401, "signed_out", None);
    let fresh = app.browser().await;
    fresh.get("/v1/me").send().await.assert_error(401, "signed_out", None);
    fresh.get("/v1/me/organization_memberships?paginated=true").send().await.assert_error(401, "signed_out", None);
    fresh.post("/v1/organizations", &[("name", "Nope")]).send().await.assert_error(401, "signed_out", None);
    // The live session keeps working.
    other.get(&with_session("/v1/me", &other_sess)).send().await.assert_status(200);
    // Revoked through the Backend API: signed out.
    app.post(&format!("/v1/sessions/{sess}/revoke"), json!({})).send().await.assert_status(200);
    b.get(&with_session("/v1/me", &sess)).send().await.assert_error(401, "signed_out", None);
}

#[tokio::test]
async fn organizations_created_by_the_user_are_listed_and_read() {
    let app = TestApp::with_clock(T0).await;
    let (b, sess, user) = signed_in(&app, "founder+clerk_test@example.com").await;
    // Organizations off: refused.
    b.post(&with_session("/v1/organizations", &sess), &[("name", "Acme")]).send().await.assert_error(
        403,
        "organization_not_enabled_in_instance",
        None,
    );
    enable_organizations(&app).await;
    b.post(&with_session("/v1/organizations", &sess), &[("name", " ")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("name"),
    );
    let r = b
        .post(&with_session("/v1/organizations", &sess), &[("name", "Acme Inc"), ("slug", "acme")])
        .send()
        .await
        .assert_status(200)
        .json;
    let org = r["response"]["id"].as_str().unwrap().to_owned();
    assert_eq!((&r["response"]["slug"], &r["response"]["members_count"]), (&json!("acme"), &json!(1)));
    // The creator is its admin, and the client's user shows the membership at once.
    let ms = &r["client"]["sessions"][0]["user"]["organization_memberships"];
    assert_eq!((&ms[0]["organization"]["id"], &ms[0]["role"]), (&json!(org), &json!("org:admin")));
    b.post(&with_session("/v1/organizations", &sess), &[("name", "Other"), ("slug", "acme")])
        .send()
        .await
        .assert_error(422, "form_identifier_exists", Some("slug"));
    let r = b.post(&with_session("/v1/organizations", &sess), &[("name", "Beta")]).send().await.assert_status(200);
    let beta = r.json["response"]["id"].as_str().unwrap().to_owned();

    let r = b.get(&with_session("/v1/me/organization_memberships?paginated=true&limit=1", &sess)).send().await;
    let r = r.assert_status(200).json;
    assert_eq!(r["response"]["total_count"], 2);
    assert_eq!(r["response"]["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["response"]["data"][0]["public_user_data"]["user_id"], user.as_str());
    let r = b.get(&with_session("/v1/me/organization_memberships?paginated=true&offset=1&limit=abc", &sess)).send();
    assert_eq!(r.await.assert_status(200).json["response"]["data"].as_array().unwrap().len(), 1);
    let r = b.get(&with_session("/v1/me/organization_memberships", &sess)).send().await.assert_status(200).json;
    assert_eq!(r["response"].as_array().unwrap().len(), 2);
    let r = b.get(&with_session("/v1/me/organization_memberships", &sess)).send().await;
    assert!(r.json["response"].as_array().unwrap().iter().any(|m| m["organization"]["id"] == beta.as_str()));

    let r = b.get(&with_session(&format!("/v1/organizations/{org}"), &sess)).send().await.assert_status(200).json;
    assert_eq!((&r["response"]["object"], &r["response"]["name"]), (&json!("organization"), &json!("Acme Inc")));
    // The Backend API sees it, created by the user.
    let o = app.get(&format!("/v1/organizations/{org}")).send().await.assert_status(200).json;
    assert_eq!(o["created_by"], user.as_str());
    assert_eq!(events_of(&app, "organization.created").await.len(), 2);

    // Someone else's organization, or an unknown one: 404.
    let (other, other_sess, _) = signed_in(&app, "outsider+clerk_test@example.com").await;
    other.get(&with_session(&format!("/v1/organizations/{org}"), &other_sess)).send().await.assert_error(
        404,
        "organization_not_found_or_unauthorized",
        None,
    );
    other.get(&with_session("/v1/organizations/org_unknown", &other_sess)).send().await.assert_error(
        404,
        "organization_not_found_or_unauthorized",
        None,
    );
    let r = other.get(&with_session("/v1/me/organization_memberships?paginated=true", &other_sess)).send().await;
    assert_eq!(r.assert_status(200).json["response"], json!({ "data": [], "total_count": 0 }));
}

#[tokio::test]
async fn organization_creation_follows_the_user_settings() {
    let app = TestApp::with_clock(T0).await;
    enable_organizations(&app).await;
    let (b, sess, user) = signed_in(&app, "limited+clerk_test@example.com").await;
    app.patch(&format!("/v1/users/{user}"), json!({ "create_organizations_limit": 1 })).send().await.assert_status(200);
    b.post(&with_session("/v1/organizations", &sess), &[("name", "First")]).send().await.assert_status(200);
    b.post(&with_session("/v1/organizations", &sess), &[("name", "Second")]).send().await.assert_error(
        403,
        "organization_quota_exceeded",
        None,
    );
    app.patch(
        &format!("/v1/users/{user}"),
        json!({ "create_organization_enabled": false, "create_organizations_limit": null }),
    )
    .send()
    .await
    .assert_status(200);
    b.post(&with_session("/v1/organizations", &sess), &[("name", "Third")]).send().await.assert_error(
        403,
        "organization_creation_not_allowed",
        None,
    );
}

#[tokio::test]
async fn invitations_to_the_users_addresses_and_no_suggestions() {
    let app = TestApp::with_clock(T0).await;
    enable_organizations(&app).await;
    let (b, sess, _) = signed_in(&app, "invitee+clerk_test@example.com").await;
    let admin = app.post("/v1/users", json!({ "email_address": ["admin@example.com"] })).send().await.json;
    let org = app
        .post("/v1/organizations", json!({ "name": "Inviting", "created_by": admin["id"] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let org_id = org["id"].as_str().unwrap();
    app.post(
        &format!("/v1/organizations/{org_id}/invitations"),
        json!({ "email_address": "invitee+clerk_test@example.com", "role": "org:member", "inviter_user_id": admin["id"],
                "private_metadata": { "secret": 1 } }),
    )
    .send()
    .await
    .assert_status(200);
    let r = b.get(&with_session("/v1/me/organization_invitations?status=pending", &sess)).send().await;
    let r = r.assert_status(200).json;
    assert_eq!(r["response"]["total_count"], 1);
    let inv = &r["response"]["data"][0];
    assert_eq!((&inv["status"], &inv["role"]), (&json!("pending"), &json!("org:member")));
    assert_eq!(inv["public_organization_data"]["name"], "Inviting");
    assert!(inv.get("private_metadata").is_none());
    let r = b.get(&with_session("/v1/me/organization_invitations?status=accepted", &sess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["total_count"], 0);
    b.get(&with_session("/v1/me/organization_invitations?status=bogus", &sess)).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("status"),
    );
    let r = b.get(&with_session("/v1/me/organization_suggestions?status=pending", &sess)).send().await;
    assert_eq!(r.assert_status(200).json["response"], json!({ "data": [], "total_count": 0 }));
}

#[tokio::test]
async fn other_instances_and_hostile_queries() {
    let app = TestApp::with_clock(T0).await;
    enable_organizations(&app).await;
    let (b, sess, _) = signed_in(&app, "home+clerk_test@example.com").await;
    let r = b.post(&with_session("/v1/organizations", &sess), &[("name", "Home")]).send().await.assert_status(200);
    let org = r.json["response"]["id"].as_str().unwrap().to_owned();
    // Another instance's browser cannot act for this session, nor read the organization.
    let (instance_b, _) = app.create_instance(tessera_core::instances::Environment::Development).await;
    let stranger = app.browser_for(&instance_b).await;
    stranger.get(&with_session("/v1/me", &sess)).send().await.assert_error(401, "signed_out", None);
    stranger.get(&with_session(&format!("/v1/organizations/{org}"), &sess)).send().await.assert_error(
        401,
        "signed_out",
        None,
    );
    // Odd paging and session parameters never fail the request or reach another session.
    for q in ["limit=-5&offset=-1", "limit=99999999999999999999", "offset=abc&paginated=maybe", "limit=%00"] {
        let path = with_session(&format!("/v1/me/organization_memberships?{q}"), &sess);
        let r = b.get(&path).send().await.assert_status(200);
        assert!(r.json["response"].is_array() || r.json["response"]["data"].is_array(), "{q}: {}", r.json);
    }
    for bogus in ["%00", "sess_%FF", "%27%20OR%201%3D1%20--"] {
        let path = format!("/v1/me?_clerk_session_id={bogus}");
        b.get(&path).send().await.assert_error(401, "signed_out", None);
    }
    let long = "x".repeat(5000);
    let r = b.post(&with_session("/v1/organizations", &sess), &[("name", long.as_str())]).send().await;
    assert_eq!(r.status, 422, "{}", r.json);
    // Names have no length rule of their own (as through the Backend API's UpdateUser): stored as given.
    let r = b.patch(&with_session("/v1/me", &sess), &[("first_name", long.as_str())]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["first_name"], long.as_str());
}
