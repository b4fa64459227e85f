//! Organization invitations: create (one and bulk), get, list (per organization, pending, instance-wide, per
//! user), revoke, expiry, their errors and events, isolation between organizations and instances.

use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::{T0, enable, ids, org_by, user_with_email};

use crate::events_of;

const DAY: i64 = 86_400_000;

async fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 100).await.unwrap();
    msgs.into_iter().map(|m| (m.recipient, m.subject, m.body)).collect()
}

/// An app at T0 with organizations on, an admin (`admin@acme.test`) and their organization "Acme".
async fn setup() -> (TestApp, String, String) {
    let app = TestApp::with_clock(T0).await;
    enable(&app).await;
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme", &admin).await;
    (app, admin, org)
}

fn invite<'a>(app: &'a TestApp, org: &str, body: Value) -> tessera_testkit::TestRequest<'a> {
    app.post(&format!("/v1/organizations/{org}/invitations"), body)
}

#[tokio::test]
async fn create_get_list_revoke_and_expire() {
    let (app, admin, org) = setup().await;
    let inv = invite(
        &app,
        &org,
        json!({
            "email_address": "Guest@Example.com", "role": "org:member", "inviter_user_id": admin,
            "public_metadata": { "team": "red" }, "private_metadata": { "ref": 7 },
            "redirect_url": "https://app.example.com/join", "expires_in_days": 2
        }),
    )
    .send()
    .await
    .assert_status(200)
    .json;
    let id = inv["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("orginv_"), "{id}");
    assert_eq!(inv["object"], "organization_invitation");
    assert_eq!(inv["email_address"], "guest@example.com");
    assert_eq!((inv["role"].clone(), inv["role_name"].clone()), (json!("org:member"), json!("Member")));
    assert_eq!(inv["organization_id"], org.as_str());
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["inviter_id"], admin.as_str());
    assert_eq!(inv["public_inviter_data"]["user_id"], admin.as_str());
    assert_eq!(inv["public_inviter_data"]["identifier"], "admin@acme.test");
    assert_eq!(inv["public_metadata"], json!({ "team": "red" }));
    assert_eq!(inv["private_metadata"], json!({ "ref": 7 }));
    assert_eq!((inv["expires_at"].clone(), inv["created_at"].clone()), (json!(T0 + 2 * DAY), json!(T0)));
    assert!(inv.get("public_organization_data").is_none());
    // The invitation e-mail went through the sender (development outbox), with the link that carries its ticket
    // (the Frontend API leads on to the redirect URL).
    let url = inv["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("https://{}/v1/tickets/accept?ticket=ey", app.instance.frontend_host())));
    let out = outbox(&app).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, "guest@example.com");
    assert!(out[0].1.contains("Acme") && out[0].2.contains(url), "{out:?}");
    let created = events_of(&app, "organizationInvitation.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["data"]["id"], id.as_str());

    // Reads show the invitation without its link (the ticket is handed out where the invitation is created).
    let got = app.get(&format!("/v1/organizations/{org}/invitations/{id}")).send().await.assert_status(200).json;
    let mut without_link = inv.clone();
    without_link["url"] = Value::Null;
    assert_eq!(got, without_link);
    // One pending invitation per address and organization.
    invite(&app, &org, json!({ "email_address": "guest@example.com", "role": "org:admin" })).send().await.assert_error(
        400,
        "duplicate_record",
        Some("email_address"),
    );

    app.clock.advance_ms(1);
    let second =
        invite(&app, &org, json!({ "email_address": "zed@example.com", "role": "org:admin", "notify": false }))
            .send()
            .await
            .assert_status(200)
            .json;
    assert_eq!(second["inviter_id"], Value::Null);
    assert_eq!(second["public_inviter_data"], Value::Null);
    assert_eq!(second["role_name"], "Admin");
    assert_eq!(second["expires_at"], T0 + 1 + 30 * DAY, "30 days by default");
    assert_eq!(outbox(&app).await.len(), 1, "notify: false sends nothing");
    let second_id = second["id"].as_str().unwrap().to_owned();

    let base = format!("/v1/organizations/{org}/invitations");
    let list = app.get(&base).send().await.assert_status(200).json;
    assert_eq!(ids(&list), vec![second_id.clone(), id.clone()]);
    assert_eq!(list["total_count"], 2);
    let list = app.get(&format!("{base}?order_by=email_address&limit=1")).send().await.assert_status(200).json;
    assert_eq!((ids(&list), list["total_count"].clone()), (vec![id.clone()], json!(2)));
    let list = app.get(&format!("{base}?order_by=-created_at&offset=1")).send().await.json;
    assert_eq!(ids(&list), vec![id.clone()]);
    let list = app.get(&format!("{base}?email_address=ZED@example.com")).send().await.json;
    assert_eq!(ids(&list), vec![second_id.clone()]);
    let pending = app.get(&format!("{base}/pending")).send().await.assert_status(200).json;
    assert_eq!(pending["total_count"], 2);

    // Revoke, once.
    let revoked = app
        .post(&format!("{base}/{second_id}/revoke"), json!({ "requesting_user_id": admin }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(revoked["status"], "revoked");
    app.post(&format!("{base}/{second_id}/revoke"), json!({})).send().await.assert_error(
        400,
        "organization_invitation_not_pending",
        None,
    );
    let events = events_of(&app, "organizationInvitation.revoked").await;
    assert_eq!((events.len(), events[0]["data"]["status"].clone()), (1, json!("revoked")));
    let list = app.get(&format!("{base}?status=revoked")).send().await.json;
    assert_eq!(ids(&list), vec![second_id.clone()]);
    let pending = app.get(&format!("{base}/pending")).send().await.json;
    assert_eq!(ids(&pending), vec![id.clone()]);

    // Expiry is read from the clock, in objects, filters and the duplicate rule alike.
    app.clock.advance_ms(2 * DAY);
    let got = app.get(&format!("{base}/{id}")).send().await.json;
    assert_eq!(got["status"], "expired");
    assert_eq!(ids(&app.get(&format!("{base}?status=expired")).send().await.json), vec![id.clone()]);
    assert_eq!(app.get(&format!("{base}/pending")).send().await.json["total_count"], 0);
    app.post(&format!("{base}/{id}/revoke"), json!({})).send().await.assert_error(
        400,
        "organization_invitation_not_pending",
        None,
    );
    invite(&app, &org, json!({ "email_address": "guest@example.com", "role": "org:member" }))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn create_errors() {
    let app = TestApp::with_clock(T0).await;
    let body = json!({ "email_address": "a@example.com", "role": "org:member" });
    invite(&app, "org_x", body.clone()).send().await.assert_error(403, "organization_not_enabled_in_instance", None);
    enable(&app).await;
    invite(&app, "org_nope", body.clone()).send().await.assert_error(404, "resource_not_found", None);
    let admin = user_with_email(&app, "admin@acme.test").await;
    let org = org_by(&app, "Acme", &admin).await;
    let member = user_with_email(&app, "member@acme.test").await;
    let cases = [
        (json!({ "role": "org:member" }), "form_param_missing", "email_address"),
        (json!({ "email_address": "a@example.com" }), "form_param_missing", "role"),
        (
            json!({ "email_address": "not-an-email", "role": "org:member" }),
            "form_param_format_invalid",
            "email_address",
        ),
        (json!({ "email_address": "a@example.com", "role": "org:nope" }), "form_param_value_invalid", "role"),
        (
            json!({ "email_address": "a@example.com", "role": "org:member", "expires_in_days": 366 }),
            "form_param_value_invalid",
            "expires_in_days",
        ),
        (
            json!({ "email_address": "a@example.com", "role": "org:member", "redirect_url": "not a url" }),
            "form_param_format_invalid",
            "redirect_url",
        ),
        (
            json!({ "email_address": "a@example.com", "role": "org:member", "inviter_user_id": "user_nope" }),
            "form_param_value_invalid",
            "inviter_user_id",
        ),
    ];
    for (body, code, param) in cases {
        let res = invite(&app, &org, body.clone()).send().await;
        assert_eq!(res.status, 422, "{body}: {}", res.json);
        assert_eq!((res.error_code(), res.json["errors"][0]["meta"]["param_name"].as_str()), (code, Some(param)));
    }
    // Only a member who can manage memberships may invite.
    invite(&app, &org, json!({ "email_address": "a@example.com", "role": "org:member", "inviter_user_id": member }))
        .send()
        .await
        .assert_error(403, "not_an_admin_in_organization", Some("inviter_user_id"));
    // A member's own verified address cannot be invited again.
    invite(&app, &org, json!({ "email_address": "ADMIN@acme.test", "role": "org:member" })).send().await.assert_error(
        400,
        "already_a_member_in_organization",
        Some("email_address"),
    );
    // The block-list applies.
    app.patch("/v1/instance/restrictions", json!({ "blocklist": true })).send().await.assert_status(200);
    app.post("/v1/blocklist_identifiers", json!({ "identifier": "blocked.example" })).send().await.assert_status(200);
    invite(&app, &org, json!({ "email_address": "x@blocked.example", "role": "org:member" }))
        .send()
        .await
        .assert_error(422, "not_allowed_access", None);
    // Nothing was written by any refused request.
    assert_eq!(app.get(&format!("/v1/organizations/{org}/invitations")).send().await.json["total_count"], 0);
    assert!(events_of(&app, "organizationInvitation.created").await.is_empty());
    assert!(outbox(&app).await.is_empty());
    // Unknown ids, and the revoker must be able to manage memberships.
    let inv = invite(&app, &org, body.clone()).send().await.assert_status(200).json;
    let inv_id = inv["id"].as_str().unwrap();
    app.get(&format!("/v1/organizations/{org}/invitations/orginv_nope")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let revoke = format!("/v1/organizations/{org}/invitations/{inv_id}/revoke");
    app.post(&revoke, json!({ "requesting_user_id": member })).send().await.assert_error(
        403,
        "not_an_admin_in_organization",
        Some("requesting_user_id"),
    );
    app.post(&revoke, json!({ "requesting_user_id": "user_nope" })).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/v1/organizations/org_nope/invitations/orginv_x/revoke", json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get("/v1/organizations/org_nope/invitations").send().await.assert_error(404, "resource_not_found", None);
    app.get("/v1/organizations/org_nope/invitations/pending").send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.get(&format!("/v1/organizations/{org}/invitations?status=bogus")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("status"),
    );
    app.get(&format!("/v1/organizations/{org}/invitations?order_by=role")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("order_by"),
    );
    app.get(&format!("/v1/organizations/{org}/invitations?limit=501")).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("limit"),
    );
}

#[tokio::test]
async fn bulk_is_all_or_nothing() {
    let (app, admin, org) = setup().await;
    let bulk = format!("/v1/organizations/{org}/invitations/bulk");
    let res = app
        .post(
            &bulk,
            json!([
                { "email_address": "one@example.com", "role": "org:member" },
                { "email_address": "two@example.com", "role": "org:nope" },
            ]),
        )
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("[1].role"));
    drop(res);
    app.post(
        &bulk,
        json!([
            { "email_address": "one@example.com", "role": "org:member" },
            { "email_address": "ONE@example.com", "role": "org:admin" },
        ]),
    )
    .send()
    .await
    .assert_error(400, "duplicate_record", Some("[1].email_address"));
    let eleven: Vec<Value> =
        (0..11).map(|i| json!({ "email_address": format!("u{i}@example.com"), "role": "org:member" })).collect();
    app.post(&bulk, json!(eleven)).send().await.assert_error(422, "form_param_value_invalid", Some("body"));
    assert_eq!(app.get(&format!("/v1/organizations/{org}/invitations")).send().await.json["total_count"], 0);
    assert!(outbox(&app).await.is_empty());

    let created = app
        .post(
            &bulk,
            json!([
                { "email_address": "one@example.com", "role": "org:member", "inviter_user_id": admin },
                { "email_address": "two@example.com", "role": "org:admin", "notify": false },
            ]),
        )
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(created["total_count"], 2);
    assert_eq!(created["data"][0]["email_address"], "one@example.com");
    assert_eq!(created["data"][1]["role"], "org:admin");
    assert_eq!(outbox(&app).await.len(), 1);
    assert_eq!(events_of(&app, "organizationInvitation.created").await.len(), 2);
    app.post(&bulk, json!([{ "email_address": "two@example.com", "role": "org:member" }])).send().await.assert_error(
        400,
        "duplicate_record",
        Some("[0].email_address"),
    );
}

#[tokio::test]
async fn instance_wide_and_per_user_lists() {
    let (app, admin, org) = setup().await;
    let other = org_by(&app, "Globex", &admin).await;
    let invitee = user_with_email(&app, "bob@example.com").await;
    invite(&app, &org, json!({ "email_address": "bob@example.com", "role": "org:member" }))
        .send()
        .await
        .assert_status(200);
    app.clock.advance_ms(1);
    let g =
        invite(&app, &other, json!({ "email_address": "bob@example.com", "role": "org:admin", "expires_in_days": 1 }))
            .send()
            .await
            .assert_status(200)
            .json;
    app.clock.advance_ms(1);
    let c = invite(&app, &other, json!({ "email_address": "carol@example.com", "role": "org:member" }))
        .send()
        .await
        .assert_status(200)
        .json;

    let all = app.get("/v1/organization_invitations").send().await.assert_status(200).json;
    assert_eq!(all["total_count"], 3);
    assert_eq!(all["data"][0]["id"], c["id"]);
    assert_eq!(all["data"][0]["public_organization_data"]["name"], "Globex");
    assert_eq!(all["data"][0]["public_organization_data"]["has_image"], false);
    let q = app.get("/v1/organization_invitations?query=CAROL").send().await.json;
    assert_eq!(ids(&q), vec![c["id"].as_str().unwrap().to_owned()]);
    let sorted = app.get("/v1/organization_invitations?order_by=-email_address&limit=1").send().await.json;
    assert_eq!(
        (sorted["data"][0]["email_address"].clone(), sorted["total_count"].clone()),
        (json!("carol@example.com"), json!(3))
    );
    app.get("/v1/organization_invitations?status=nope").send().await.assert_error(
        400,
        "query_param_invalid",
        Some("status"),
    );

    // The user's list: invitations to their verified addresses, newest first.
    let mine = app.get(&format!("/v1/users/{invitee}/organization_invitations")).send().await.assert_status(200).json;
    assert_eq!(mine["total_count"], 2);
    assert_eq!(mine["data"][0]["id"], g["id"]);
    assert_eq!(mine["data"][0]["public_organization_data"]["id"], other.as_str());
    app.clock.advance_ms(DAY);
    let expired = app.get(&format!("/v1/users/{invitee}/organization_invitations?status=expired")).send().await.json;
    assert_eq!(ids(&expired), vec![g["id"].as_str().unwrap().to_owned()]);
    let pending =
        app.get(&format!("/v1/users/{invitee}/organization_invitations?status=pending&limit=1")).send().await.json;
    assert_eq!(pending["total_count"], 1);
    let nobody = user_with_email(&app, "nobody@example.com").await;
    let none = app.get(&format!("/v1/users/{nobody}/organization_invitations")).send().await.json;
    assert_eq!(none, json!({ "data": [], "total_count": 0 }));
}

#[tokio::test]
async fn invitations_stay_in_their_organization_and_instance() {
    let (app, admin, org) = setup().await;
    let other = org_by(&app, "Globex", &admin).await;
    let inv = invite(&app, &org, json!({ "email_address": "x@example.com", "role": "org:member" }))
        .send()
        .await
        .assert_status(200)
        .json;
    let id = inv["id"].as_str().unwrap();
    // Another organization's path never reaches it.
    app.get(&format!("/v1/organizations/{other}/invitations/{id}")).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post(&format!("/v1/organizations/{other}/invitations/{id}/revoke"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    // Another instance, through an organization of its own.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true }))
        .bearer(&key_b)
        .send()
        .await
        .assert_status(200);
    let org_b =
        app.post("/v1/organizations", json!({ "name": "B" })).bearer(&key_b).send().await.assert_status(200).json;
    let org_b = org_b["id"].as_str().unwrap();
    app.get(&format!("/v1/organizations/{org_b}/invitations/{id}")).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let all_b = app.get("/v1/organization_invitations").bearer(&key_b).send().await.assert_status(200).json;
    assert_eq!(all_b["total_count"], 0);
    let still = app.get(&format!("/v1/organizations/{org}/invitations/{id}")).send().await.json;
    assert_eq!(still["status"], "pending");
}
