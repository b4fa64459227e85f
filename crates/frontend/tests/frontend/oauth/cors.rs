//! CORS on the provider's documents and back-channel endpoints: browser-based public clients (single-page apps,
//! MCP clients) call them from origins the instance has never heard of.

use axum::http::Method;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

use super::*;

#[tokio::test]
async fn oauth_endpoints_answer_any_origin_without_credentials() {
    let app = TestApp::new().await;
    // A production instance: its origin policy refuses mutations from origins it does not know.
    let (prod, _) = app.create_instance(Environment::Production).await;
    let mut b = app.browser_for(&prod).await;
    b.origin = Some("https://spa.example".into());
    let any_origin = |r: &TestResponse| {
        assert_eq!(r.headers.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"), "{r:?}");
        assert!(r.headers.get("access-control-allow-credentials").is_none(), "never with credentials");
    };

    for path in
        ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"]
    {
        any_origin(&b.get(path).send().await.assert_status(200));
    }
    // The token endpoint answers the client (an RFC 6749 error here), not the origin policy.
    let r = b
        .post("/oauth/token", &[("grant_type", "authorization_code"), ("code", "nope"), ("client_id", "nope")])
        .send()
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    any_origin(&r);
    let r = b.post("/oauth/token/revoke", &[("token", "nope"), ("client_id", "nope")]).send().await;
    any_origin(&r);
    assert_eq!(r.status, 401, "invalid_client, not the origin policy: {}", body(&r));
    let r = b.get("/oauth/userinfo").header("authorization", "Bearer oat_unknown").send().await.assert_status(401);
    any_origin(&r);
    let exposed = r.headers.get("access-control-expose-headers").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(exposed.contains("WWW-Authenticate"), "{exposed}");

    // Preflights, answered without asking the origin policy.
    for path in ["/oauth/token", "/oauth/register", "/.well-known/oauth-authorization-server"] {
        let r = app
            .request(Method::OPTIONS, &format!("/fapi/{}{path}", prod.frontend_host()))
            .anonymous()
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
            .await
            .assert_status(204);
        any_origin(&r);
        let h = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(h("access-control-allow-methods").contains("POST"), "{path}");
        assert!(h("access-control-allow-headers").contains("Authorization"), "{path}");
    }

    // The rest of the Frontend API keeps its origin policy: the authorization endpoint and clerk-js's routes.
    let r = b.post("/v1/client/sign_ins", &[("identifier", "ada@example.com")]).send().await;
    assert_eq!((r.status, r.json["errors"][0]["code"].as_str()), (400, Some("origin_invalid")), "{}", body(&r));
    assert!(r.headers.get("access-control-allow-origin").is_none_or(|v| v != "*"));
}
