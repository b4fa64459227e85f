//! The provider's happy paths, each checked from the relying party's side and from the Backend API's.

use serde_json::json;
use tessera_testkit::{TestApp, jwt_claims};

use super::*;

#[tokio::test]
async fn code_with_pkce_through_sign_in_and_consent_then_tokens_userinfo_refresh_and_revoke() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let c = client(&app, json!({ "scopes": "openid profile email public_metadata" })).await;
    let b = app.browser().await;
    let scope = "openid profile email public_metadata offline_access";

    // Signed out: to the hosted sign-in page, which comes back to the same authorization request.
    let r = b.get(&authorize_path(&c.client_id, scope, &[])).send().await.assert_status(302);
    let to = location(&r);
    assert_eq!(to.path(), "/sign-in");
    let back = param(&to, "redirect_url").unwrap();
    assert!(back.starts_with(&format!("https://{}/oauth/authorize?", b.host)), "{back}");
    assert!(back.contains(&c.client_id) && back.contains(CHALLENGE), "{back}");

    let session_id = b.sign_in_as(&user_id).await;
    let code = code(&b, &c, scope, &[]).await;
    let t = exchange(&b, &c, &code).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 86400);
    assert_eq!(t["scope"], scope);
    let access = t["access_token"].as_str().unwrap();
    assert!(access.starts_with("oat_"), "{access}");
    let refresh = t["refresh_token"].as_str().unwrap().to_owned();

    // The ID token: RS256 from the instance keyring, for this client, with the nonce and identity claims.
    let id_token = t["id_token"].as_str().unwrap();
    assert!(tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, id_token).await.is_some());
    let claims = jwt_claims(id_token);
    assert_eq!(claims["iss"], format!("https://{}", b.host));
    assert_eq!(claims["aud"], c.client_id);
    assert_eq!(claims["sub"], user_id);
    assert_eq!(claims["nonce"], "nonce-42");
    assert_eq!(claims["sid"], session_id);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["name"], "Ada Lovelace");

    // Userinfo, by header and by form.
    let info = b.get("/oauth/userinfo").header("authorization", &format!("Bearer {access}")).send().await;
    let info = info.assert_status(200).json;
    assert_eq!(info["sub"], user_id);
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["public_metadata"], json!({ "tier": 2 }));
    assert!(info.get("private_metadata").is_none(), "not granted: {info}");
    let info = b.post("/oauth/userinfo", &[("access_token", access)]).send().await.assert_status(200);
    assert_eq!(info.json["user_id"], user_id);

    // The Backend API verifies it (both paths), as resource servers do.
    let v = verify(&app, access).await.assert_status(200).json;
    assert_eq!(v["object"], "clerk_idp_oauth_access_token");
    assert_eq!(v["subject"], user_id);
    assert_eq!(v["client_id"], c.client_id);
    assert_eq!(v["scopes"], json!(["openid", "profile", "email", "public_metadata", "offline_access"]));
    assert_eq!(v["revoked"], false);
    assert!(v.get("aud").is_none(), "no resource, no audience: {v}");
    app.post("/v1/oauth_applications/access_tokens/verify", json!({ "secret": access }))
        .send()
        .await
        .assert_status(200);

    // Introspection by the client.
    let i = token_info(&b, &c, access).await;
    assert_eq!(i["active"], true);
    assert_eq!(i["sub"], user_id);

    // Consent is remembered: the next authorization goes straight back with a code.
    let r = b.get(&authorize_path(&c.client_id, "openid email", &[])).send().await.assert_status(302);
    assert!(param(&location(&r), "code").is_some());

    // Refresh rotates: a new pair; the old refresh token, presented again, revokes the family.
    let refreshed =
        token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "openid email")])
            .await
            .assert_status(200)
            .json;
    assert_eq!(refreshed["scope"], "openid email");
    assert!(refreshed["id_token"].is_string());
    let new_access = refreshed["access_token"].as_str().unwrap();
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, refresh);
    verify(&app, new_access).await.assert_status(200);
    let reused = token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_oauth_error(&reused, 400, "invalid_grant");
    verify(&app, new_access).await.assert_error(404, "resource_not_found", None);
    verify(&app, access).await.assert_error(404, "resource_not_found", None);
    let after = token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", new_refresh)]).await;
    assert_oauth_error(&after, 400, "invalid_grant");
    assert_eq!(token_info(&b, &c, new_access).await, json!({ "active": false }));
}

