//! JWT templates: create/list/get/update/delete with their validation, and tokens minted from a template —
//! shortcodes rendered with their JSON types, reserved claims, lifetime and clock skew, the instance keyring and
//! custom HMAC / RSA / ECDSA keys (sealed, never returned), instance isolation.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use crate::sessions::{decode, user_and_session};
use crate::users::T0;

async fn create(app: &TestApp, body: Value) -> Value {
    app.post("/v1/jwt_templates", body).send().await.assert_status(200).json
}

async fn mint(app: &TestApp, sid: &str, name: &str, body: Value) -> String {
    let r = app.post(&format!("/v1/sessions/{sid}/tokens/{name}"), body).send().await.assert_status(200).json;
    assert_eq!(r["object"], "token");
    r["jwt"].as_str().unwrap().to_owned()
}

fn pem(label: &str, der: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(der))
}

fn split(jwt: &str) -> (String, Vec<u8>) {
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    (input.to_owned(), URL_SAFE_NO_PAD.decode(sig).unwrap())
}

#[tokio::test]
async fn crud_and_defaults() {
    let app = TestApp::with_clock(T0).await;
    let t = create(&app, json!({ "name": "hasura", "claims": { "aud": "x" } })).await;
    let id = t["id"].as_str().unwrap();
    assert!(id.starts_with("jtmp_"), "{id}");
    assert_eq!(
        t,
        json!({
            "object": "jwt_template", "id": id, "name": "hasura", "claims": { "aud": "x" }, "lifetime": 60,
            "allowed_clock_skew": 5, "custom_signing_key": false, "signing_algorithm": "RS256",
            "created_at": T0, "updated_at": T0,
        })
    );
    assert_eq!(app.get(&format!("/v1/jwt_templates/{id}")).send().await.assert_status(200).json, t);

    app.clock.advance_ms(1000);
    let second = create(&app, json!({ "name": "b", "claims": {}, "lifetime": 3600, "allowed_clock_skew": 0 })).await;
    assert_eq!((second["lifetime"].as_i64(), second["allowed_clock_skew"].as_i64()), (Some(3600), Some(0)));
    let list = app.get("/v1/jwt_templates").send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], id);
    let page = app.get("/v1/jwt_templates?paginated=true&limit=1&offset=1").send().await.assert_status(200).json;
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"][0]["id"], second["id"]);

    // Update: absent lifetime keeps it, null resets it; name and claims replace.
    app.clock.advance_ms(1000);
    let path = format!("/v1/jwt_templates/{}", second["id"].as_str().unwrap());
    let u = app.patch(&path, json!({ "name": "b2", "claims": { "k": 1 } })).send().await.assert_status(200).json;
    assert_eq!(
        (u["name"].as_str(), u["lifetime"].as_i64(), u["updated_at"].as_i64()),
        (Some("b2"), Some(3600), Some(T0 + 2000))
    );
    assert_eq!(u["claims"], json!({ "k": 1 }));
    let u = app
        .patch(&path, json!({ "name": "b2", "claims": {}, "lifetime": null, "allowed_clock_skew": 30 }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!((u["lifetime"].as_i64(), u["allowed_clock_skew"].as_i64()), (Some(60), Some(30)));
    app.patch(&path, json!({ "name": "hasura", "claims": {} })).send().await.assert_error(
        422,
        "form_identifier_exists",
        Some("name"),
    );

    let d = app.delete(&path).send().await.assert_status(200).json;
    assert_eq!(d, json!({ "object": "jwt_template", "id": second["id"], "deleted": true }));
    app.get(&path).send().await.assert_error(404, "resource_not_found", None);
    app.delete(&path).send().await.assert_error(404, "resource_not_found", None);
    app.patch(&path, json!({ "name": "x", "claims": {} })).send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn validation_errors() {
    let app = TestApp::new().await;
    let post = |body: Value| app.post("/v1/jwt_templates", body).send();
    post(json!({ "claims": {} })).await.assert_error(422, "form_param_missing", Some("name"));
    post(json!({ "name": "  ", "claims": {} })).await.assert_error(422, "form_param_missing", Some("name"));
    post(json!({ "name": "a" })).await.assert_error(422, "form_param_missing", Some("claims"));
    post(json!({ "name": "a", "claims": [1] })).await.assert_error(422, "form_param_format_invalid", Some("claims"));
    for reserved in ["sub", "iss", "exp", "iat", "nbf", "jti", "azp"] {
        let r = post(json!({ "name": "a", "claims": { reserved: "x" } })).await;
        r.assert_error(400, "jwt_template_reserved_claim", Some("claims"));
    }
    post(json!({ "name": "a", "claims": {}, "lifetime": 29 })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("lifetime"),
    );
    post(json!({ "name": "a", "claims": {}, "allowed_clock_skew": 301 })).await.assert_error(
        422,
        "form_param_value_invalid",
        Some("allowed_clock_skew"),
    );
    post(json!({ "name": "a", "claims": {}, "custom_signing_key": true })).await.assert_error(
        422,
        "form_param_missing",
        Some("signing_algorithm"),
    );
    post(json!({ "name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256" }))
        .await
        .assert_error(422, "form_param_missing", Some("signing_key"));
    post(json!({ "name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "none", "signing_key": "k" }))
        .await
        .assert_error(422, "form_param_value_invalid", Some("signing_algorithm"));
    post(json!({ "name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "short" }))
        .await
        .assert_error(422, "form_param_value_invalid", Some("signing_key"));
    post(json!({ "name": "a", "claims": {}, "custom_signing_key": true, "signing_algorithm": "RS256", "signing_key": "x".repeat(40) }))
        .await
        .assert_error(422, "form_param_value_invalid", Some("signing_key"));
    post(json!({ "name": 5, "claims": {} })).await.assert_status(422);
    create(&app, json!({ "name": "a", "claims": {} })).await;
    post(json!({ "name": "a", "claims": {} })).await.assert_error(422, "form_identifier_exists", Some("name"));
    // Nothing half-written.
    let list = app.get("/v1/jwt_templates").send().await.assert_status(200).json;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn shortcodes_render_with_their_types() {
    let app = TestApp::with_clock(T0).await;
    let (user, sid) = user_and_session(&app, "ada@example.com").await;
    app.patch(
        &format!("/v1/users/{user}"),
        json!({ "first_name": "Ada", "public_metadata": { "plan": "pro", "seats": 3, "flags": { "beta": true } } }),
    )
    .send()
    .await
    .assert_status(200);
    let claims = json!({
        "aud": "https://api.example.com",
        "uid": "{{user.id}}",
        "name": "{{user.first_name}}",
        "greeting": "Hello {{user.first_name}} ({{user.public_metadata.plan}})",
        "last": "{{user.last_name}}",
        "last_or": "{{user.last_name || 'Unknown'}}",
        "email": "{{user.primary_email_address}}",
        "email_verified": "{{user.email_verified}}",
        "seats": "{{user.public_metadata.seats}}",
        "flags": "{{user.public_metadata.flags}}",
        "missing": "{{user.public_metadata.nope}}",
        "actor": "{{session.actor}}",
        "org": "{{org.id}}",
        "static": [1, true, { "nested": "{{user.id}}" }],
    });
    create(&app, json!({ "name": "custom", "claims": claims, "lifetime": 120, "allowed_clock_skew": 7 })).await;
    app.clock.advance_ms(3000);
    let jwt = mint(&app, &sid, "custom", json!({})).await;
    let (header, c) = decode(&jwt);
    assert_eq!(header["alg"], "RS256");
    // The template category: `@clerk/backend` refuses it as a session token.
    assert_eq!(header["cat"], "cl_B7d4PD222AAA");
    let jwks = app.get("/v1/jwks").send().await.assert_status(200).json;
    assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
    tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &jwt).await.expect("instance key verifies");
    let now = (T0 + 3000) / 1000;
    let jti = c["jti"].as_str().unwrap().to_owned();
    assert_eq!(jti.len(), 20);
    assert_eq!(
        c,
        json!({
            "aud": "https://api.example.com", "uid": user, "name": "Ada", "greeting": "Hello Ada (pro)",
            "last": null, "last_or": "Unknown", "email": "ada@example.com", "email_verified": true, "seats": 3,
            "flags": { "beta": true }, "missing": null, "actor": null, "org": null,
            "static": [1, true, { "nested": user }],
            "exp": now + 120, "iat": now, "nbf": now - 7, "sub": user, "jti": jti,
            "iss": format!("https://{}", app.instance.frontend_host()),
        })
    );
    // expires_in_seconds overrides the template's lifetime; each token has its own jti.
    let jwt2 = mint(&app, &sid, "custom", json!({ "expires_in_seconds": 600 })).await;
    let (_, c2) = decode(&jwt2);
    assert_eq!(c2["exp"], now + 600);
    assert_ne!(c2["jti"], c["jti"]);
}

#[tokio::test]
async fn template_token_errors() {
    let app = TestApp::with_clock(T0).await;
    let (_, sid) = user_and_session(&app, "e@example.com").await;
    create(&app, json!({ "name": "t", "claims": {} })).await;
    app.post(&format!("/v1/sessions/{sid}/tokens/nope"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    app.post("/v1/sessions/sess_nope/tokens/t", json!({})).send().await.assert_error(404, "resource_not_found", None);
    // An out-of-range expires_in_seconds is a 422, which this operation's spec does not declare (as for
    // CreateSessionToken, the bound is covered by the core test of `token_lifetime`).
    app.post(&format!("/v1/sessions/{sid}/revoke"), json!({})).send().await.assert_status(200);
    app.post(&format!("/v1/sessions/{sid}/tokens/t"), json!({})).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );

    // Another instance sees neither the session nor the template.
    let (_, key_b) = app.create_instance(Environment::Development).await;
    let (_, sid2) = user_and_session(&app, "f@example.com").await;
    app.post(&format!("/v1/sessions/{sid2}/tokens/t"), json!({})).bearer(&key_b).send().await.assert_error(
        404,
        "resource_not_found",
        None,
    );
    let list = app.get("/v1/jwt_templates").bearer(&key_b).send().await.assert_status(200).json;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn custom_signing_keys() {
    let app = TestApp::with_clock(T0).await;
    let (user, sid) = user_and_session(&app, "k@example.com").await;

    // HMAC: the key is sealed, never returned, and signs.
    let secret = "a-very-long-shared-secret-of-32-bytes!";
    let t = create(
        &app,
        json!({ "name": "hs", "claims": { "u": "{{user.id}}" }, "custom_signing_key": true,
                "signing_algorithm": "HS384", "signing_key": secret }),
    )
    .await;
    assert_eq!((t["custom_signing_key"].as_bool(), t["signing_algorithm"].as_str()), (Some(true), Some("HS384")));
    assert!(!t.to_string().contains(secret));
    crate::machines::assert_not_in_database(&app, &[secret]).await;
    let jwt = mint(&app, &sid, "hs", json!({})).await;
    let (header, c) = decode(&jwt);
    assert_eq!(header, json!({ "alg": "HS384", "typ": "JWT" }));
    assert_eq!(c["u"], user.as_str());
    let (input, sig) = split(&jwt);
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA384, secret.as_bytes()), input.as_bytes(), &sig).expect("HS384");

    // An update without a key keeps it; switching the algorithm family needs a new key.
    let path = format!("/v1/jwt_templates/{}", t["id"].as_str().unwrap());
    app.patch(&path, json!({ "name": "hs", "claims": {} })).send().await.assert_status(200);
    let (input, sig) = split(&mint(&app, &sid, "hs", json!({})).await);
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA384, secret.as_bytes()), input.as_bytes(), &sig).expect("kept");
    app.patch(&path, json!({ "name": "hs", "claims": {}, "signing_algorithm": "ES256" })).send().await.assert_error(
        422,
        "form_param_missing",
        Some("signing_key"),
    );

    // ECDSA P-256 (PKCS#8 PEM).
    let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let ec_pem = pem("PRIVATE KEY", ec.to_pkcs8v1().unwrap().as_ref());
    let u = app
        .patch(&path, json!({ "name": "hs", "claims": {}, "signing_algorithm": "ES256", "signing_key": ec_pem }))
        .send()
        .await
        .assert_status(200)
        .json;
    assert_eq!(u["signing_algorithm"], "ES256");
    let (input, sig) = split(&mint(&app, &sid, "hs", json!({})).await);
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, ec.public_key().as_ref())
        .verify(input.as_bytes(), &sig)
        .expect("ES256");

    // RSA (PKCS#8 PEM), RS512.
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_pem = pem("PRIVATE KEY", AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&rsa).unwrap().as_ref());
    create(
        &app,
        json!({ "name": "rs", "claims": {}, "custom_signing_key": true, "signing_algorithm": "RS512",
                "signing_key": rsa_pem }),
    )
    .await;
    let jwt = mint(&app, &sid, "rs", json!({})).await;
    assert_eq!(decode(&jwt).0["alg"], "RS512");
    let (input, sig) = split(&jwt);
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA512, rsa.public_key().as_ref())
        .verify(input.as_bytes(), &sig)
        .expect("RS512");
    // Not the instance key: the instance keyring does not verify it.
    assert!(tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &jwt).await.is_none());

    // Turning the custom key off goes back to the instance keyring.
    let u = app.patch(&path, json!({ "name": "hs", "claims": {}, "custom_signing_key": false })).send().await;
    assert_eq!(u.assert_status(200).json["signing_algorithm"], "RS256");
    let jwt = mint(&app, &sid, "hs", json!({})).await;
    tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, &jwt).await.expect("instance key again");
}
