//! clerk-js and its UI served from configured `dist` directories at `/npm/@clerk/{package}@{version}/dist/…`.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt as _;
use tessera_testkit::TestApp;
use tower::ServiceExt as _;

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Sends `GET path` (raw, not normalised) with `host` to the whole application.
async fn get(router: &tessera_frontend::App, host: &str, path: &str) -> Answer {
    let request = Request::builder().uri(path).header("host", host).body(Body::empty()).expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Answer { status, headers, body }
}

/// Two `dist` directories with an entry point, a chunk and a nested file, plus a secret beside them.
fn dists() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let root = tempfile::tempdir().expect("temp dir");
    let js = root.path().join("clerk-js/dist");
    let ui = root.path().join("ui/dist");
    std::fs::create_dir_all(&js).expect("mkdir");
    std::fs::create_dir_all(ui.join("common")).expect("mkdir");
    std::fs::write(js.join("clerk.browser.js"), "window.Clerk = 1;").expect("write");
    std::fs::write(js.join("10_clerk.browser_a68c22_6.40.0.js"), "chunk();").expect("write");
    std::fs::write(ui.join("ui.browser.js"), "window.__internal_ClerkUICtor = 1;").expect("write");
    std::fs::write(ui.join("common/x.d.ts"), "export {};").expect("write");
    std::fs::write(root.path().join("clerk-js/secret.txt"), "secret").expect("write");
    (root, js, ui)
}

#[tokio::test]
async fn every_version_of_a_package_is_served_from_its_directory() {
    let app = TestApp::new().await;
    let (_root, js, ui) = dists();
    let router = tessera_frontend::app(app.state.clone().with_clerk_dirs(Some(js), Some(ui)));
    for version in ["6", "6.40.0", "^6.0.0", "latest"] {
        let r = get(&router, "127.0.0.1:4000", &format!("/npm/@clerk/clerk-js@{version}/dist/clerk.browser.js")).await;
        assert_eq!(r.status, 200, "@{version}");
        assert_eq!(r.body, b"window.Clerk = 1;");
        assert_eq!(r.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
        assert!(r.header("last-modified").is_some());
    }
    // Chunks of one build are immutable; the UI has its own directory, nested files included.
    let r = get(&router, "localhost", "/npm/@clerk/clerk-js@6.40.0/dist/10_clerk.browser_a68c22_6.40.0.js").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"chunk();".as_slice()));
    assert_eq!(r.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let r = get(&router, "localhost", "/npm/@clerk/ui@1/dist/ui.browser.js").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"window.__internal_ClerkUICtor = 1;".as_slice()));
    let r = get(&router, "localhost", "/npm/@clerk/ui@1.36.0/dist/common/x.d.ts").await;
    assert_eq!(r.status, 200);
    // On an instance's frontend host too.
    let host = app.instance.frontend_host();
    let r = get(&router, &host, "/npm/@clerk/ui@1/dist/ui.browser.js").await;
    assert_eq!(r.status, 200);
    // A conditional request is answered 304.
    let modified = get(&router, "localhost", "/npm/@clerk/ui@1/dist/ui.browser.js").await;
    let since = modified.header("last-modified").expect("last-modified").to_owned();
    let request = Request::builder()
        .uri("/npm/@clerk/ui@1/dist/ui.browser.js")
        .header(header::IF_MODIFIED_SINCE, since)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status().as_u16(), 304);
}

#[tokio::test]
async fn missing_files_and_unknown_packages_are_404_in_the_clerk_envelope() {
    let app = TestApp::new().await;
    let (_root, js, ui) = dists();
    let router = tessera_frontend::app(app.state.clone().with_clerk_dirs(Some(js), Some(ui)));
    for path in [
        "/npm/@clerk/clerk-js@6/dist/nope.js",
        "/npm/@clerk/clerk-js@6/dist/common",
        "/npm/@clerk/ui@1/dist/common",
        "/npm/@clerk/react@6/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js-evil@6/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js@6/clerk.browser.js",
    ] {
        let r = get(&router, "localhost", path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["errors"][0]["code"], "resource_not_found", "{path}");
    }
    // Not configured: 404 too.
    let bare = tessera_frontend::app(app.state.clone());
    let r = get(&bare, "localhost", "/npm/@clerk/clerk-js@6/dist/clerk.browser.js").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], "resource_not_found");
}

#[tokio::test]
async fn nothing_outside_the_directory_is_reachable() {
    let app = TestApp::new().await;
    let (_root, js, ui) = dists();
    let router = tessera_frontend::app(app.state.clone().with_clerk_dirs(Some(js), Some(ui)));
    for path in [
        "/npm/@clerk/clerk-js@6/dist/../secret.txt",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e/secret.txt",
        "/npm/@clerk/clerk-js@6/dist/..%2fsecret.txt",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e%2fsecret.txt",
        "/npm/@clerk/clerk-js@6/dist//etc/passwd",
        "/npm/@clerk/clerk-js@6/dist/%2fetc%2fpasswd",
        "/npm/@clerk/clerk-js@6/dist/clerk.browser.js%00.png",
        "/npm/@clerk/clerk-js@6/dist/..%5csecret.txt",
        "/npm/@clerk/ui@1/dist/../../clerk-js/secret.txt",
    ] {
        let r = get(&router, "localhost", path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains("secret"), "{path}");
    }
}

/// clerk-js 5 and 6 installed side by side (as npm lays them out, `package.json` beside `dist`): each major, its
/// exact versions and ranges reach their own directory; a major that is not installed is 404 naming those that are.
#[tokio::test]
async fn two_majors_side_by_side_each_answer_their_own_versions() {
    let app = TestApp::new().await;
    let root = tempfile::tempdir().expect("temp dir");
    let mut dirs = Vec::new();
    for (folder, version) in [("clerk-js", "6.40.0"), ("clerk-js-5", "5.128.0")] {
        let dist = root.path().join(folder).join("dist");
        std::fs::create_dir_all(&dist).expect("mkdir");
        let package = format!(r#"{{"name": "@clerk/clerk-js", "version": "{version}"}}"#);
        std::fs::write(root.path().join(folder).join("package.json"), package).expect("write");
        std::fs::write(dist.join("clerk.browser.js"), format!("/* {version} */")).expect("write");
        dirs.push(dist);
    }
    let router = tessera_frontend::app(app.state.clone().with_clerk_dirs(dirs, None));
    for (asked, want) in [
        ("5", "5.128.0"),
        ("6", "6.40.0"),
        ("5.128.0", "5.128.0"),
        ("6.40.0", "6.40.0"),
        ("^5.100.0", "5.128.0"),
        ("latest", "6.40.0"),
    ] {
        let r = get(&router, "localhost", &format!("/npm/@clerk/clerk-js@{asked}/dist/clerk.browser.js")).await;
        assert_eq!(
            (r.status, String::from_utf8_lossy(&r.body).into_owned()),
            (200, format!("/* {want} */")),
            "@{asked}"
        );
    }
    let r = get(&router, "localhost", "/npm/@clerk/clerk-js@4/dist/clerk.browser.js").await;
    assert_eq!(r.status, 404);
    let error = &r.json()["errors"][0];
    assert_eq!(error["code"], "resource_not_found");
    assert_eq!(error["long_message"], "@clerk/clerk-js@4 is not installed on this server; it has 6.40.0, 5.128.0.");
    // No UI directory given: the UI is not served.
    let r = get(&router, "localhost", "/npm/@clerk/ui@1/dist/ui.browser.js").await;
    assert_eq!(r.status, 404);
}
