//! The callback completes a sign-in only in the browser that started it (login CSRF / session fixation): a
//! `__client` cookie must reach the request's client, production instances require it, and a refusal spends
//! nothing.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_core::store::oidc_requests::{self, OidcRequestRow};
use tessera_testkit::TestApp;
use tessera_testkit::oidc::Login;

use super::*;

const NOT_THIS_BROWSER: &str = "not the one that started the sign-in";

#[tokio::test]
async fn development_refuses_another_clients_cookie_and_an_unknown_one_then_completes_without_one() {
    let app = TestApp::with_clock(T0).await;
    let (_, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    // The victim's browser (another client of the instance) follows the attacker's IdP link back.
    let victim = app.browser().await;
    let cookie = format!("__client={}", victim.dev_browser.clone().unwrap());
    let r = victim.get(&s.authorized.callback).header("cookie", &cookie).send().await;
    assert_refused(&browser, &s, r, NOT_THIS_BROWSER).await;
    let victim_client = victim.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(victim_client["response"]["sessions"], json!([]), "{victim_client}");
    let r = victim.get(&s.authorized.callback).header("cookie", "__client=clt_unknown").send().await;
    assert_refused(&browser, &s, r, NOT_THIS_BROWSER).await;
    // Nothing was spent; a development browser carries no cookie back from the IdP, and completes.
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
}

#[tokio::test]
async fn production_requires_the_cookie_of_the_client_that_started_the_sign_in() {
    let app = TestApp::with_clock(T0).await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let idp = TestOidcIdp::start(app.clock.clone()).await;
    let body = json!({
        "name": "Acme OIDC",
        "provider": "oidc_custom",
        "domains": [DOMAIN],
        "active": true,
        "oidc": { "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "discovery_url": idp.discovery_url() },
    });
    let c = app.post("/v1/enterprise_connections", body).bearer(&key).send().await.assert_status(201).json;
    let mut owner = app.browser_for(&prod).await;
    owner.origin = None;
    let client = owner.post("/v1/client", &[]).send().await.assert_status(200).json;
    let client_id = client["response"]["id"].as_str().unwrap().to_owned();
    // A production instance cannot reach the suite's loopback IdP to start a sign-in, so its authorization request
    // is recorded as the sign-in would have recorded it.
    let ctx = app.ctx();
    let state = "state-of-the-owners-sign-in";
    let row = OidcRequestRow {
        id: "oidcr_binding".into(),
        instance_id: prod.id.clone(),
        connection_id: c["id"].as_str().unwrap().to_owned(),
        state_hash: ctx.secrets.digest(state),
        nonce_hash: ctx.secrets.digest("nonce"),
        code_verifier: ctx.secrets.seal("oidc_request.code_verifier", b"verifier"),
        sign_in_id: Some("sia_binding".into()),
        client_id: Some(client_id),
        callback_url: format!("https://{}/v1/oauth_callback", owner.host),
        redirect_url: Some(REDIRECT.into()),
        expires_at: T0 + 600_000,
        created_at: T0,
        ..Default::default()
    };
    let mut tx = ctx.db.begin().await.unwrap();
    oidc_requests::insert(&mut tx, &row).await.unwrap();
    tx.commit().await.unwrap();
    let callback = format!("/v1/oauth_callback?code=the-code&state={state}");
    let pending = || async { oidc_requests::pending(&ctx.db, &prod.id, &row.state_hash).await.unwrap().is_some() };

    let mut other = app.browser_for(&prod).await;
    other.origin = None;
    let r = other.get(&callback).send().await.assert_error(400, "oidc_callback_invalid", None);
    let long = r.json["errors"][0]["long_message"].as_str().unwrap();
    assert!(long.contains("arrived without its client"), "{long}");
    other.post("/v1/client", &[]).send().await.assert_status(200);
    let r = other.get(&callback).send().await.assert_error(400, "oidc_callback_invalid", None);
    assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains(NOT_THIS_BROWSER), "{}", r.json);
    let mut stranger = app.browser_for(&prod).await;
    stranger.origin = None;
    let r = stranger.get(&callback).header("cookie", "__client=clt_unknown").send().await;
    let r = r.assert_error(400, "oidc_callback_invalid", None);
    assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains(NOT_THIS_BROWSER), "{}", r.json);
    assert!(pending().await, "a refused browser spends nothing");

    // The owner's cookie passes: the request is spent, and the answer goes on to the IdP (which a production
    // instance may not reach on a loopback address).
    owner.get(&callback).send().await.assert_error(400, "enterprise_sso_idp_unavailable", None);
    assert!(!pending().await, "spent");
}
