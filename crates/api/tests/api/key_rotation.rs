//! Signing-key rotation (`tessera keys rotate` calls `keyring::rotate`): the new key is published at once and
//! signs after the activation delay; the old one stays in the JWKS so that tokens signed before keep verifying
//! until they expire.

use serde_json::json;
use tessera_testkit::TestApp;

use crate::sessions::{decode, mint, user_and_session};

#[tokio::test]
async fn rotation_keeps_old_tokens_verifying() {
    // A manual clock (starting now) so that the test can pass the activation delay.
    let app = TestApp::with_clock(tessera_core::clock::Clock::System.now_ms()).await;
    let (_, sid) = user_and_session(&app, "r@example.com").await;
    let old = mint(&app, &sid, json!({ "expires_in_seconds": 3600 })).await;
    let old_kid = decode(&old).0["kid"].as_str().unwrap().to_owned();

    let new_kid = tessera_core::keyring::rotate(app.ctx(), &app.instance.id).await.unwrap();
    assert_ne!(new_kid, old_kid);
    let jwks = app.get("/v1/jwks").send().await.assert_status(200).json;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));

    // Published, but not signing yet: other nodes' cached JWKS may not show it.
    let still_old = mint(&app, &sid, json!({})).await;
    assert_eq!(decode(&still_old).0["kid"], old_kid.as_str());
    app.clock.advance_ms(tessera_core::keyring::ACTIVATION_DELAY_MS);
    let new = mint(&app, &sid, json!({})).await;
    assert_eq!(decode(&new).0["kid"], new_kid.as_str());
    for jwt in [&old, &still_old, &new] {
        tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.expect("verifies");
        app.post("/v1/clients/verify", json!({ "token": jwt })).send().await.assert_status(200);
    }
    // Another instance's keyring is untouched.
    let (other, _) = app.create_instance(tessera_core::instances::Environment::Development).await;
    assert!(tessera_core::keyring::verify_jwt(app.ctx(), &other.id, &new).await.is_none());
    let e = tessera_core::keyring::rotate(app.ctx(), "ins_nope").await.unwrap_err();
    assert_eq!(e.status(), 404);
}
