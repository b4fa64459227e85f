//! Enterprise SSO on sign-ups through an OIDC connection: the attempt's external-account verification names the
//! IdP's authorization URL, and the callback completes the attempt with a new user and a session (or, for an existing
//! account, makes it transferable to a sign-in).

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::oidc::Login;

use super::*;

#[tokio::test]
async fn an_oidc_sign_up_provisions_the_user_and_ends_in_a_session() {
    let app = TestApp::with_clock(T0).await;
    let o = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let r = browser
        .post(
            "/v1/client/sign_ups",
            &[
                ("strategy", "enterprise_sso"),
                ("email_address", EMAIL),
                ("redirect_url", REDIRECT),
                ("action_complete_redirect_url", COMPLETE),
            ],
        )
        .send()
        .await
        .assert_status(200);
    let su = &r.json["response"];
    let id = su["id"].as_str().unwrap().to_owned();
    let v = &su["verifications"]["external_account"];
    assert_eq!((&v["object"], &v["status"]), (&json!("verification_saml"), &json!("unverified")), "{v}");
    let url = v["external_verification_redirect_url"].as_str().expect("the IdP's authorization URL");
    assert!(url.starts_with(&format!("{}/authorize?", o.idp.issuer)), "{url}");
    let authorized = o.idp.authorize(url, &Login::new(EMAIL));
    assert_eq!(authorized.params["login_hint"], EMAIL);
    let r = browser.get(&authorized.callback).send().await.assert_status(303);
    assert_eq!(r.headers["location"], REDIRECT);

    let su = browser.get(&format!("/v1/client/sign_ups/{id}")).send().await.assert_status(200).json;
    let su = &su["response"];
    assert_eq!(su["status"], "complete", "{su}");
    assert_eq!(su["verifications"]["external_account"]["status"], "verified");
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["last_active_session_id"], su["created_session_id"]);
    let u = app.get(&format!("/v1/users/{}", su["created_user_id"].as_str().unwrap())).send().await;
    let u = u.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"][0]["protocol"], "oauth");
    assert_eq!(u["enterprise_accounts"][0]["enterprise_connection_id"], o.id.as_str());
    // The state is spent: a second callback is refused.
    browser.get(&authorized.callback).send().await.assert_error(400, "oidc_callback_invalid", None);
}

#[tokio::test]
async fn an_oidc_sign_up_for_an_existing_account_transfers_to_a_sign_in() {
    let app = TestApp::with_clock(T0).await;
    let o = connection(&app, json!({})).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    let browser = app.browser().await;
    let r = browser
        .post(
            "/v1/client/sign_ups",
            &[("strategy", "enterprise_sso"), ("email_address", EMAIL), ("redirect_url", REDIRECT)],
        )
        .send()
        .await
        .assert_status(200);
    let su = &r.json["response"];
    let id = su["id"].as_str().unwrap().to_owned();
    let url = su["verifications"]["external_account"]["external_verification_redirect_url"].as_str().unwrap();
    let authorized = o.idp.authorize(url, &Login::new(EMAIL));
    browser.get(&authorized.callback).send().await.assert_status(303);

    let su = browser.get(&format!("/v1/client/sign_ups/{id}")).send().await.assert_status(200).json;
    let v = &su["response"]["verifications"]["external_account"];
    assert_eq!((&v["status"], &v["error"]["code"]), (&json!("transferable"), &json!("external_account_exists")), "{v}");
    let r = browser.post("/v1/client/sign_ins", &[("transfer", "true")]).send().await.assert_status(200);
    assert_eq!(r.json["response"]["status"], "complete", "{}", r.json);
    assert_eq!(r.json["client"]["sessions"][0]["user"]["id"], existing["id"]);
    let u = app.get(&format!("/v1/users/{}", existing["id"].as_str().unwrap())).send().await.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"][0]["protocol"], "oauth", "{u}");
}
