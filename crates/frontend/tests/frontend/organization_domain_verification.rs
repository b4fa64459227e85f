//! Affiliation verification of an organization domain by e-mail code, as `<OrganizationProfile/>` runs it: a code to
//! an address at the domain, attempts counted, expiry, the right code verifying the domain, and the permission.

use serde_json::json;
use tessera_testkit::{TestApp, TestBrowser};

use crate::{T0, events_of};

async fn member<'a>(app: &'a TestApp, email: &str) -> (TestBrowser<'a>, String, String) {
    let r = app.post("/v1/users", json!({ "email_address": [email], "password": "correct horse battery staple" }));
    let id = r.send().await.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let b = app.browser().await;
    let sess = b.sign_in_as(&id).await;
    (b, id, sess)
}

fn at(path: &str, session: &str) -> String {
    format!("{path}?_clerk_session_id={session}")
}

/// The newest outbox message's code and recipient.
async fn last_code(app: &TestApp) -> (String, String) {
    let msgs = tessera_core::sender::outbox(app.ctx(), Some(&app.instance.id), 1).await.unwrap();
    let m = msgs.first().expect("a captured message");
    (m.subject.chars().take_while(char::is_ascii_digit).collect(), m.recipient.clone())
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

#[tokio::test]
async fn an_admin_verifies_a_domain_by_an_emailed_code() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true, "domains_enabled": true }))
        .send()
        .await
        .assert_status(200);
    let (admin, admin_id, asess) = member(&app, "admin@acme.test").await;
    let (plain, plain_id, psess) = member(&app, "plain@acme.test").await;
    let org = app.post("/v1/organizations", json!({ "name": "Acme", "created_by": admin_id })).send().await;
    let org = org.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let body = json!({ "user_id": plain_id, "role": "org:member" });
    app.post(&format!("/v1/organizations/{org}/memberships"), body).send().await.assert_status(200);
    let d = admin.post(&at(&format!("/v1/organizations/{org}/domains"), &asess), &[("name", "acme.test")]).send().await;
    let domain = d.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    let prepare = at(&format!("/v1/organizations/{org}/domains/{domain}/prepare_affiliation_verification"), &asess);
    let attempt = at(&format!("/v1/organizations/{org}/domains/{domain}/attempt_affiliation_verification"), &asess);

    // A member without the permission may not; no code yet; an address elsewhere is refused.
    let plain_prepare =
        at(&format!("/v1/organizations/{org}/domains/{domain}/prepare_affiliation_verification"), &psess);
    plain.post(&plain_prepare, &[("affiliation_email_address", "plain@acme.test")]).send().await.assert_error(
        403,
        "missing_organization_permission",
        None,
    );
    admin.post(&attempt, &[("code", "123456")]).send().await.assert_error(422, "verification_missing", None);
    admin.post(&prepare, &[("affiliation_email_address", "a@other.test")]).send().await.assert_error(
        422,
        "form_param_value_invalid",
        Some("affiliation_email_address"),
    );
    admin.post(&prepare, &[]).send().await.assert_error(422, "form_param_missing", Some("affiliation_email_address"));

    let r = admin.post(&prepare, &[("affiliation_email_address", "IT@acme.test")]).send().await.assert_status(200);
    let v = &r.json["response"]["affiliation_verification"];
    assert_eq!((v["status"].as_str(), v["strategy"].as_str()), (Some("unverified"), Some("email_code")));
    assert_eq!(r.json["response"]["affiliation_email_address"], "it@acme.test");
    let (code, to) = last_code(&app).await;
    assert_eq!((code.len(), to.as_str()), (6, "it@acme.test"));
    // A wrong code counts; the right one verifies.
    admin.post(&attempt, &[("code", &wrong(&code))]).send().await.assert_error(
        422,
        "form_code_incorrect",
        Some("code"),
    );
    let r = admin.post(&attempt, &[("code", &code)]).send().await.assert_status(200);
    let v = &r.json["response"]["affiliation_verification"];
    assert_eq!((v["status"].as_str(), v["attempts"].as_i64()), (Some("verified"), Some(2)));
    admin.post(&attempt, &[("code", &code)]).send().await.assert_error(400, "verification_already_verified", None);
    admin.post(&prepare, &[("affiliation_email_address", "it@acme.test")]).send().await.assert_status(422);
    let got = app.get(&format!("/v1/organizations/{org}/domains/{domain}")).send().await;
    let _ = got;
    assert!(events_of(&app, "organizationDomain.updated").await.len() >= 3);
}

#[tokio::test]
async fn codes_expire_and_run_out() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true, "domains_enabled": true }))
        .send()
        .await
        .assert_status(200);
    let (admin, admin_id, asess) = member(&app, "admin@acme.test").await;
    let org = app.post("/v1/organizations", json!({ "name": "Acme", "created_by": admin_id })).send().await;
    let org = org.assert_status(200).json["id"].as_str().unwrap().to_owned();
    let d = admin.post(&at(&format!("/v1/organizations/{org}/domains"), &asess), &[("name", "acme.test")]).send().await;
    let domain = d.assert_status(200).json["response"]["id"].as_str().unwrap().to_owned();
    let prepare = at(&format!("/v1/organizations/{org}/domains/{domain}/prepare_affiliation_verification"), &asess);
    let attempt = at(&format!("/v1/organizations/{org}/domains/{domain}/attempt_affiliation_verification"), &asess);

    admin.post(&prepare, &[("affiliation_email_address", "it@acme.test")]).send().await.assert_status(200);
    let (code, _) = last_code(&app).await;
    app.clock.advance_ms(10 * 60 * 1000);
    admin.post(&attempt, &[("code", &code)]).send().await.assert_error(422, "verification_expired", None);
    // A new code replaces the old one, which no longer works.
    app.clock.advance_ms(1);
    admin.post(&prepare, &[("affiliation_email_address", "it@acme.test")]).send().await.assert_status(200);
    let (fresh, _) = last_code(&app).await;
    for _ in 0..4 {
        admin.post(&attempt, &[("code", &wrong(&fresh))]).send().await.assert_error(
            422,
            "form_code_incorrect",
            Some("code"),
        );
    }
    admin.post(&attempt, &[("code", &wrong(&fresh))]).send().await.assert_error(422, "verification_failed", None);
    admin.post(&attempt, &[("code", &fresh)]).send().await.assert_error(422, "verification_failed", None);
    // Another organization's domain is unknown here.
    admin
        .post(
            &at(&format!("/v1/organizations/{org}/domains/orgdmn_nope/attempt_affiliation_verification"), &asess),
            &[("code", "1")],
        )
        .send()
        .await
        .assert_status(404);
}
