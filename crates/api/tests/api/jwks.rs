//! `GET /v1/jwks`.

use tessera_testkit::TestApp;

#[tokio::test]
async fn jwks_publishes_the_instance_rsa_key() {
    let app = TestApp::new().await;
    let r = app.get("/v1/jwks").send().await.assert_status(200);
    let keys = r.json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    // 2048-bit modulus: 256 bytes = 342 base64url characters without padding.
    assert_eq!(key["n"].as_str().unwrap().len(), 342);
}

#[tokio::test]
async fn signed_tokens_verify_against_the_published_key() {
    let app = TestApp::new().await;
    let claims = serde_json::json!({ "sub": "user_x", "iat": 1 });
    let token =
        tessera_core::keyring::sign_jwt(app.ctx(), &app.instance.id, &[("cat", "cl_test")], &claims).await.unwrap();
    let verified = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &token).await.expect("verifies");
    assert_eq!(verified.claims["sub"], "user_x");
    assert_eq!(verified.header["cat"], "cl_test");
    // Another instance's keyring does not verify it, and tampering breaks it.
    let (other, _) = app.create_instance(tessera_core::instances::Environment::Development).await;
    assert!(tessera_core::keyring::verify_jwt(app.ctx(), &other.id, &token).await.is_none());
    let mut tampered = token.clone();
    tampered.replace_range(token.len() - 5.., "AAAAA");
    assert!(tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &tampered).await.is_none());
}
