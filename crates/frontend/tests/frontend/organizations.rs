//! `/v1/organizations/{id}…` as clerk-js's organization components use them: the organization, its logo, members,
//! roles, invitations and domains. What a signed-in member may do follows their role's permissions: a member of
//! another organization gets 404 `organization_not_found_or_unauthorized`, a member without the permission 403
//! `missing_organization_permission`. Changes emit the Backend API's webhook events.

use serde_json::{Value, json};
use tessera_testkit::{TestApp, TestBrowser};

use crate::{T0, events_of};

/// A user of the instance, made through the Backend API.
async fn user(app: &TestApp, email: &str) -> String {
    let r = app.post("/v1/users", json!({ "email_address": [email], "password": "correct horse battery staple" }));
    r.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned()
}

/// A browser signed in as a new user; returns it, the user id and the session id.
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

async fn enable(app: &TestApp, settings: Value) {
    app.patch("/v1/instance/organization_settings", settings).send().await.assert_status(200);
}

/// An organization created by `b`'s user (its admin), with `member_id` added as `org:member` by the Backend API.
async fn organization(app: &TestApp, b: &TestBrowser<'_>, sess: &str, slug: &str, member_id: &str) -> String {
    let r = b.post(&at("/v1/organizations", sess), &[("name", "Acme"), ("slug", slug)]).send().await;
    let org = r.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({ "user_id": member_id, "role": "org:member" }))
        .send()
        .await
        .assert_status(200);
    org
}

