//! Enterprise SSO on sign-ups: clerk-js's `<SignUp/>` starts the flow with `POST /v1/client/sign_ups`
//! (`strategy=enterprise_sso|saml`, `email_address`); the address's connection is found by its domain, the attempt's
//! external-account verification names the IdP URL, and the ACS completes the attempt with a new user and a session
//! — or, for a person who already has an account, makes it `transferable` and clerk-js's callback signs them in
//! with `signIn.create({transfer: true})`.

use serde_json::json;
use tessera_testkit::saml::{TestIdp, read_request};
use tessera_testkit::{TestApp, TestResponse};

use super::*;

async fn create(browser: &TestBrowser<'_>, strategy: &str, email: &str) -> TestResponse {
    browser
        .post(
            "/v1/client/sign_ups",
            &[
                ("strategy", strategy),
                ("email_address", email),
                ("redirect_url", REDIRECT),
                ("action_complete_redirect_url", COMPLETE),
            ],
        )
        .send()
        .await
}

/// A started SSO sign-up: its id and what the IdP got.
async fn started(browser: &TestBrowser<'_>, strategy: &str) -> (String, Started) {
    let r = create(browser, strategy, EMAIL).await.assert_status(200);
    let su = &r.json["response"];
    assert_eq!(su["status"], "missing_requirements", "{su}");
    assert_eq!(r.json["client"]["sign_up"]["id"], su["id"], "the client's sign-up in progress");
    let v = &su["verifications"]["external_account"];
    assert_eq!(
        (&v["object"], &v["status"], &v["strategy"]),
        (&json!("verification_saml"), &json!("unverified"), &json!("saml"))
    );
    let url = v["external_verification_redirect_url"].as_str().expect("external_verification_redirect_url");
    assert!(url.starts_with(&format!("{IDP_SSO_URL}?SAMLRequest=")), "{url}");
    let id = su["id"].as_str().unwrap().to_owned();
    let (request_id, acs_url, relay) = read_request(url);
    assert_eq!(relay.as_deref(), Some(id.as_str()));
    (id, Started { sign_in_id: String::new(), request_id, acs_url })
}

async fn sign_up(browser: &TestBrowser<'_>, id: &str) -> serde_json::Value {
    browser.get(&format!("/v1/client/sign_ups/{id}")).send().await.assert_status(200).json["response"].clone()
}

#[tokio::test]
async fn an_enterprise_sso_sign_up_provisions_the_user_and_ends_in_a_session() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let (id, s) = started(&browser, "enterprise_sso").await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);

    // clerk-js's sso-callback reloads the client: the sign-up is complete, with the new user's session.
    let su = sign_up(&browser, &id).await;
    assert_eq!(su["status"], "complete", "{su}");
    assert_eq!(su["verifications"]["external_account"]["status"], "verified");
    assert_eq!(su["verifications"]["email_address"]["object"], "verification_saml", "{su}");
    assert_eq!(su["verifications"]["email_address"]["status"], "verified");
    let (sid, uid) = (su["created_session_id"].as_str().unwrap(), su["created_user_id"].as_str().unwrap());
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["last_active_session_id"], sid);
    assert!(client["response"]["sign_up"].is_null(), "{client}");
    let u = app.get(&format!("/v1/users/{uid}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][0]["email_address"], EMAIL);
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(u["enterprise_accounts"][0]["enterprise_connection_id"], c.id.as_str());
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Ada"), Some("Lovelace")));
    // The Backend API shows the attempt the same way.
    let bapi = app.get(&format!("/v1/sign_ups/{id}")).send().await.assert_status(200).json;
    assert_eq!(bapi["status"], "complete");
    assert_eq!(bapi["verifications"]["external_account"]["status"], "verified", "{bapi}");
    assert_eq!(bapi["created_user_id"], uid);
}

#[tokio::test]
async fn the_legacy_saml_strategy_signs_up_too_and_the_answer_is_bound_to_the_browser() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let (id, s) = started(&browser, "saml").await;
    let response = TestIdp::new().response(&assertion(&app, &c, &s, EMAIL));
    // Another browser's client is not this attempt's: refused, nothing spent.
    let other = app.browser().await;
    let cookie = format!("__client={}", other.dev_browser.clone().unwrap());
    let acs = format!("/v1/saml/acs/{}", c.saml_id);
    let r = other.post(&acs, &[("SAMLResponse", &response)]).header("cookie", &cookie).send().await;
    r.assert_error(400, "saml_response_invalid", None);
    assert_eq!(sign_up(&browser, &id).await["status"], "missing_requirements");
    post_acs(&browser, &c, &response).await.assert_status(303);
    assert_eq!(sign_up(&browser, &id).await["status"], "complete");
}

/// clerk-js's `sso-callback` for a transferable sign-up: `signIn.create({transfer: true})`.
async fn transfer(browser: &TestBrowser<'_>) -> TestResponse {
    browser.post("/v1/client/sign_ins", &[("transfer", "true")]).send().await
}

