//! The callback's negative corpus: each answer is refused with 400 `oidc_callback_invalid` (or the status its
//! rule has), the sign-in it names still waits for its IdP, and no session or user is made.

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::oidc::{Login, Signing};

use super::*;

async fn with_signing(signing: Signing, why: &str) {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.set_signing(signing);
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, why).await;
}

async fn with_claims(claims: serde_json::Value, why: &str) {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.override_claims(claims);
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, why).await;
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    let forged = s.authorized.callback.replace("state=", "state=x");
    let r = browser.get(&forged).send().await;
    assert_refused(&browser, &s, r, "unknown or was used before").await;
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    follow(&browser, &s).await.assert_status(303);
    let r = follow(&browser, &s).await.assert_error(400, "oidc_callback_invalid", None);
    assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains("used before"), "{}", r.json);
}

#[tokio::test]
async fn a_failed_callback_spends_its_state() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.set_signing(Signing::OtherKey);
    follow(&browser, &s).await.assert_error(400, "oidc_callback_invalid", None);
    o.idp.set_signing(Signing::Rs256);
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, "used before").await;
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    with_claims(json!({ "nonce": "not-the-sign-ins" }), "nonce").await;
}

#[tokio::test]
async fn a_missing_nonce_is_refused() {
    with_claims(json!({ "nonce": null }), "nonce").await;
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    with_signing(Signing::BadSignature, "signature does not verify").await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    with_signing(Signing::OtherKey, "signature does not verify").await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    with_signing(Signing::AlgNone, "\"none\" is not accepted").await;
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    with_signing(Signing::Hs256WithPublicKey, "\"HS256\" is not accepted").await;
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    with_claims(json!({ "iss": "https://evil.example" }), "issuer").await;
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    with_claims(json!({ "aud": "another-client" }), "audience").await;
    with_claims(json!({ "aud": ["tessera-client", "another-client"] }), "audience").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let exp = (T0 - 2 * 60_000) / 1000;
    with_claims(json!({ "exp": exp, "iat": exp - 300 }), "expired").await;
}

#[tokio::test]
async fn a_token_from_the_future_is_refused() {
    let iat = (T0 + 10 * 60_000) / 1000;
    with_claims(json!({ "iat": iat, "exp": iat + 300 }), "future").await;
}

#[tokio::test]
async fn a_code_the_idp_refuses_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.refuse_codes();
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, "refused the authorization code (invalid_grant)").await;
}

#[tokio::test]
async fn an_idp_error_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    let state = &s.authorized.params["state"];
    let path = format!("/v1/oauth_callback?error=access_denied&error_description=Denied&state={state}");
    let r = browser.get(&path).send().await;
    assert_refused(&browser, &s, r, "access_denied: Denied").await;
}

#[tokio::test]
async fn an_expired_request_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    app.clock.advance_ms(11 * 60_000);
    let r = follow(&browser, &s).await.assert_error(400, "oidc_callback_invalid", None);
    assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains("expired"), "{}", r.json);
}

#[tokio::test]
async fn an_unverified_address_is_not_linked_to_an_existing_user() {
    let app = TestApp::with_clock(T0).await;
    let existing = app.post("/v1/users", json!({ "email_address": [EMAIL] })).send().await.assert_status(200).json;
    let login = Login { email_verified: false, ..Login::new(EMAIL) };
    let (_, browser, s) = started(&app, json!({}), &login).await;
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, "did not verify the e-mail address").await;
    let u = app.get(&format!("/v1/users/{}", existing["id"].as_str().unwrap())).send().await.assert_status(200).json;
    assert_eq!(u["enterprise_accounts"], json!([]));
}

#[tokio::test]
async fn an_address_outside_the_connection_domains_is_refused() {
    // The IdP signs in someone of another company than the address the sign-in started with.
    let app = TestApp::with_clock(T0).await;
    let o = connection(&app, json!({})).await;
    let browser = app.browser().await;
    let (sign_in_id, url) = start(&browser, &o, EMAIL).await;
    let authorized = o.idp.authorize(&url, &Login::new("victim@other.test"));
    let s = Started { sign_in_id, authorized };
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, "not in the connection's domains").await;
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
}

#[tokio::test]
async fn a_disabled_connection_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    app.patch(&format!("/v1/enterprise_connections/{}", o.id), json!({ "active": false }))
        .send()
        .await
        .assert_status(200);
    follow(&browser, &s).await.assert_error(403, "authorization_invalid", None);
    assert_eq!(sign_in(&browser, &s.sign_in_id).await["status"], "needs_first_factor");
    // And no new sign-in starts through it.
    browser
        .post(
            "/v1/client/sign_ins",
            &[("strategy", "enterprise_sso"), ("identifier", EMAIL), ("redirect_url", REDIRECT)],
        )
        .send()
        .await
        .assert_error(422, "enterprise_sso_connection_not_found", Some("identifier"));
}

#[tokio::test]
async fn without_just_in_time_provisioning_sign_up_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({ "disable_jit_provisioning": true }), &Login::new(EMAIL)).await;
    follow(&browser, &s).await.assert_error(403, "saml_jit_provisioning_disabled", None);
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
    assert_eq!(sign_in(&browser, &s.sign_in_id).await["status"], "needs_first_factor");
}