#[tokio::test]
async fn members_read_and_admins_manage_the_organization() {
    let app = TestApp::with_clock(T0).await;
    enable(&app, json!({ "enabled": true })).await;
    let (admin, admin_id, asess) = member(&app, "admin@example.com").await;
    let (plain, plain_id, psess) = member(&app, "member@example.com").await;
    let (outsider, _, osess) = member(&app, "outsider@example.com").await;
    let org = organization(&app, &admin, &asess, "acme", &plain_id).await;
    let path = format!("/v1/organizations/{org}");

    // Any member reads it; someone else's organization reads as unknown, like an unknown one.
    let r = plain.get(&at(&path, &psess)).send().await.assert_status(200).json;
    assert_eq!((&r["response"]["id"], &r["response"]["members_count"]), (&json!(org), &json!(2)));
    outsider.get(&at(&path, &osess)).send().await.assert_error(404, "organization_not_found_or_unauthorized", None);
    outsider.get(&at("/v1/organizations/org_unknown", &osess)).send().await.assert_error(
        404,
        "organization_not_found_or_unauthorized",
        None,
    );
    // Lists, whose spec declares no 404, refuse with 403 (for unknown organizations too).
    for list in [format!("{path}/memberships"), "/v1/organizations/org_unknown/memberships".into()] {
        outsider.get(&at(&list, &osess)).send().await.assert_error(403, "not_a_member_in_organization", None);
    }
    outsider.patch(&at(&path, &osess), &[("name", "Mine")]).send().await.assert_error(
        404,
        "organization_not_found_or_unauthorized",
        None,
    );

    // Only `org:sys_profile:manage` renames it.
    let r = plain.patch(&at(&path, &psess), &[("name", "Hijacked")]).send().await;
    let r = r.assert_error(403, "missing_organization_permission", None);
    assert_eq!(r.json["errors"][0]["meta"]["permissions"], json!(["org:sys_profile:manage"]));
    app.clock.advance_ms(1000);
    let r = admin.patch(&at(&path, &asess), &[("name", "Acme Corp"), ("slug", "")]).send().await.assert_status(200);
    assert_eq!((&r.json["response"]["name"], &r.json["response"]["slug"]), (&json!("Acme Corp"), &json!("acme")));
    assert_eq!(
        r.json["client"]["sessions"][0]["user"]["organization_memberships"][0]["organization"]["name"],
        "Acme Corp"
    );
    admin.patch(&at(&path, &asess), &[("name", "<b>x</b>")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("name"),
    );
    let r = admin.post(&at("/v1/organizations", &asess), &[("name", "Other"), ("slug", "other")]).send().await;
    r.assert_status(200);
    admin.patch(&at(&path, &asess), &[("slug", "other")]).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("slug"),
    );
    assert_eq!(app.get(&format!("/v1/organizations/{org}")).send().await.json["name"], "Acme Corp");
    assert!(events_of(&app, "organization.updated").await.iter().any(|e| e["data"]["name"] == "Acme Corp"));

    // The logo: a multipart upload by a manager (clerk-js 5 asks too), then its removal.
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 32]].concat();
    let boundary = "tesserabound";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let multipart = format!("multipart/form-data; boundary={boundary}");
    let logo = format!("{path}/logo");
    let put = axum::http::Method::PUT;
    plain.request(put.clone(), &at(&logo, &psess)).body(body.clone(), &multipart).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    let old = app.browser().await.with_version("2025-11-10");
    let old_sess = old.sign_in_as(&admin_id).await;
    let r =
        old.request(put.clone(), &at(&logo, &old_sess)).body(body.clone(), &multipart).send().await.assert_status(200);
    assert_eq!(r.json["response"]["has_image"], true);
    assert!(r.json["response"]["image_url"].as_str().unwrap().contains("/organization_images/img_"));
    let r = old
        .request(put.clone(), &at(&logo, &old_sess))
        .body(b"not an image".to_vec(), "application/octet-stream")
        .send()
        .await;
    r.assert_error(422, "form_param_value_invalid", Some("file"));
    let r = old.delete(&at(&logo, &old_sess)).send().await.assert_status(200);
    assert_eq!((&r.json["response"]["object"], &r.json["response"]["deleted"]), (&json!("image"), &json!(true)));
    let r = admin.get(&at(&path, &asess)).send().await.assert_status(200);
    assert_eq!(r.json["response"]["has_image"], false);

    // Deleting: `org:sys_profile:delete`, and only while the organization lets its admins.
    plain.delete(&at(&path, &psess)).send().await.assert_error(403, "missing_organization_permission", None);
    let admin_delete = |on: bool| app.patch(&format!("/v1/organizations/{org}"), json!({ "admin_delete_enabled": on }));
    admin_delete(false).send().await.assert_status(200);
    admin.delete(&at(&path, &asess)).send().await.assert_error(403, "missing_organization_permission", None);
    admin_delete(true).send().await.assert_status(200);
    let r = admin.delete(&at(&path, &asess)).send().await.assert_status(200).json;
    assert_eq!(r["response"], json!({ "object": "organization", "id": org, "slug": "acme", "deleted": true }));
    let names: Vec<&Value> = r["client"]["sessions"][0]["user"]["organization_memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["organization"]["slug"])
        .collect();
    assert_eq!(names, [&json!("other")]);
    assert_eq!(events_of(&app, "organization.deleted").await[0]["data"]["id"], org.as_str());
    admin.get(&at(&path, &asess)).send().await.assert_error(404, "organization_not_found_or_unauthorized", None);
    app.get(&format!("/v1/organizations/{org}")).send().await.assert_status(404);
}

