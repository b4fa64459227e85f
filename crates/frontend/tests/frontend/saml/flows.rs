//! The flows that end in a session.

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::saml::{Signed, TestIdp};

use super::*;

#[tokio::test]
async fn sp_metadata_names_the_entity_id_and_the_acs() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let r = browser.get(&format!("/v1/saml/metadata/{}.xml", c.saml_id)).send().await.assert_status(200);
    let xml = String::from_utf8(r.body.clone()).unwrap();
    assert!(xml.contains(&format!("entityID=\"{}\"", c.sp_entity_id)), "{xml}");
    let acs = format!("Location=\"https://{}/v1/saml/acs/{}\"", browser.host, c.saml_id);
    assert!(xml.contains(&acs), "{xml}");
    assert!(xml.contains("WantAssertionsSigned=\"true\""), "{xml}");
    browser.raw(axum::http::Method::GET, "/v1/saml/metadata/samlc_unknown.xml").await.assert_error(
        404,
        "resource_not_found",
        None,
    );
}

#[tokio::test]
async fn enterprise_sso_signs_up_a_new_person_just_in_time_through_a_transfer() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);

    // clerk-js's sso-callback reloads the client: the IdP vouched for a person without an account, so the sign-in
    // is transferable (as Clerk shows it) and nobody exists yet.
    let si = sign_in(&browser, &s.sign_in_id).await;
    assert_eq!(si["status"], "needs_identifier", "{si}");
    let v = &si["first_factor_verification"];
    assert_eq!((&v["status"], &v["error"]["code"]), (&json!("transferable"), &json!("external_account_not_found")));
    assert!(si["created_session_id"].is_null(), "{si}");
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["sign_in"]["id"], s.sign_in_id.as_str());
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
    // Only this browser's client can continue it.
    let other = app.browser().await;
    let r = other.post("/v1/client/sign_ups", &[("transfer", "true")]).send().await;
    r.assert_error(422, "form_param_value_invalid", Some("transfer"));
    // An app that told clerk-js `transferable: false` stops here; any other continues with
    // signUp.create({transfer: true}): the user is created just in time, with a session.
    let r = browser
        .post("/v1/client/sign_ups", &[("transfer", "true"), ("unsafe_metadata", r#"{"plan":"team"}"#)])
        .send()
        .await
        .assert_status(200);
    let su = &r.json["response"];
    assert_eq!(su["status"], "complete", "{su}");
    assert_eq!(su["email_address"], EMAIL);
    assert_eq!(su["verifications"]["external_account"]["status"], "verified");
    assert_eq!(su["verifications"]["email_address"]["status"], "verified");
    assert!(r.json["client"]["sign_in"].is_null() && r.json["client"]["sign_up"].is_null(), "{}", r.json);
    let sid = su["created_session_id"].as_str().expect("session");
    // Spent: the same answer transfers once.
    let again = browser.post("/v1/client/sign_ups", &[("transfer", "true")]).send().await;
    again.assert_error(422, "form_param_value_invalid", Some("transfer"));
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["last_active_session_id"], sid);
    let user = &client["response"]["sessions"][0]["user"];
    let user_id = user["id"].as_str().unwrap();
    // The browser's user object shows the accounts as the Backend API does.
    assert_eq!(user["enterprise_accounts"][0]["protocol"], "saml", "{user}");
    assert_eq!(user["enterprise_accounts"][0]["enterprise_connection_id"], c.id.as_str());
    assert_eq!(user["saml_accounts"][0]["saml_connection"]["id"], c.saml_id.as_str(), "{user}");
    assert_eq!(user["saml_accounts"][0]["email_address"], EMAIL);

    // The Backend API sees the user with a verified address, the names from the IdP and the enterprise account.
    let u = app.get(&format!("/v1/users/{user_id}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][0]["email_address"], EMAIL);
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Ada"), Some("Lovelace")));
    assert_eq!(u["unsafe_metadata"], json!({ "plan": "team" }), "clerk-js's unsafe metadata");
    let ea = &u["enterprise_accounts"][0];
    assert_eq!(ea["object"], "enterprise_account");
    assert_eq!(ea["protocol"], "saml");
    assert_eq!(ea["enterprise_connection_id"], c.id.as_str());
    assert_eq!(ea["provider_user_id"], EMAIL);
    assert_eq!(ea["email_address"], EMAIL);
    assert_eq!(ea["enterprise_connection"]["domains"], json!([DOMAIN]));
    assert_eq!(ea["last_authenticated_at"], T0);
    assert_eq!(u["saml_accounts"][0]["saml_connection"]["id"], c.saml_id.as_str());
    let sessions = app.get(&format!("/v1/sessions?user_id={user_id}")).send().await.assert_status(200).json;
    assert_eq!(sessions[0]["id"], sid);
    assert_eq!(sessions[0]["status"], "active");
}

#[tokio::test]
async fn the_legacy_saml_strategy_links_an_existing_user_by_verified_address() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    let browser = app.browser().await;
    let s = start(&browser, "saml", EMAIL).await;
    post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    let si = sign_in(&browser, &s.sign_in_id).await;
    assert_eq!(si["status"], "complete", "{si}");
    let u = app.get(&format!("/v1/users/{}", existing["id"].as_str().unwrap())).send().await.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"].as_array().unwrap().len(), 1, "{u}");
    let users = app.get("/v1/users").send().await.assert_status(200).json;
    assert_eq!(users.as_array().unwrap().len(), 1, "no second user: {users}");
}

#[tokio::test]
async fn a_signed_response_and_a_doubly_signed_one_are_accepted_too() {
    for signed in [Signed::Response, Signed::Both] {
        let app = TestApp::with_clock(T0).await;
        let c = connection(&app, json!({})).await;
        let browser = app.browser().await;
        let s = start(&browser, "enterprise_sso", EMAIL).await;
        let mut a = assertion(&app, &c, &s, EMAIL);
        a.signed = signed;
        post_acs(&browser, &c, &TestIdp::new().response(&a)).await.assert_status(303);
        callback(&browser, &s.sign_in_id).await;
    }
}

#[tokio::test]
async fn a_connection_linked_to_an_organization_makes_the_user_a_member() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/organization_settings", json!({ "enabled": true })).send().await.assert_status(200);
    let owner = app
        .post("/v1/users", json!({ "email_address": ["owner@elsewhere.test"] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let org = app
        .post("/v1/organizations", json!({ "name": "Acme", "created_by": owner["id"] }))
        .send()
        .await
        .assert_status(200)
        .json;
    let c = connection(&app, json!({ "organization_id": org["id"] })).await;
    let browser = app.browser().await;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
    let org_id = org["id"].as_str().unwrap();
    let members = app.get(&format!("/v1/organizations/{org_id}/memberships")).send().await.assert_status(200).json;
    let emails: Vec<&str> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["public_user_data"]["identifier"].as_str())
        .collect();
    assert!(emails.contains(&EMAIL), "{members}");
}

#[tokio::test]
async fn without_a_connection_for_the_domain_the_sign_in_is_refused() {
    let app = TestApp::with_clock(T0).await;
    connection(&app, json!({})).await;
    let browser = app.browser().await;
    browser
        .post(
            "/v1/client/sign_ins",
            &[("strategy", "enterprise_sso"), ("identifier", "bob@other.test"), ("redirect_url", REDIRECT)],
        )
        .send()
        .await
        .assert_error(422, "enterprise_sso_connection_not_found", Some("identifier"));
    browser
        .post(
            "/v1/client/sign_ins",
            &[("strategy", "enterprise_sso"), ("identifier", EMAIL), ("redirect_url", "https://evil.test/")],
        )
        .send()
        .await
        .assert_error(400, "redirect_url_not_allowed", Some("redirect_url"));
}
