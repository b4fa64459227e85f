//! IdP-initiated sign-in, where a connection allows it: the ACS verifies the unsolicited response like any other,
//! spends its assertion id, and sends the arriving browser to a one-time ticket link that signs it in on its own
//! client.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::saml::{Assertion, TestIdp};
use tessera_testkit::{TestApp, TestResponse};

use super::*;

/// Allows IdP-initiated sign-in on `c` (in the instance of `key`, the first one's without).
async fn allow(app: &TestApp, key: Option<&str>, c: &Connection) {
    let mut r =
        app.patch(&format!("/v1/enterprise_connections/{}", c.id), json!({ "saml": { "allow_idp_initiated": true } }));
    if let Some(key) = key {
        r = r.bearer(key);
    }
    let c = r.send().await.assert_status(200).json;
    assert_eq!(c["saml_connection"]["allow_idp_initiated"], true, "{c}");
}

/// An unsolicited response for `email` (no `InResponseTo`), addressed to the ACS on `host`.
fn unsolicited(app: &TestApp, c: &Connection, host: &str, email: &str) -> String {
    let acs = format!("https://{host}/v1/saml/acs/{}", c.saml_id);
    let mut a = Assertion::new("_unused", email, &c.sp_entity_id, &acs, app.clock.now_ms());
    a.in_response_to = None;
    TestIdp::new().response(&a)
}

/// The path and query of the ticket link the ACS sent the browser to.
fn ticket_link(browser: &TestBrowser<'_>, r: &TestResponse) -> String {
    let location = url::Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.host_str(), Some(browser.host.as_str()), "{location}");
    assert_eq!(location.path(), "/v1/tickets/accept", "{location}");
    assert!(location.query_pairs().any(|(k, v)| k == "ticket" && v.len() >= 40), "{location}");
    format!("{}?{}", location.path(), location.query().unwrap_or_default())
}

#[tokio::test]
async fn an_allowed_unsolicited_response_signs_the_arriving_browser_in_through_a_one_time_ticket() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({})).await;
    allow(&app, None, &c).await;
    let browser = app.browser().await;
    let response = unsolicited(&app, &c, &browser.host, EMAIL);
    let r = post_acs(&browser, &c, &response).await.assert_status(303);
    let link = ticket_link(&browser, &r);
    // The user exists with the enterprise account already; the session is the ticket's.
    let users = app.get("/v1/users").send().await.assert_status(200).json;
    assert_eq!(users[0]["enterprise_accounts"][0]["enterprise_connection_id"], c.id.as_str(), "{users}");
    let user_id = users[0]["id"].as_str().unwrap().to_owned();
    browser.get(&link).send().await.assert_status(303);
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    let sessions = &client["response"]["sessions"];
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{client}");
    assert_eq!(sessions[0]["user"]["id"], user_id.as_str());
    assert_eq!(sessions[0]["user"]["enterprise_accounts"][0]["email_address"], EMAIL);

    // The ticket is one-time, and the assertion too.
    let other = app.browser().await;
    other.get(&link).send().await.assert_error(400, "token_invalid", None);
    let r = post_acs(&other, &c, &response).await.assert_error(400, "saml_response_invalid", None);
    assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains("replay"), "{}", r.json);
    let other_client = other.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(other_client["response"]["sessions"], json!([]));
}

#[tokio::test]
async fn production_needs_no_repost_and_the_ticket_signs_in_the_browsers_own_client() {
    let app = TestApp::with_clock(T0).await;
    let (prod, key) = app.create_instance(Environment::Production).await;
    let c = connection_in(&app, Some(&key), json!({})).await;
    allow(&app, Some(&key), &c).await;
    let mut browser = app.browser_for(&prod).await;
    browser.origin = None;
    let client_id = browser.post("/v1/client", &[]).send().await.assert_status(200).json["response"]["id"].clone();
    // The IdP's cross-site POST comes without the cookie: the answer is the ticket link at once.
    let mut idp_post = app.browser_for(&prod).await;
    idp_post.origin = None;
    let r = post_acs(&idp_post, &c, &unsolicited(&app, &c, &browser.host, EMAIL)).await.assert_status(303);
    let link = ticket_link(&browser, &r);
    // The redirect is a top-level GET, which carries the browser's cookie: its own client is signed in.
    browser.get(&link).send().await.assert_status(303);
    let client = browser.get("/v1/client").send().await.assert_status(200).json;
    assert_eq!(client["response"]["id"], client_id);
    assert_eq!(client["response"]["sessions"][0]["user"]["enterprise_accounts"][0]["email_address"], EMAIL);
}