async fn token_info(b: &tessera_testkit::TestBrowser<'_>, c: &Client, t: &str) -> serde_json::Value {
    b.post("/oauth/token_info", &[("token", t)]).header("authorization", &basic(c)).send().await.assert_status(200).json
}

#[tokio::test]
async fn revocation_through_the_backend_api_and_rfc_7009() {
    let app = TestApp::new().await;
    let user_id = user(&app, "ada@example.com").await;
    let c = client(&app, json!({ "consent_screen_enabled": false })).await;
    let other = client(&app, json!({ "name": "other" })).await;
    let b = app.browser().await;
    b.sign_in_as(&user_id).await;
    // No consent screen for this client.
    let t = exchange(&b, &c, &code(&b, &c, "profile email", &[]).await).await;
    let access = t["access_token"].as_str().unwrap();
    assert!(t.get("id_token").is_none(), "no openid, no ID token");
    // revoke_token of another application does not reach it.
    app.post(&format!("/v1/oauth_applications/{}/revoke_token", other.id), json!({ "token": access }))
        .send()
        .await
        .assert_error(404, "resource_not_found", None);
    let r = app.post(&format!("/v1/oauth_applications/{}/revoke_token", c.id), json!({ "token": access })).send().await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    verify(&app, access).await.assert_error(404, "resource_not_found", None);
    let refreshed =
        token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())])
            .await;
    assert_oauth_error(&refreshed, 400, "invalid_grant");

    // RFC 7009 by the client: by refresh token; unknown tokens answer success too.
    let t = exchange(&b, &c, &code(&b, &c, "profile", &[]).await).await;
    let revoke = |token: String| {
        let auth = basic(&c);
        let b = &b;
        async move {
            b.post("/oauth/token/revoke", &[("token", &token), ("token_type_hint", "refresh_token")])
                .header("authorization", &auth)
                .send()
                .await
        }
    };
    revoke(t["refresh_token"].as_str().unwrap().to_owned()).await.assert_status(200);
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_error(404, "resource_not_found", None);
    revoke("ort_unknown".into()).await.assert_status(200);
    assert_oauth_error(&revoke("a.b.c".into()).await, 400, "unsupported_token_type");

    // An opaque token issued for an RFC 8707 resource names it as its audience.
    let resource = [("resource", "https://mcp.rp.test/mcp")];
    let issued = code(&b, &c, "profile", &resource).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", issued.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("resource", "https://mcp.rp.test/mcp"),
    ];
    let t = token(&b, &c, &form).await.assert_status(200).json;
    let v = verify(&app, t["access_token"].as_str().unwrap()).await.assert_status(200).json;
    assert_eq!(v["aud"], json!(["https://mcp.rp.test/mcp"]));

    // Deleting the application ends its tokens.
    let t = exchange(&b, &c, &code(&b, &c, "profile", &[]).await).await;
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_status(200);
    app.delete(&format!("/v1/oauth_applications/{}", c.id)).send().await.assert_status(200);
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn consent_is_remembered_per_user_and_application_and_revocable() {
    let app = TestApp::new().await;
    let ada = user(&app, "ada@example.com").await;
    let c = client(&app, json!({})).await;
    let b = app.browser().await;
    b.sign_in_as(&ada).await;
    let info = b.get(&format!("/v1/me/oauth/consent/{}?scope=profile%20email", c.client_id)).send().await;
    let info = info.assert_status(200).json;
    assert_eq!(info["oauth_application_name"], "Relying party");
    assert_eq!(
        info["scopes"][0],
        json!({ "scope": "profile", "description": "Read your name, username and profile picture", "requires_consent": true })
    );
    let t = exchange(&b, &c, &code(&b, &c, "profile email", &[]).await).await;
    let info = b.get(&format!("/v1/me/oauth/consent/{}", c.client_id)).send().await.assert_status(200).json;
    assert_eq!(info["scopes"][0]["requires_consent"], false);
    // A wider scope asks again; prompt=consent asks again.
    let r = b.get(&authorize_path(&c.client_id, "profile email openid", &[])).send().await;
    consent_form(&b, &r);
    let r = b.get(&authorize_path(&c.client_id, "profile", &[("prompt", "consent")])).send().await;
    consent_form(&b, &r);
    // Another person on another browser is asked.
    let grace = user(&app, "grace@example.com").await;
    let b2 = app.browser().await;
    b2.sign_in_as(&grace).await;
    let r = b2.get(&authorize_path(&c.client_id, "profile", &[])).send().await;
    consent_form(&b2, &r);
    // Withdrawing consent revokes what was granted and shows the screen again.
    let r = b.delete(&format!("/v1/me/oauth/consent/{}", c.client_id)).send().await.assert_status(200);
    assert_eq!(r.json["deleted"], true);
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_error(404, "resource_not_found", None);
    let r = b.get(&authorize_path(&c.client_id, "profile", &[])).send().await;
    consent_form(&b, &r);
}

