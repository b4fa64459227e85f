//! The negative corpus: every refusal answers the RFC's error shape with the right status, never a 5xx.

use serde_json::json;
use tessera_testkit::TestApp;

use super::*;

async fn setup(app: &TestApp) -> (TestBrowser<'_>, Client) {
    let ada = user(app, "ada@example.com").await;
    let c = client(app, json!({ "consent_screen_enabled": false, "scopes": "openid profile email" })).await;
    let b = app.browser().await;
    b.sign_in_as(&ada).await;
    (b, c)
}

fn exchange_form<'a>(code: &'a str, redirect: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect)];
    if !verifier.is_empty() {
        form.push(("code_verifier", verifier));
    }
    form
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_what_it_issued() {
    let app = TestApp::new().await;
    let (b, c) = setup(&app).await;
    let code = code(&b, &c, "profile", &[]).await;
    let t = exchange(&b, &c, &code).await;
    let again = token(&b, &c, &exchange_form(&code, REDIRECT, VERIFIER)).await;
    assert_oauth_error(&again, 400, "invalid_grant");
    verify(&app, t["access_token"].as_str().unwrap()).await.assert_error(404, "resource_not_found", None);
    let refreshed =
        token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())])
            .await;
    assert_oauth_error(&refreshed, 400, "invalid_grant");
}

#[tokio::test]
async fn code_exchange_refusals() {
    let app = TestApp::with_clock(T0).await;
    let (b, c) = setup(&app).await;
    let other = client(&app, json!({ "name": "other", "consent_screen_enabled": false })).await;
    let code = code(&b, &c, "profile", &[]).await;
    // Wrong redirect_uri, wrong or missing verifier: refused, and the code stays usable for its client.
    assert_oauth_error(
        &token(&b, &c, &exchange_form(&code, "https://rp.test/other", VERIFIER)).await,
        400,
        "invalid_grant",
    );
    let wrong = "wBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_oauth_error(&token(&b, &c, &exchange_form(&code, REDIRECT, wrong)).await, 400, "invalid_grant");
    assert_oauth_error(&token(&b, &c, &exchange_form(&code, REDIRECT, "")).await, 400, "invalid_grant");
    // Another client's credentials with this code.
    assert_oauth_error(&token(&b, &other, &exchange_form(&code, REDIRECT, VERIFIER)).await, 400, "invalid_grant");
    // Client authentication failures: 401 invalid_client.
    let wrong_secret = Client { id: c.id.clone(), client_id: c.client_id.clone(), secret: "not-the-secret".into() };
    let r = token(&b, &wrong_secret, &exchange_form(&code, REDIRECT, VERIFIER)).await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.headers.get("www-authenticate").is_some());
    let unknown = Client { id: String::new(), client_id: "nope".into(), secret: "x".into() };
    assert_oauth_error(&token(&b, &unknown, &exchange_form(&code, REDIRECT, VERIFIER)).await, 401, "invalid_client");
    let no_auth = b.post("/oauth/token", &exchange_form(&code, REDIRECT, VERIFIER)).send().await;
    assert_oauth_error(&no_auth, 401, "invalid_client");
    let mut post_auth = exchange_form(&code, REDIRECT, VERIFIER);
    post_auth.extend([("client_id", c.client_id.as_str()), ("client_secret", "wrong")]);
    assert_oauth_error(&b.post("/oauth/token", &post_auth).send().await, 401, "invalid_client");
    // Malformed requests.
    assert_oauth_error(&token(&b, &c, &[("code", code.as_str())]).await, 400, "invalid_request");
    assert_oauth_error(&token(&b, &c, &[("grant_type", "password")]).await, 401, "unsupported_grant_type");
    assert_oauth_error(&token(&b, &c, &[("grant_type", "authorization_code")]).await, 400, "invalid_request");
    let twice = b
        .request(axum::http::Method::POST, "/oauth/token")
        .body(b"grant_type=authorization_code&grant_type=refresh_token".to_vec(), "application/x-www-form-urlencoded")
        .header("authorization", &basic(&c))
        .send()
        .await;
    assert_oauth_error(&twice, 400, "invalid_request");
    assert_oauth_error(&token(&b, &c, &exchange_form("garbage", REDIRECT, VERIFIER)).await, 400, "invalid_grant");
    let long = "x".repeat(5000);
    assert_oauth_error(&token(&b, &c, &exchange_form(&long, REDIRECT, VERIFIER)).await, 400, "invalid_grant");
    // After all that, the code still works once; then an expired one does not.
    exchange(&b, &c, &code).await;
    let late = super::code(&b, &c, "profile", &[]).await;
    app.clock.advance_ms(10 * 60 * 1000 + 1);
    assert_oauth_error(&token(&b, &c, &exchange_form(&late, REDIRECT, VERIFIER)).await, 400, "invalid_grant");
}