#[tokio::test]
async fn managers_add_change_and_remove_members_but_keep_one_manager() {
    let app = TestApp::with_clock(T0).await;
    enable(&app, json!({ "enabled": true })).await;
    let (admin, admin_id, asess) = member(&app, "boss@example.com").await;
    let (plain, plain_id, psess) = member(&app, "worker@example.com").await;
    let newcomer = user(&app, "new@example.com").await;
    let org = organization(&app, &admin, &asess, "team", &plain_id).await;
    let members = format!("/v1/organizations/{org}/memberships");

    // Members read the list (clerk-js asks paginated); `query` and `role` filter it.
    let r = plain.get(&at(&format!("{members}?paginated=true&limit=1"), &psess)).send().await.assert_status(200);
    assert_eq!(r.json["response"]["total_count"], 2);
    assert_eq!(r.json["response"]["data"].as_array().unwrap().len(), 1);
    let r = plain.get(&at(&format!("{members}?query=worker"), &psess)).send().await.assert_status(200);
    assert_eq!(r.json["response"][0]["public_user_data"]["user_id"], plain_id.as_str());
    let r = plain.get(&at(&format!("{members}?paginated=true&role=org:admin"), &psess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["data"][0]["public_user_data"]["user_id"], admin_id.as_str());

    // The roles a member may be given.
    let r = plain.get(&at(&format!("/v1/organizations/{org}/roles"), &psess)).send().await.assert_status(200);
    let keys: Vec<&Value> = r.json["response"]["data"].as_array().unwrap().iter().map(|r| &r["key"]).collect();
    assert_eq!(keys, [&json!("org:admin"), &json!("org:member")]);
    assert_eq!(r.json["response"]["data"][0]["is_creator_eligible"], true);
    assert_eq!(r.json["response"]["has_role_set_migration"], false);

    // Managing them needs `org:sys_memberships:manage`.
    let add = [("user_id", newcomer.as_str()), ("role", "org:member")];
    plain.post(&at(&members, &psess), &add).send().await.assert_error(403, "missing_organization_permission", None);
    let admin_path = at(&format!("{members}/{admin_id}"), &psess);
    plain.patch(&admin_path, &[("role", "org:member")]).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    plain.delete(&admin_path).send().await.assert_error(403, "missing_organization_permission", None);

    let r = admin.post(&at(&members, &asess), &add).send().await.assert_status(200);
    assert_eq!(
        (&r.json["response"]["role"], &r.json["response"]["organization"]["members_count"]),
        (&json!("org:member"), &json!(3))
    );
    admin.post(&at(&members, &asess), &add).send().await.assert_error(400, "already_a_member_in_organization", None);
    admin.post(&at(&members, &asess), &[("user_id", newcomer.as_str())]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("role"),
    );
    admin
        .post(&at(&members, &asess), &[("user_id", "user_unknown"), ("role", "org:member")])
        .send()
        .await
        .assert_status(404);
    let plain_path = at(&format!("{members}/{plain_id}"), &asess);
    admin.patch(&plain_path, &[("role", "org:owner")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("role"),
    );

    // The only manager may neither step down nor leave.
    let own = at(&format!("{members}/{admin_id}"), &asess);
    admin.patch(&own, &[("role", "org:member")]).send().await.assert_error(
        400,
        "organization_minimum_permissions_needed",
        None,
    );
    admin.delete(&own).send().await.assert_error(400, "organization_minimum_permissions_needed", None);
    assert_eq!(
        app.get(&format!("/v1/organizations/{org}/memberships?role=org:admin")).send().await.json["total_count"],
        1
    );

    // Promoted, the member becomes a manager; then the first admin may step down.
    let r = admin.patch(&plain_path, &[("role", "org:admin")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["permissions"].as_array().unwrap().len(), 8);
    assert!(events_of(&app, "organizationMembership.updated").await.iter().any(|e| e["data"]["role"] == "org:admin"));
    admin.patch(&own, &[("role", "org:member")]).send().await.assert_status(200);
    let r = plain.delete(&at(&format!("{members}/{newcomer}"), &psess)).send().await.assert_status(200);
    assert_eq!(r.json["response"]["public_user_data"]["user_id"], newcomer.as_str());
    plain.delete(&at(&format!("{members}/{newcomer}"), &psess)).send().await.assert_status(404);
    let deleted = events_of(&app, "organizationMembership.deleted").await;
    assert_eq!(deleted[0]["data"]["public_user_data"]["user_id"], newcomer.as_str());
    // The demoted admin lost the permission.
    admin.post(&at(&members, &asess), &add).send().await.assert_error(403, "missing_organization_permission", None);
}

#[tokio::test]
async fn managers_invite_and_revoke() {
    let app = TestApp::with_clock(T0).await;
    enable(&app, json!({ "enabled": true })).await;
    let (admin, admin_id, asess) = member(&app, "inviter@example.com").await;
    let (plain, plain_id, psess) = member(&app, "plain@example.com").await;
    let org = organization(&app, &admin, &asess, "inviting", &plain_id).await;
    let invitations = format!("/v1/organizations/{org}/invitations");
    let invite = [("email_address", "guest@example.com"), ("role", "org:member"), ("notify", "false")];

    plain.post(&at(&invitations, &psess), &invite).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    plain.get(&at(&invitations, &psess)).send().await.assert_error(403, "missing_organization_permission", None);
    let r = admin.post(&at(&invitations, &asess), &invite).send().await.assert_status(200);
    let inv = r.json["response"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&r.json["response"]["status"], &r.json["response"]["role_name"]),
        (&json!("pending"), &json!("Member"))
    );
    let created = events_of(&app, "organizationInvitation.created").await;
    assert_eq!(created[0]["data"]["inviter_id"], admin_id.as_str());
    admin.post(&at(&invitations, &asess), &invite).send().await.assert_error(
        400,
        "duplicate_record",
        Some("email_address"),
    );
    admin
        .post(&at(&invitations, &asess), &[("email_address", "plain@example.com"), ("role", "org:member")])
        .send()
        .await
        .assert_error(400, "already_a_member_in_organization", Some("email_address"));
    admin
        .post(&at(&invitations, &asess), &[("email_address", "not-an-address"), ("role", "org:member")])
        .send()
        .await
        .assert_status(422);
    admin.post(&at(&invitations, &asess), &[("email_address", "x@example.com")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("role"),
    );

    // Bulk: all or none.
    let bulk = at(&format!("{invitations}/bulk"), &asess);
    let r = admin
        .post(
            &bulk,
            &[
                ("email_address", "a@example.com"),
                ("email_address", "b@example.com"),
                ("role", "org:admin"),
                ("notify", "false"),
            ],
        )
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["response"].as_array().unwrap().len(), 2);
    admin
        .post(&bulk, &[("email_address", "c@example.com"), ("email_address", "a@example.com"), ("role", "org:member")])
        .send()
        .await
        .assert_error(400, "duplicate_record", None);
    admin.post(&bulk, &[("role", "org:member")]).send().await.assert_error(
        422,
        "form_param_missing",
        Some("email_address"),
    );
    let r = admin.get(&at(&format!("{invitations}?status=pending&limit=2"), &asess)).send().await.assert_status(200);
    assert_eq!(
        (r.json["response"]["total_count"].as_i64(), r.json["response"]["data"].as_array().unwrap().len()),
        (Some(3), 2)
    );
    admin.get(&at(&format!("{invitations}?status=unknown"), &asess)).send().await.assert_error(
        400,
        "query_param_invalid",
        Some("status"),
    );

    // Revoking.
    let revoke = at(&format!("{invitations}/{inv}/revoke"), &asess);
    plain.post(&at(&format!("{invitations}/{inv}/revoke"), &psess), &[]).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    let r = admin.post(&revoke, &[]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "revoked");
    admin.post(&revoke, &[]).send().await.assert_error(400, "organization_invitation_not_pending", None);
    admin.post(&at(&format!("{invitations}/orginv_unknown/revoke"), &asess), &[]).send().await.assert_status(404);
    assert_eq!(events_of(&app, "organizationInvitation.revoked").await[0]["data"]["id"], inv.as_str());
    let old = app.browser().await.with_version("2025-11-10");
    let old_sess = old.sign_in_as(&admin_id).await;
    let r = old.get(&at(&format!("{invitations}/pending"), &old_sess)).send().await;
    assert_eq!(r.assert_status(200).json["response"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn managers_add_domains_when_the_instance_allows_them() {
    let app = TestApp::with_clock(T0).await;
    enable(&app, json!({ "enabled": true })).await;
    let (admin, admin_id, asess) = member(&app, "domains@example.com").await;
    let (plain, plain_id, psess) = member(&app, "reader@example.com").await;
    let org = organization(&app, &admin, &asess, "domained", &plain_id).await;
    let domains = format!("/v1/organizations/{org}/domains");

    admin.post(&at(&domains, &asess), &[("name", "acme.com")]).send().await.assert_error(
        403,
        "organization_domains_not_enabled",
        None,
    );
    enable(&app, json!({ "domains_enabled": true, "domains_enrollment_modes": ["automatic_suggestion"] })).await;
    plain.post(&at(&domains, &psess), &[("name", "acme.com")]).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    admin.post(&at(&domains, &asess), &[("name", "gmail.com")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("name"),
    );
    admin.post(&at(&domains, &asess), &[]).send().await.assert_error(422, "form_param_missing", Some("name"));
    let r = admin.post(&at(&domains, &asess), &[("name", "Acme.com")]).send().await.assert_status(200);
    let d = r.json["response"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&r.json["response"]["name"], &r.json["response"]["enrollment_mode"]),
        (&json!("acme.com"), &json!("manual_invitation"))
    );
    assert_eq!(r.json["response"]["affiliation_verification"], Value::Null);
    admin.post(&at(&domains, &asess), &[("name", "acme.com")]).send().await.assert_error(
        422,
        "organization_domain_already_exists",
        Some("name"),
    );
    assert_eq!(events_of(&app, "organizationDomain.created").await[0]["data"]["id"], d.as_str());

    // Members with `org:sys_domains:read`… the default member role has none.
    plain.get(&at(&domains, &psess)).send().await.assert_error(403, "missing_organization_permission", None);
    let r = admin.get(&at(&format!("{domains}?verified=false&enrollment_mode=manual_invitation"), &asess)).send().await;
    assert_eq!(r.assert_status(200).json["response"]["total_count"], 1);
    let r = admin.get(&at(&format!("{domains}?verified=true"), &asess)).send().await.assert_status(200);
    assert_eq!(r.json["response"]["total_count"], 0);
    admin.get(&at(&format!("{domains}?enrollment_mode=nope"), &asess)).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("enrollment_mode"),
    );
    let one = format!("{domains}/{d}");
    let old = app.browser().await.with_version("2025-11-10");
    let old_sess = old.sign_in_as(&admin_id).await;
    let r = old.get(&at(&one, &old_sess)).send().await.assert_status(200);
    assert_eq!(r.json["response"]["public_organization_data"]["id"], org.as_str());
    admin.get(&at(&format!("{domains}/orgdmn_unknown"), &asess)).send().await.assert_status(404);

    // Enrollment modes the instance enabled.
    let mode = at(&format!("{one}/update_enrollment_mode"), &asess);
    admin.post(&mode, &[("enrollment_mode", "automatic_invitation")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("enrollment_mode"),
    );
    let r = admin.post(&mode, &[("enrollment_mode", "automatic_suggestion"), ("delete_pending", "true")]).send().await;
    assert_eq!(r.assert_status(200).json["response"]["enrollment_mode"], "automatic_suggestion");
    assert!(!events_of(&app, "organizationDomain.updated").await.is_empty());

    plain.delete(&at(&one, &psess)).send().await.assert_error(403, "missing_organization_permission", None);
    let r = admin.delete(&at(&one, &asess)).send().await.assert_status(200);
    assert_eq!(r.json["response"], json!({ "object": "organization_domain", "id": d, "deleted": true }));
    admin.delete(&at(&one, &asess)).send().await.assert_status(404);
    assert_eq!(events_of(&app, "organizationDomain.deleted").await[0]["data"]["id"], d.as_str());
}

#[tokio::test]
async fn nothing_while_organizations_are_off() {
    let app = TestApp::with_clock(T0).await;
    enable(&app, json!({ "enabled": true })).await;
    let (admin, _, asess) = member(&app, "early@example.com").await;
    let r = admin.post(&at("/v1/organizations", &asess), &[("name", "Early")]).send().await.assert_status(200);
    let org = r.json["response"]["id"].as_str().unwrap().to_owned();
    enable(&app, json!({ "enabled": false })).await;
    for path in ["", "/memberships", "/invitations", "/domains", "/roles"] {
        admin.get(&at(&format!("/v1/organizations/{org}{path}"), &asess)).send().await.assert_error(
            403,
            "organization_not_enabled_in_instance",
            None,
        );
    }
}
