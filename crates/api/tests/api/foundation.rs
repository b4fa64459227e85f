//! Request plumbing: authentication, error envelope, unknown routes and methods, not-implemented operations.

use serde_json::json;
use tessera_core::instances::Environment;
use tessera_testkit::TestApp;

#[tokio::test]
async fn missing_or_wrong_secret_key_is_401_clerk_key_invalid() {
    let app = TestApp::new().await;
    let r = app.get("/v1/jwks").anonymous().send().await.assert_error(401, "clerk_key_invalid", None);
    assert!(r.json["clerk_trace_id"].is_string());
    app.get("/v1/jwks").bearer("sk_test_doesnotexist0123456789").send().await.assert_error(
        401,
        "clerk_key_invalid",
        None,
    );
    app.get("/v1/jwks").bearer("not-a-key").send().await.assert_error(401, "clerk_key_invalid", None);
    let r =
        app.request(axum::http::Method::GET, "/v1/jwks").raw("", "application/json").send().await.assert_status(200);
    assert_eq!(r.headers["content-type"], "application/json");
}

#[tokio::test]
async fn unknown_route_is_a_404_envelope() {
    let app = TestApp::new().await;
    let r = app.get("/v1/no_such_thing").send().await.assert_error(404, "resource_not_found", None);
    assert_eq!(r.headers["content-type"], "application/json");
    for item in r.json["errors"].as_array().unwrap() {
        for field in ["message", "long_message", "code"] {
            assert!(item[field].is_string(), "{field} missing in {item}");
        }
    }
    app.get("/nothing").send().await.assert_error(404, "resource_not_found", None);
}

#[tokio::test]
async fn wrong_method_is_a_405_envelope() {
    let app = TestApp::new().await;
    // /jwks exists with GET only, and the spec has no other method there.
    app.delete("/v1/jwks").send().await.assert_error(405, "method_not_allowed", None);
    app.post("/v1/jwks", json!({})).send().await.assert_error(405, "method_not_allowed", None);
}

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::new().await;
    let r = app.get("/healthz").anonymous().send().await.assert_status(200);
    assert_eq!(r.json["status"], "ok");
    app.get("/readyz").anonymous().send().await.assert_status(200);
}

#[tokio::test]
async fn each_instance_key_resolves_its_own_instance() {
    let app = TestApp::new().await;
    let (other, other_key) = app.create_instance(Environment::Production).await;
    assert!(other_key.starts_with("sk_live_"));
    assert!(other.publishable_key.starts_with("pk_live_"));
    let mine = app.get("/v1/jwks").send().await.assert_status(200).json;
    let theirs = app.get("/v1/jwks").bearer(&other_key).send().await.assert_status(200).json;
    assert_ne!(mine["keys"][0]["kid"], theirs["keys"][0]["kid"]);
}
