//! Enterprise SSO through OIDC (Tessera as the relying party): clerk-js's `enterprise_sso` sign-in from the
//! e-mail address's domain to a test IdP and back through `/v1/oauth_callback` into a session (`flows.rs`), and
//! the callback's negative corpus (`refusals.rs`, one test per case).

mod binding;
mod cache;
mod flows;
mod refusals;
mod sign_ups;
mod userinfo;

use serde_json::{Value, json};
use tessera_testkit::oidc::{Authorized, CLIENT_ID, CLIENT_SECRET, Login, TestOidcIdp};
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

pub use crate::T0;

pub const DOMAIN: &str = "acme.test";
pub const EMAIL: &str = "grace@acme.test";
pub const REDIRECT: &str = "http://localhost:3000/sso-callback";
pub const COMPLETE: &str = "http://localhost:3000/dashboard";

/// An active OIDC connection for [`DOMAIN`] and the IdP it trusts.
pub struct Oidc {
    /// `ec_…`
    pub id: String,
    /// The running IdP.
    pub idp: TestOidcIdp,
}

/// Creates the connection (`extra` is merged into the create body); the client secret is never echoed.
pub async fn connection(app: &TestApp, extra: Value) -> Oidc {
    let idp = TestOidcIdp::start(app.clock.clone()).await;
    let mut body = json!({
        "name": "Acme OIDC",
        "provider": "oidc_custom",
        "domains": [DOMAIN],
        "active": true,
        "oidc": { "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "discovery_url": idp.discovery_url() },
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let c = app.post("/v1/enterprise_connections", body).send().await.assert_status(201).json;
    assert!(!c.to_string().contains(CLIENT_SECRET), "the secret is never shown: {c}");
    assert_eq!(c["oauth_config"]["client_id"], CLIENT_ID);
    Oidc { id: c["id"].as_str().unwrap().to_owned(), idp }
}

/// clerk-js's `authenticateWithRedirect({strategy: "enterprise_sso"})`: the sign-in is created with the address
/// and its verification names the IdP's authorization URL. Returns the sign-in's id and that URL.
pub async fn start(browser: &TestBrowser<'_>, o: &Oidc, email: &str) -> (String, String) {
    let r = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("strategy", "enterprise_sso"),
                ("identifier", email),
                ("redirect_url", REDIRECT),
                ("action_complete_redirect_url", COMPLETE),
            ],
        )
        .send()
        .await
        .assert_status(200);
    let si = &r.json["response"];
    let v = &si["first_factor_verification"];
    assert_eq!(v["status"], "unverified", "{v}");
    let url = v["external_verification_redirect_url"].as_str().expect("external_verification_redirect_url");
    assert!(url.starts_with(&format!("{}/authorize?", o.idp.issuer)), "{url}");
    (si["id"].as_str().unwrap().to_owned(), url.to_owned())
}

/// A started sign-in whose IdP has signed `login` in: what the browser follows back.
pub struct Started {
    /// The sign-in.
    pub sign_in_id: String,
    /// The IdP's answer.
    pub authorized: Authorized,
}

/// Connection, browser, and a sign-in of `login` that the IdP has answered.
pub async fn started<'a>(app: &'a TestApp, extra: Value, login: &Login) -> (Oidc, TestBrowser<'a>, Started) {
    let o = connection(app, extra).await;
    let browser = app.browser().await;
    let (sign_in_id, url) = start(&browser, &o, &login.email).await;
    let authorized = o.idp.authorize(&url, login);
    (o, browser, Started { sign_in_id, authorized })
}

/// The browser follows the IdP back to the callback.
pub async fn follow(browser: &TestBrowser<'_>, s: &Started) -> TestResponse {
    browser.get(&s.authorized.callback).send().await
}

pub use crate::saml::callback;

/// The sign-in as the browser's client sees it.
pub async fn sign_in(browser: &TestBrowser<'_>, id: &str) -> Value {
    browser.get(&format!("/v1/client/sign_ins/{id}")).send().await.assert_status(200).json["response"].clone()
}

/// A refused callback: 400 `oidc_callback_invalid` naming `why`; the sign-in still waits, without a session.
pub async fn assert_refused(browser: &TestBrowser<'_>, s: &Started, r: TestResponse, why: &str) {
    let r = r.assert_error(400, "oidc_callback_invalid", None);
    let long = r.json["errors"][0]["long_message"].as_str().unwrap_or_default();
    assert!(long.contains(why), "expected a refusal for {why:?}, got {long:?}");
    let si = sign_in(browser, &s.sign_in_id).await;
    assert_eq!(si["status"], "needs_first_factor", "{si}");
    assert!(si["created_session_id"].is_null(), "{si}");
}
