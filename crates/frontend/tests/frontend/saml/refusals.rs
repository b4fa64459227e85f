//! The ACS's negative corpus: each response is refused with 400 `saml_response_invalid`, the sign-in it names
//! stays incomplete, and no session is opened.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::saml::{Signed, TestIdp};

use super::*;

/// An app with a connection and a started sign-in.
async fn started(app: &TestApp) -> (Connection, TestBrowser<'_>, Started) {
    let c = connection(app, json!({})).await;
    let browser = app.browser().await;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    (c, browser, s)
}

#[tokio::test]
async fn an_unsigned_assertion_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.signed = Signed::Nothing;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "neither the response nor the assertion is signed").await;
}

#[tokio::test]
async fn signature_wrapping_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let idp = TestIdp::new();
    // The IdP signed an assertion for Ada; the attacker keeps her signed assertion in the document and adds their
    // own in the place a naive consumer reads.
    let genuine = idp.response_xml(&assertion(&app, &c, &s, EMAIL));
    let start_a = genuine.find("<saml:Assertion").unwrap();
    let end_a = genuine.find("</samlp:Response>").unwrap();
    let signed_assertion = &genuine[start_a..end_a];
    let id = signed_assertion.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mut evil = assertion(&app, &c, &s, "mallory@acme.test");
    evil.id = id.clone();
    evil.signed = Signed::Nothing;
    let evil_xml = idp.response_xml(&evil);
    let evil_assertion =
        &evil_xml[evil_xml.find("<saml:Assertion").unwrap()..evil_xml.find("</samlp:Response>").unwrap()];
    // 1. Same ID: the evil assertion first, the signed one hidden in an extension.
    let wrapped = format!(
        "{}<samlp:Extensions>{signed_assertion}</samlp:Extensions>{evil_assertion}</samlp:Response>",
        &genuine[..start_a]
    );
    let r = post_acs(&browser, &c, &STANDARD.encode(&wrapped)).await;
    assert_refused(&browser, &s, r, "refused").await;
    // 2. The genuine signature moved onto the evil assertion (its reference still names the hidden one).
    let sig_start = signed_assertion.find("<ds:Signature").unwrap();
    let sig_end = signed_assertion.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &signed_assertion[sig_start..sig_end];
    let mut evil2 = assertion(&app, &c, &s, "mallory@acme.test");
    evil2.id = "_evil".into();
    evil2.signed = Signed::Nothing;
    let evil2_xml = idp.response_xml(&evil2);
    let evil2_assertion =
        &evil2_xml[evil2_xml.find("<saml:Assertion").unwrap()..evil2_xml.find("</samlp:Response>").unwrap()];
    let issuer_end = evil2_assertion.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    let moved = format!("{}{signature}{}", &evil2_assertion[..issuer_end], &evil2_assertion[issuer_end..]);
    let wrapped2 = format!(
        "{}<samlp:Extensions>{signed_assertion}</samlp:Extensions>{moved}</samlp:Response>",
        &genuine[..start_a]
    );
    let r = post_acs(&browser, &c, &STANDARD.encode(&wrapped2)).await;
    assert_refused(&browser, &s, r, "the Reference does not point at the signed element").await;
    // 3. Two assertions side by side: the signed one and the attacker's.
    let wrapped3 = format!("{}{signed_assertion}{evil2_assertion}</samlp:Response>", &genuine[..start_a]);
    let r = post_acs(&browser, &c, &STANDARD.encode(&wrapped3)).await;
    assert_refused(&browser, &s, r, "exactly one assertion").await;
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.audience = "https://another-sp.test/metadata".into();
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "another audience").await;
}

#[tokio::test]
async fn a_wrong_destination_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.destination = "https://another-sp.test/acs".into();
    a.signed = Signed::Response;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "destination is not this ACS").await;
    // The confirmation's recipient is checked as well (it is what a signed assertion alone vouches for).
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.recipient = Some("https://another-sp.test/acs".into());
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "recipient is not this ACS").await;
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let a = assertion(&app, &c, &s, EMAIL);
    // Past NotOnOrAfter by more than the tolerated skew (the request itself lives on).
    app.clock.advance_ms(5 * 60_000 + 2 * 60_000 + 1000);
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "expired").await;
}

#[tokio::test]
async fn a_not_yet_valid_assertion_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.not_before_ms = T0 + 10 * 60_000;
    a.not_on_or_after_ms = T0 + 20 * 60_000;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "not valid yet").await;
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let first = assertion(&app, &c, &s, EMAIL);
    let response = TestIdp::new().response(&first);
    post_acs(&browser, &c, &response).await.assert_status(303);
    // The same response again, from another browser that started its own sign-in.
    let other = app.browser().await;
    let s2 = start(&other, "enterprise_sso", EMAIL).await;
    let r = post_acs(&other, &c, &response).await;
    assert_refused(&other, &s2, r, "no pending request").await;
    // And the same assertion answering the new request is refused as used before.
    let mut a = assertion(&app, &c, &s2, EMAIL);
    a.id = first.id;
    let r = post_acs(&other, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&other, &s2, r, "used before (replay)").await;
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let r = post_acs(&browser, &c, &TestIdp::stranger().response(&assertion(&app, &c, &s, EMAIL))).await;
    assert_refused(&browser, &s, r, "does not verify with the IdP certificate").await;
}

#[tokio::test]
async fn a_tampered_attribute_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let xml = TestIdp::new().response_xml(&assertion(&app, &c, &s, EMAIL));
    let tampered = xml.replace(">Lovelace<", ">Byron<");
    assert_ne!(tampered, xml);
    let r = post_acs(&browser, &c, &STANDARD.encode(tampered)).await;
    assert_refused(&browser, &s, r, "digest does not match").await;
}

#[tokio::test]
async fn an_unknown_in_response_to_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.in_response_to = Some("_not_a_request_of_ours".into());
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "no pending request").await;
}

#[tokio::test]
async fn an_unsolicited_response_is_refused_unless_allowed() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, EMAIL);
    a.in_response_to = None;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "does not allow IdP-initiated").await;
}

#[tokio::test]
async fn an_address_outside_the_connection_domains_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (c, browser, s) = started(&app).await;
    let mut a = assertion(&app, &c, &s, "victim@other.test");
    a.attributes.retain(|(n, _)| n != "email");
    let r = post_acs(&browser, &c, &TestIdp::new().response(&a)).await;
    assert_refused(&browser, &s, r, "not in the connection's domains").await;
}

#[tokio::test]
async fn without_just_in_time_provisioning_an_unknown_user_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let c = connection(&app, json!({ "disable_jit_provisioning": true })).await;
    let browser = app.browser().await;
    let s = start(&browser, "enterprise_sso", EMAIL).await;
    let r = post_acs(&browser, &c, &TestIdp::new().response(&assertion(&app, &c, &s, EMAIL))).await;
    r.assert_error(403, "saml_jit_provisioning_disabled", None);
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
}