#[tokio::test]
async fn public_clients_use_pkce_without_a_secret() {
    let app = TestApp::new().await;
    let ada = user(&app, "ada@example.com").await;
    let c = client(&app, json!({ "public": true, "consent_screen_enabled": false })).await;
    assert_eq!(c.secret, "");
    let b = app.browser().await;
    b.sign_in_as(&ada).await;
    let code = code(&b, &c, "profile", &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", c.client_id.as_str()),
    ];
    let t = b.post("/oauth/token", &form).send().await.assert_status(200).json;
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_status(200);
    // Without PKCE the authorization request itself is refused, back at the client.
    let r = b
        .get(&authorize_path(&c.client_id, "profile", &[("code_challenge", ""), ("code_challenge_method", "")]))
        .send()
        .await;
    let to = location(&r.assert_status(302));
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&to, "state").as_deref(), Some(STATE));
}

#[tokio::test]
async fn jwt_access_tokens_verify_locally_and_through_the_backend_api_until_they_expire() {
    let app = TestApp::with_clock(T0).await;
    app.patch("/v1/instance/oauth_application_settings", json!({ "oauth_jwt_access_tokens": true }))
        .send()
        .await
        .assert_status(200);
    let ada = user(&app, "ada@example.com").await;
    let c = client(&app, json!({ "consent_screen_enabled": false })).await;
    let b = app.browser().await;
    b.sign_in_as(&ada).await;
    let code = code(&b, &c, "profile email", &[("resource", "https://mcp.rp.test/mcp")]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("resource", "https://mcp.rp.test/mcp"),
    ];
    let t = token(&b, &c, &form).await.assert_status(200).json;
    let jwt = t["access_token"].as_str().unwrap();
    let verified = tessera_core::keyring::verify_jwt(app.ctx(), &app.instance.id, jwt).await.unwrap();
    assert_eq!(verified.header["typ"], "at+jwt");
    let claims = jwt_claims(jwt);
    assert_eq!(claims["sub"], ada);
    assert_eq!(claims["client_id"], c.client_id);
    assert_eq!(claims["aud"], "https://mcp.rp.test/mcp");
    assert_eq!(claims["scope"], "profile email");
    let v = verify(&app, jwt).await.assert_status(200).json;
    assert_eq!(v["id"], claims["jti"]);
    assert_eq!(v["subject"], ada);
    // The audience, as @clerk/backend reads it (an array).
    assert_eq!(v["aud"], json!(["https://mcp.rp.test/mcp"]));
    b.get("/oauth/userinfo").header("authorization", &format!("Bearer {jwt}")).send().await.assert_status(200);
    // Not revocable (Clerk documents it), and inactive once expired.
    app.post(&format!("/v1/oauth_applications/{}/revoke_token", c.id), json!({ "token": jwt }))
        .send()
        .await
        .assert_error(400, "bad_request", Some("token"));
    app.clock.advance_ms(24 * 3600 * 1000 + 1000);
    assert_eq!(verify(&app, jwt).await.assert_status(200).json, json!({ "active": false }));
    b.get("/oauth/userinfo").header("authorization", &format!("Bearer {jwt}")).send().await.assert_status(401);
}

