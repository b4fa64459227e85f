//! Enterprise SSO through SAML: SP metadata, clerk-js's `enterprise_sso` (and `saml`) sign-in from the e-mail
//! address's domain to the IdP and back through the ACS into a session, just-in-time users, linking, organization
//! membership, and the ACS's negative corpus (`refusals.rs`, one test per case).

mod binding;
mod flows;
mod idp_initiated;
mod refusals;
mod sign_ups;

use serde_json::{Value, json};
use tessera_testkit::saml::{Assertion, IDP_ENTITY_ID, IDP_SSO_URL, TestIdp, read_request};
use tessera_testkit::{TestApp, TestBrowser, TestResponse};

pub use crate::T0;

pub const DOMAIN: &str = "acme.test";
pub const EMAIL: &str = "ada@acme.test";
pub const REDIRECT: &str = "http://localhost:3000/sso-callback";
pub const COMPLETE: &str = "http://localhost:3000/dashboard";

/// An active SAML connection for [`DOMAIN`] trusting [`TestIdp`]; `extra` is merged into the create body.
pub struct Connection {
    /// `ec_…`
    pub id: String,
    /// `samlc_…`
    pub saml_id: String,
    /// The audience its assertions must name (`sp_entity_id`).
    pub sp_entity_id: String,
}

pub async fn connection(app: &TestApp, extra: Value) -> Connection {
    connection_in(app, None, extra).await
}

/// [`connection`] in the instance of the secret key `key` (the first instance's without one).
pub async fn connection_in(app: &TestApp, key: Option<&str>, extra: Value) -> Connection {
    let idp = TestIdp::new();
    let mut body = json!({
        "name": "Acme SSO",
        "provider": "saml_custom",
        "domains": [DOMAIN],
        "active": true,
        "saml": { "idp_entity_id": IDP_ENTITY_ID, "idp_sso_url": IDP_SSO_URL, "idp_certificate": idp.certificate },
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let mut create = app.post("/v1/enterprise_connections", body);
    if let Some(key) = key {
        create = create.bearer(key);
    }
    let c = create.send().await.assert_status(201).json;
    Connection {
        id: c["id"].as_str().unwrap().to_owned(),
        saml_id: c["saml_connection"]["id"].as_str().unwrap().to_owned(),
        sp_entity_id: c["saml_connection"]["sp_entity_id"].as_str().unwrap().to_owned(),
    }
}

/// A started SP-initiated sign-in: what the IdP got from the browser.
pub struct Started {
    /// The sign-in.
    pub sign_in_id: String,
    /// The AuthnRequest's ID.
    pub request_id: String,
    /// The ACS URL it named.
    pub acs_url: String,
}

/// clerk-js's `authenticateWithRedirect({strategy})`: create with the identifier, then prepare; the browser is
/// sent to the IdP.
pub async fn start(browser: &TestBrowser<'_>, strategy: &str, email: &str) -> Started {
    let r = browser
        .post(
            "/v1/client/sign_ins",
            &[
                ("strategy", strategy),
                ("identifier", email),
                ("redirect_url", REDIRECT),
                ("action_complete_redirect_url", COMPLETE),
            ],
        )
        .send()
        .await
        .assert_status(200);
    let sign_in_id = r.json["response"]["id"].as_str().unwrap().to_owned();
    let r = browser
        .post(
            &format!("/v1/client/sign_ins/{sign_in_id}/prepare_first_factor"),
            &[("strategy", strategy), ("redirect_url", REDIRECT), ("action_complete_redirect_url", COMPLETE)],
        )
        .send()
        .await
        .assert_status(200);
    let v = &r.json["response"]["first_factor_verification"];
    assert_eq!(v["object"], "verification_saml", "{v}");
    assert_eq!(v["status"], "unverified", "{v}");
    let url = v["external_verification_redirect_url"].as_str().expect("external_verification_redirect_url");
    assert!(url.starts_with(&format!("{IDP_SSO_URL}?SAMLRequest=")), "{url}");
    let (request_id, acs_url, relay) = read_request(url);
    assert_eq!(relay.as_deref(), Some(sign_in_id.as_str()));
    Started { sign_in_id, request_id, acs_url }
}

/// A valid assertion for `email` answering `s`.
pub fn assertion(app: &TestApp, c: &Connection, s: &Started, email: &str) -> Assertion {
    Assertion::new(&s.request_id, email, &c.sp_entity_id, &s.acs_url, app.clock.now_ms())
}

/// The IdP's page posts `saml_response` to the ACS.
pub async fn post_acs(browser: &TestBrowser<'_>, c: &Connection, saml_response: &str) -> TestResponse {
    browser.post(&format!("/v1/saml/acs/{}", c.saml_id), &[("SAMLResponse", saml_response)]).send().await
}

/// The sign-in as the browser's client sees it.
pub async fn sign_in(browser: &TestBrowser<'_>, id: &str) -> Value {
    browser.get(&format!("/v1/client/sign_ins/{id}")).send().await.assert_status(200).json["response"].clone()
}

/// A refused response: 400 `saml_response_invalid`, and the sign-in still waits for its IdP.
pub async fn assert_refused(browser: &TestBrowser<'_>, s: &Started, r: TestResponse, why: &str) {
    let r = r.assert_error(400, "saml_response_invalid", None);
    let long = r.json["errors"][0]["long_message"].as_str().unwrap_or_default();
    assert!(long.contains(why), "expected a refusal for {why:?}, got {long:?}");
    let si = sign_in(browser, &s.sign_in_id).await;
    assert_eq!(si["status"], "needs_first_factor", "{si}");
    assert!(si["created_session_id"].is_null(), "{si}");
}

/// clerk-js's `sso-callback` (`handleRedirectCallback`) after the IdP's answer: the sign-in is complete, or — a
/// person without an account — transferable, and `signUp.create({transfer: true})` signs them up. Returns the
/// session the browser ends with.
pub async fn callback(browser: &TestBrowser<'_>, sign_in_id: &str) -> String {
    let si = sign_in(browser, sign_in_id).await;
    if si["status"] == "complete" {
        return si["created_session_id"].as_str().expect("a session").to_owned();
    }
    let v = &si["first_factor_verification"];
    let transferable = (&v["status"], &v["error"]["code"]);
    assert_eq!(transferable, (&json!("transferable"), &json!("external_account_not_found")), "{si}");
    let r = browser.post("/v1/client/sign_ups", &[("transfer", "true")]).send().await.assert_status(200);
    let su = &r.json["response"];
    assert_eq!(su["status"], "complete", "{su}");
    su["created_session_id"].as_str().expect("a session").to_owned()
}
