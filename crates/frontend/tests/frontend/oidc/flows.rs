//! The flows that end in a session.

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::oidc::{CLIENT_ID, CLIENT_SECRET, Login, Signing};

use super::*;

#[tokio::test]
async fn enterprise_sso_through_oidc_signs_up_a_new_person_just_in_time() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;

    // The authorization request: code flow for our client, back to the frontend host's callback, PKCE S256, a
    // state and a nonce, and the address as login hint.
    let p = &s.authorized.params;
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["client_id"], CLIENT_ID);
    assert_eq!(p["redirect_uri"], format!("https://{}/v1/oauth_callback", browser.host));
    assert_eq!(p["code_challenge_method"], "S256");
    assert_eq!(p["code_challenge"].len(), 43);
    assert!(p["state"].len() >= 43 && p["nonce"].len() >= 43 && p["state"] != p["nonce"], "{p:?}");
    assert_eq!(p["login_hint"], EMAIL);
    assert!(p["scope"].split(' ').any(|s| s == "openid"), "{p:?}");

    let r = follow(&browser, &s).await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);

    // clerk-js's sso-callback: the sign-in is transferable (a new person), and the sign-up it continues with
    // creates the user, with a session.
    let sid = callback(&browser, &s.sign_in_id).await;
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["last_active_session_id"], sid);
    let fapi_user = &client["response"]["sessions"][0]["user"];
    let user_id = fapi_user["id"].as_str().unwrap().to_owned();
    // The browser's user object shows the enterprise account too (no SAML account: this is OIDC).
    assert_eq!(fapi_user["enterprise_accounts"][0]["protocol"], "oauth", "{fapi_user}");
    assert_eq!(fapi_user["enterprise_accounts"][0]["enterprise_connection_id"], o.id.as_str());
    assert_eq!(fapi_user["saml_accounts"], json!([]));

    // The Backend API sees the user with a verified address, the IdP's names and the enterprise account.
    let u = app.get(&format!("/v1/users/{user_id}")).send().await.assert_status(200).json;
    assert_eq!(u["email_addresses"][0]["email_address"], EMAIL);
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Grace"), Some("Hopper")));
    let ea = &u["enterprise_accounts"][0];
    assert_eq!(ea["object"], "enterprise_account");
    assert_eq!(ea["protocol"], "oauth");
    assert_eq!(ea["provider"], "oidc_custom");
    assert_eq!(ea["enterprise_connection_id"], o.id.as_str());
    assert_eq!(ea["provider_user_id"], format!("idp-{EMAIL}"));
    assert_eq!(ea["last_authenticated_at"], T0);
    assert_eq!(u["saml_accounts"], json!([]));

    // A second sign-in finds the same user by the enterprise account.
    let browser2 = app.browser().await;
    let (id2, url2) = start(&browser2, &o, EMAIL).await;
    let again = o.idp.authorize(&url2, &Login::new(EMAIL));
    browser2.get(&again.callback).send().await.assert_status(303);
    callback(&browser2, &id2).await;
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_client_secret_is_sealed_at_rest() {
    let app = TestApp::with_clock(T0).await;
    let o = connection(&app, json!({})).await;
    let row = tessera_core::store::enterprise_connections::get(
        &app.ctx().db,
        &app.instance.id,
        tessera_core::store::enterprise_connections::By::Id,
        &o.id,
    )
    .await
    .unwrap()
    .unwrap();
    let sealed = row.oidc_client_secret.expect("sealed secret");
    assert!(!sealed.windows(CLIENT_SECRET.len()).any(|w| w == CLIENT_SECRET.as_bytes()), "not in plaintext");
}

#[tokio::test]
async fn an_existing_user_is_linked_when_the_idp_verified_the_address() {
    let app = TestApp::with_clock(T0).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
    let u = app.get(&format!("/v1/users/{}", existing["id"].as_str().unwrap())).send().await.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"].as_array().unwrap().len(), 1, "{u}");
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn es256_id_tokens_are_accepted() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.set_signing(Signing::Es256);
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
}

#[tokio::test]
async fn a_posted_callback_is_sent_on_to_the_get_with_its_parameters() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(s.authorized.callback.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
    let form: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = browser.post("/v1/oauth_callback", &form).send().await.assert_status(303);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("https://{}/v1/oauth_callback?code=", browser.host)), "{location}");
    let path = location.split_once(&browser.host).unwrap().1;
    browser.get(path).send().await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
}

#[tokio::test]
async fn the_legacy_saml_strategy_does_not_reach_an_oidc_connection() {
    let app = TestApp::with_clock(T0).await;
    connection(&app, json!({})).await;
    let browser = app.browser().await;
    browser
        .post("/v1/client/sign_ins", &[("strategy", "saml"), ("identifier", EMAIL), ("redirect_url", REDIRECT)])
        .send()
        .await
        .assert_error(422, "enterprise_sso_connection_not_found", Some("identifier"));
}