#[tokio::test]
async fn discovery_metadata_and_jwks() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    let base = format!("https://{}", b.host);
    let oidc = b.get("/.well-known/openid-configuration").send().await.assert_status(200).json;
    assert_eq!(oidc["issuer"], base);
    assert_eq!(oidc["authorization_endpoint"], format!("{base}/oauth/authorize"));
    assert_eq!(oidc["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(oidc["userinfo_endpoint"], format!("{base}/oauth/userinfo"));
    assert_eq!(oidc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(oidc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    let jwks = b.get("/.well-known/jwks.json").send().await.assert_status(200).json;
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let meta = b.get("/.well-known/oauth-authorization-server").send().await.assert_status(200).json;
    assert_eq!(meta["issuer"], base);
    assert!(meta.get("registration_endpoint").is_none());
    // Dynamic registration: refused until the instance allows it.
    let reg = json!({ "redirect_uris": [REDIRECT], "client_name": "MCP client", "token_endpoint_auth_method": "none" });
    let refused =
        b.post("/oauth/register", &[]).body(serde_json::to_vec(&reg).unwrap(), "application/json").send().await;
    assert_eq!(refused.status, 422);
    app.patch("/v1/instance/oauth_application_settings", json!({ "dynamic_oauth_client_registration": true }))
        .send()
        .await
        .assert_status(200);
    let meta = b.get("/.well-known/oauth-authorization-server").send().await.assert_status(200).json;
    assert_eq!(meta["registration_endpoint"], format!("{base}/oauth/register"));
    let r = b.post("/oauth/register", &[]).body(serde_json::to_vec(&reg).unwrap(), "application/json").send().await;
    let r = r.assert_status(201).json;
    assert!(r.get("client_secret").is_none(), "public client: {r}");
    assert_eq!(r["token_endpoint_auth_method"], "none");
    assert_eq!(r["scope"], "email profile");
    let confidential = json!({ "redirect_uris": [REDIRECT], "grant_types": ["authorization_code"] });
    let r = b
        .post("/oauth/register", &[])
        .body(serde_json::to_vec(&confidential).unwrap(), "application/json")
        .send()
        .await;
    let r = r.assert_status(201).json;
    assert!(r["client_secret"].as_str().unwrap().len() >= 32);
    assert_eq!(r["client_name"], r["client_id"]);
    // The Backend API lists it as dynamically registered, consent screen forced on.
    let q = format!("/v1/oauth_applications?name_query={}", r["client_id"].as_str().unwrap());
    let listed = app.get(&q).send().await.assert_status(200).json;
    assert_eq!(listed["data"][0]["dynamically_registered"], true);
    assert_eq!(listed["data"][0]["consent_screen_enabled"], true);
    let id = listed["data"][0]["id"].as_str().unwrap();
    app.patch(&format!("/v1/oauth_applications/{id}"), json!({ "consent_screen_enabled": false }))
        .send()
        .await
        .assert_error(422, "form_param_value_invalid", Some("consent_screen_enabled"));
    let bad = json!({ "redirect_uris": [] });
    let r = b.post("/oauth/register", &[]).body(serde_json::to_vec(&bad).unwrap(), "application/json").send().await;
    assert_oauth_error(&r, 400, "invalid_redirect_uri");
}