#[tokio::test]
async fn a_sign_up_for_an_existing_account_transfers_to_a_sign_in() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    let uid = existing["id"].as_str().unwrap();
    let browser = app.browser().await;
    // Nothing to transfer yet.
    transfer(&browser).await.assert_error(422, "form_param_value_invalid", Some("transfer"));

    // The address has an account: the sign-up still goes to the IdP (the IdP, not the form, proves who it is).
    let (id, s) = started(&browser, "enterprise_sso").await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);
    // The IdP named an existing user: the attempt is transferable, as clerk-js expects it, and created nobody.
    let su = sign_up(&browser, &id).await;
    assert_eq!(su["status"], "missing_requirements", "{su}");
    let v = &su["verifications"]["external_account"];
    assert_eq!((&v["status"], &v["error"]["code"]), (&json!("transferable"), &json!("external_account_exists")), "{v}");
    assert!(su["created_user_id"].is_null() && su["created_session_id"].is_null(), "{su}");
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["sign_up"]["id"], id.as_str());
    assert!(client["response"]["sessions"].as_array().unwrap().is_empty(), "{client}");
    let users = app.get("/v1/users").send().await.assert_status(200).json;
    assert_eq!(users.as_array().map(Vec::len), Some(1));
    let bapi = app.get(&format!("/v1/sign_ups/{id}")).send().await.assert_status(200).json;
    let v = &bapi["verifications"]["external_account"];
    assert_eq!((&v["status"], &v["error"]["code"]), (&json!("transferable"), &json!("external_account_exists")), "{v}");

    // signIn.create({transfer: true}): the existing user is signed in, with the enterprise account linked.
    let r = transfer(&browser).await.assert_status(200);
    let si = &r.json["response"];
    assert_eq!(si["status"], "complete", "{si}");
    assert_eq!(si["first_factor_verification"]["status"], "verified");
    let sid = si["created_session_id"].as_str().expect("a session");
    let client = &r.json["client"];
    assert_eq!(client["last_active_session_id"], sid);
    assert_eq!(client["sessions"][0]["user"]["id"], uid);
    assert!(client["sign_up"].is_null() && client["sign_in"].is_null(), "{client}");
    let u = app.get(&format!("/v1/users/{uid}")).send().await.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"][0]["enterprise_connection_id"], c.id.as_str(), "{u}");
    assert_eq!(u["enterprise_accounts"][0]["email_address"], EMAIL);
    // Spent: the same answer transfers once.
    transfer(&browser).await.assert_error(422, "form_param_value_invalid", Some("transfer"));
}

#[tokio::test]
async fn only_the_attempts_own_client_transfers_it_and_not_after_the_deadline() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200);
    let browser = app.browser().await;
    let (id, s) = started(&browser, "enterprise_sso").await;
    post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await.assert_status(303);
    assert_eq!(sign_up(&browser, &id).await["verifications"]["external_account"]["status"], "transferable");
    // Another browser has no such sign-up: nothing to transfer there.
    let other = app.browser().await;
    transfer(&other).await.assert_error(422, "form_param_value_invalid", Some("transfer"));
    // Past the deadline the answer is gone; the person starts again.
    app.clock.advance_ms(tessera_core::enterprise_sso::transfer::TRANSFER_TTL_MS + 1);
    transfer(&browser).await.assert_error(422, "form_param_value_invalid", Some("transfer"));
    assert!(browser.get("/v1/client").send().await.json["response"]["sessions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_banned_user_is_not_transferred() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    app.post(&format!("/v1/users/{}/ban", existing["id"].as_str().unwrap()), json!({})).send().await.assert_status(200);
    let browser = app.browser().await;
    let (id, s) = started(&browser, "enterprise_sso").await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await;
    r.assert_error(400, "user_banned", None);
    assert_eq!(sign_up(&browser, &id).await["verifications"]["external_account"]["status"], "unverified");
    transfer(&browser).await.assert_error(422, "form_param_value_invalid", Some("transfer"));
}

#[tokio::test]
async fn sso_sign_ups_refuse_unknown_domains_and_disabled_provisioning() {
    let app = TestApp::with_clock(T0).await;
    let browser = app.browser().await;
    create(&browser, "enterprise_sso", EMAIL).await.assert_error(
        422,
        "enterprise_sso_connection_not_found",
        Some("email_address"),
    );
    create(&browser, "enterprise_sso", "").await.assert_error(422, "form_param_missing", Some("email_address"));
    let c = connection(&app, json!({ "disable_jit_provisioning": true })).await;
    // Without just-in-time provisioning the IdP's answer creates nobody, and the attempt stays open.
    let (id, s) = started(&browser, "enterprise_sso").await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await;
    r.assert_error(403, "saml_jit_provisioning_disabled", None);
    assert_eq!(sign_up(&browser, &id).await["status"], "missing_requirements");
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json.as_array().map(Vec::len), Some(0));
}
