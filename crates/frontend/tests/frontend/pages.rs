//! Hosted pages: served on the frontend host, escaped, and never forwarding to a foreign site.

use tessera_testkit::TestApp;

#[tokio::test]
async fn hosted_pages_load_clerk_js_from_this_frontend_api() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    for (path, page) in [("/sign-in", "sign-in"), ("/sign-up", "sign-up"), ("/user", "user")] {
        let r = b.get(path).send().await.assert_status(200);
        assert_eq!(r.headers.get("content-type").unwrap(), "text/html; charset=utf-8");
        assert_eq!(r.headers.get("x-frame-options").unwrap(), "DENY");
        let html = String::from_utf8(r.body.clone()).unwrap();
        assert!(html.contains(&format!("data-page=\"{page}\"")), "{html}");
        assert!(html.contains("/npm/@clerk/clerk-js@6/dist/clerk.browser.js"));
        assert!(html.contains("/npm/@clerk/ui@1/dist/ui.browser.js"));
        assert!(html.contains(&app.instance.publishable_key.replace("=", "&#x3D;")), "{html}");
    }
}

#[tokio::test]
async fn redirect_urls_are_checked_and_escaped() {
    let app = TestApp::new().await;
    let b = app.browser().await;
    let hostile = "http://localhost:3000/x?a=</script><script>alert(1)</script>";
    let enc = url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect::<String>();
    let r = b.get(&format!("/sign-in?redirect_url={enc}")).send().await.assert_status(200);
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert_eq!(html.matches("</script>").count(), 4, "only the page's own script elements close: {html}");
    let evil = url::form_urlencoded::byte_serialize(b"https://evil.example/").collect::<String>();
    b.get(&format!("/sign-in?redirect_url={evil}")).send().await.assert_error(
        400,
        "redirect_url_not_allowed",
        Some("redirect_url"),
    );
}
