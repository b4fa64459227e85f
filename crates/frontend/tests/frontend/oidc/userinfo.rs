//! ID tokens that carry only the subject (or lack a name): the callback completes them from the IdP's userinfo
//! endpoint, with the access token, never replacing a claim the ID token carries, and only with an answer about the
//! ID token's subject.

use serde_json::json;
use tessera_testkit::TestApp;
use tessera_testkit::oidc::Login;

use super::*;

#[tokio::test]
async fn an_id_token_with_only_the_subject_is_completed_from_userinfo() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.override_claims(json!({ "email": null, "email_verified": null, "given_name": null, "family_name": null }));
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
    let users = app.get("/v1/users").send().await.assert_status(200).json;
    let u = &users[0];
    assert_eq!(u["email_addresses"][0]["email_address"], EMAIL);
    assert_eq!(u["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Grace"), Some("Hopper")));
}

#[tokio::test]
async fn userinfo_never_replaces_a_claim_of_the_id_token() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    // The ID token lacks the names, so userinfo is read; its other address does not replace the token's.
    o.idp.override_claims(json!({ "given_name": null, "family_name": null }));
    o.idp.override_userinfo(json!({ "email": "mallory@acme.test", "given_name": "Ada" }));
    follow(&browser, &s).await.assert_status(303);
    callback(&browser, &s.sign_in_id).await;
    let u = &app.get("/v1/users").send().await.assert_status(200).json[0];
    assert_eq!(u["email_addresses"][0]["email_address"], EMAIL);
    assert_eq!((u["first_name"].as_str(), u["last_name"].as_str()), (Some("Ada"), Some("Hopper")));
}

#[tokio::test]
async fn a_userinfo_answer_about_another_subject_is_refused() {
    let app = TestApp::with_clock(T0).await;
    let (o, browser, s) = started(&app, json!({}), &Login::new(EMAIL)).await;
    o.idp.override_claims(json!({ "email": null }));
    o.idp.override_userinfo(json!({ "sub": "someone-else", "email": "mallory@acme.test" }));
    let r = follow(&browser, &s).await;
    assert_refused(&browser, &s, r, "another subject").await;
    assert_eq!(app.get("/v1/users").send().await.assert_status(200).json, json!([]));
}