#[tokio::test]
async fn refresh_refusals() {
    let app = TestApp::new().await;
    let (b, c) = setup(&app).await;
    let other = client(&app, json!({ "name": "other" })).await;
    let t = exchange(&b, &c, &code(&b, &c, "profile email", &[]).await).await;
    let refresh = t["refresh_token"].as_str().unwrap();
    assert_oauth_error(&token(&b, &c, &[("grant_type", "refresh_token")]).await, 400, "invalid_request");
    assert_oauth_error(
        &token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", "ort_nope")]).await,
        400,
        "invalid_grant",
    );
    // An access token is not a refresh token; another client cannot use it; scopes cannot widen.
    let access = t["access_token"].as_str().unwrap();
    assert_oauth_error(
        &token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", access)]).await,
        400,
        "invalid_grant",
    );
    assert_oauth_error(
        &token(&b, &other, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await,
        400,
        "invalid_grant",
    );
    let wider = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "profile openid")];
    assert_oauth_error(&token(&b, &c, &wider).await, 400, "invalid_grant");
    // None of the refusals used it up.
    token(&b, &c, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await.assert_status(200);
}

#[tokio::test]
async fn authorization_request_refusals() {
    let app = TestApp::new().await;
    let (b, c) = setup(&app).await;
    let shown = |r: &tessera_testkit::TestResponse| {
        assert_eq!(r.status, 400, "{}", body(r));
        assert!(body(r).contains("cannot be completed"));
    };
    // Cannot be trusted with a redirect: shown to the person.
    shown(&b.get(&authorize_path("unknown-client", "profile", &[])).send().await);
    shown(&b.get(&authorize_path(&c.client_id, "profile", &[("redirect_uri", "https://evil.test/cb")])).send().await);
    shown(
        &b.get(&authorize_path(&c.client_id, "profile", &[("redirect_uri", "https://rp.test/callback/x")]))
            .send()
            .await,
    );
    shown(&b.get(&authorize_path("", "profile", &[])).send().await);
    // Everything else goes back to the client with the state.
    for (extra, error) in [
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("scope", "profile private_metadata")], "invalid_scope"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge", "short"), ("code_challenge_method", "S256")], "invalid_request"),
        (vec![("state", "short")], "invalid_request"),
        (vec![("state", ""), ("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
        (vec![("prompt", "sometimes")], "invalid_request"),
        (vec![("resource", "not a uri")], "invalid_target"),
        (vec![("response_mode", "fragment")], "invalid_request"),
    ] {
        let r = b.get(&authorize_path(&c.client_id, "profile", &extra)).send().await;
        let to = location(&r.assert_status(302));
        assert!(to.as_str().starts_with(REDIRECT), "{to}");
        assert_eq!(param(&to, "error").as_deref(), Some(error), "{extra:?}: {to}");
    }
    // form_post answers with a self-submitting page.
    let r = b.get(&authorize_path(&c.client_id, "profile", &[("response_mode", "form_post")])).send().await;
    let page = body(&r.assert_status(200));
    assert!(page.contains(&format!("action=\"{REDIRECT}\"")) && page.contains("name=\"code\""), "{page}");
}

#[tokio::test]
async fn prompt_none_and_consent_decisions() {
    let app = TestApp::new().await;
    let ada = user(&app, "ada@example.com").await;
    let c = client(&app, json!({})).await;
    let signed_out = app.browser().await;
    let r = signed_out.get(&authorize_path(&c.client_id, "profile", &[("prompt", "none")])).send().await;
    assert_eq!(param(&location(&r.assert_status(302)), "error").as_deref(), Some("login_required"));
    let b = app.browser().await;
    b.sign_in_as(&ada).await;
    let r = b.get(&authorize_path(&c.client_id, "profile", &[("prompt", "none")])).send().await;
    assert_eq!(param(&location(&r.assert_status(302)), "error").as_deref(), Some("consent_required"));
    let page = b.get(&authorize_path(&c.client_id, "profile", &[])).send().await;
    let (action, csrf) = consent_form(&b, &page);
    // A decision without the page's token (a cross-site form) is refused; so is another session's token.
    b.post(&action, &[("consented", "true")]).send().await.assert_status(403);
    b.post(&action, &[("consented", "true"), ("csrf_token", "00")]).send().await.assert_status(403);
    let grace = user(&app, "grace@example.com").await;
    let b2 = app.browser().await;
    b2.sign_in_as(&grace).await;
    b2.post(&action, &[("consented", "true"), ("csrf_token", &csrf)]).send().await.assert_status(403);
    // The token is bound to the request: widening the scopes in the action breaks it.
    let widened = action.replace("scope=profile", "scope=profile+email");
    b.post(&widened, &[("consented", "true"), ("csrf_token", &csrf)]).send().await.assert_status(403);
    // Signed out: 401.
    signed_out.post(&action, &[("consented", "true"), ("csrf_token", &csrf)]).send().await.assert_status(401);
    // Deny: access_denied back at the client, nothing remembered.
    let r = b.post(&action, &[("consented", "false"), ("csrf_token", &csrf)]).send().await;
    let to = location(&r.assert_status(302));
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state").as_deref(), Some(STATE));
    consent_form(&b, &b.get(&authorize_path(&c.client_id, "profile", &[])).send().await);
}

#[tokio::test]
async fn userinfo_and_introspection_refusals() {
    let app = TestApp::new().await;
    let (b, c) = setup(&app).await;
    let r = b.get("/oauth/userinfo").send().await;
    r.assert_error(401, "oauth_access_token_invalid", None);
    let r = b.get("/oauth/userinfo").header("authorization", "Bearer oat_nope").send().await;
    assert!(r.headers.get("www-authenticate").is_some());
    r.assert_error(401, "oauth_access_token_invalid", None);
    let t = exchange(&b, &c, &code(&b, &c, "profile", &[]).await).await;
    // A refresh token is not an access token.
    let refresh = t["refresh_token"].as_str().unwrap();
    b.get("/oauth/userinfo").header("authorization", &format!("Bearer {refresh}")).send().await.assert_status(401);
    // Introspection needs the client's credentials, and sees only its own tokens.
    let access = t["access_token"].as_str().unwrap();
    let r = b.post("/oauth/token_info", &[("token", access)]).send().await;
    assert_oauth_error(&r, 401, "invalid_client");
    let other = client(&app, json!({ "name": "other" })).await;
    let r = b.post("/oauth/token_info", &[("token", access)]).header("authorization", &basic(&other)).send().await;
    assert_eq!(r.assert_status(200).json, json!({ "active": false }));
    let r = b.post("/oauth/token_info", &[("token", "garbage")]).header("authorization", &basic(&c)).send().await;
    assert_eq!(r.assert_status(200).json, json!({ "active": false }));
    // Revocation needs the client too.
    assert_oauth_error(&b.post("/oauth/token/revoke", &[("token", access)]).send().await, 401, "invalid_client");
}
