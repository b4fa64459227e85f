//! `GET /v1/public/interstitial`: the clerk-js loader page, public, HTML (a documented content deviation: the spec
//! declares no content), with every query value escaped for where it lands; 400 in the Clerk envelope without a
//! frontend API or publishable key.

use tessera_core::instances::{Environment, publishable_key};
use tessera_testkit::{TestApp, TestResponse};

const SCRIPT_PATH: &str = "/npm/@clerk/clerk-js@6/dist/clerk.browser.js";

async fn page(app: &TestApp, params: &[(&str, &str)]) -> TestResponse {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    app.get(&format!("/v1/public/interstitial?{query}")).anonymous().send().await
}

fn html(r: TestResponse) -> String {
    let r = r.assert_status(200);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(r.headers["cache-control"], "no-store");
    String::from_utf8(r.body).unwrap()
}

#[tokio::test]
async fn loads_clerk_js_from_the_frontend_api_and_reloads() {
    let app = TestApp::new().await;
    let pk = app.instance.publishable_key.clone();
    let fapi = app.instance.frontend_host();
    let body = html(page(&app, &[("publishable_key", &pk)]).await);
    assert!(body.contains(&format!(r#"src="https://{fapi}{SCRIPT_PATH}""#)), "{body}");
    let attr = handlebars::html_escape(&pk);
    assert!(attr.contains("&#x3D;"), "base64 padding is escaped too: {attr}");
    assert!(body.contains(&format!(r#"data-clerk-publishable-key="{attr}""#)), "{body}");
    assert!(body.contains(&format!(r#"data-clerk-frontend-api="{fapi}""#)), "{body}");
    assert!(body.contains("isInterstitial: true") && body.contains("isSatellite: false"), "{body}");
    assert!(body.contains("await Clerk.load(") && body.contains("window.location.reload()"), "{body}");
    assert!(!body.contains("data-clerk-proxy-url") && !body.contains("data-clerk-domain"), "{body}");

    // frontend_api alone, and its deprecated spelling; a secret key changes nothing.
    for name in ["frontend_api", "frontendApi"] {
        let body = html(page(&app, &[(name, "clerk.example.com")]).await);
        assert!(body.contains(&format!(r#"src="https://clerk.example.com{SCRIPT_PATH}""#)), "{body}");
        assert!(body.contains(r#"data-clerk-publishable-key="""#), "{body}");
    }
    let r = app.get("/v1/public/interstitial?frontend_api=clerk.example.com").send().await;
    html(r);
}

#[tokio::test]
async fn proxy_and_satellite_domain_choose_the_script_host() {
    let app = TestApp::new().await;
    let live = publishable_key(Environment::Production, "clerk.example.com");
    let proxied = html(page(&app, &[("publishable_key", &live), ("proxy_url", "https://example.com/__clerk/")]).await);
    assert!(proxied.contains(&format!(r#"src="https://example.com/__clerk{SCRIPT_PATH}""#)), "{proxied}");
    assert!(proxied.contains(r#"data-clerk-proxy-url="https://example.com/__clerk/""#), "{proxied}");
    assert!(proxied.contains(r#"window.__clerk_proxy_url = "https://example.com/__clerk/";"#), "{proxied}");

    let params = [
        ("publishable_key", live.as_str()),
        ("domain", "satellite.dev"),
        ("use_domain_for_script", "true"),
        ("sign_in_url", "https://example.com/sign-in"),
    ];
    let sat = html(page(&app, &params).await);
    assert!(sat.contains(&format!(r#"src="https://clerk.satellite.dev{SCRIPT_PATH}""#)), "{sat}");
    assert!(sat.contains(r#"data-clerk-domain="satellite.dev""#), "{sat}");
    assert!(sat.contains("isSatellite: true") && sat.contains(r#"signInUrl: "https://example.com/sign-in""#), "{sat}");
    // Without use_domain_for_script, or with a development key, the script comes from the Frontend API.
    let sat = html(page(&app, &params[..2]).await);
    assert!(sat.contains(&format!(r#"src="https://clerk.example.com{SCRIPT_PATH}""#)), "{sat}");
    let dev = app.instance.publishable_key.clone();
    let sat = html(
        page(&app, &[("publishable_key", &dev), ("domain", "satellite.dev"), ("use_domain_for_script", "1")]).await,
    );
    assert!(sat.contains(&format!(r#"src="https://{}{SCRIPT_PATH}""#, app.instance.frontend_host())), "{sat}");
}

#[tokio::test]
async fn hostile_values_stay_inert() {
    let app = TestApp::new().await;
    let pk = app.instance.publishable_key.clone();
    let xss = r#""><script>alert(1)</script>"#;
    let close = "</script><script>alert(2)</script>\u{2028}'";
    let params = [
        ("publishable_key", pk.as_str()),
        ("proxy_url", &format!("https://proxy.example.com/__clerk?x={xss}") as &str),
        ("sign_in_url", &format!("/sign-in?next={close}{xss}")),
    ];
    let body = html(page(&app, &params).await);
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains('\u{2028}'), "{body}");
    // Exactly the page's own two script elements.
    assert_eq!(body.matches("<script").count(), 2, "{body}");
    assert_eq!(body.matches("</script>").count(), 2, "{body}");
    // Escaped in the attribute and in the script.
    assert!(body.contains("__clerk?x&#x3D;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), "{body}");
    assert!(body.contains(r#"\"\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"#), "{body}");
    assert!(body.contains(r#"\u003c/script\u003e\u003cscript\u003ealert(2)\u003c/script\u003e\u2028'"#), "{body}");

    // Values of the wrong kind are refused rather than rendered.
    for (name, value) in [
        ("frontend_api", xss),
        ("frontend_api", "evil.com/x"),
        ("publishable_key", xss),
        ("publishable_key", "pk_test_Zm9v"),
        ("domain", xss),
        ("proxy_url", "javascript:alert(1)"),
        ("proxy_url", "//evil.com/x"),
        ("sign_in_url", "javascript:alert(1)"),
        ("use_domain_for_script", "maybe"),
    ] {
        let mut params = vec![("frontend_api", "clerk.example.com")];
        params.retain(|(n, _)| *n != name);
        params.push((name, value));
        page(&app, &params).await.assert_error(400, "query_param_invalid", Some(name));
    }
}

#[tokio::test]
async fn a_frontend_api_or_publishable_key_is_required() {
    let app = TestApp::new().await;
    page(&app, &[]).await.assert_error(400, "query_param_missing", Some("frontend_api"));
    page(&app, &[("frontend_api", " "), ("domain", "satellite.dev")]).await.assert_error(
        400,
        "query_param_missing",
        Some("frontend_api"),
    );
}
