//! API versions: one negotiation for every request (`Clerk-API-Version` header or `__clerk_api_version` query, not
//! both, only Clerk's versions), the instance default when none is named, and the behaviour that differs by
//! version. Each answer is validated against the spec of the version the request named.

use serde_json::json;
use tessera_api::version::ApiVersion;
use tessera_testkit::TestApp;

use crate::organizations::{app as org_app, create_org};
use crate::users::create_user;

#[tokio::test]
async fn metadata_in_patch_user_is_refused_from_2026_05_12_and_accepted_before() {
    let app = TestApp::new().await;
    let u = create_user(&app, json!({ "first_name": "Ada" })).await;
    let path = format!("/v1/users/{}", u["id"].as_str().unwrap());
    for field in ["public_metadata", "private_metadata", "unsafe_metadata"] {
        app.patch(&path, json!({ field: { "k": 1 } })).api_version("2026-05-12").send().await.assert_error(
            422,
            "form_param_unknown",
            Some(field),
        );
    }
    // The same request through the query parameter.
    app.patch(&format!("{path}?__clerk_api_version=2026-05-12"), json!({ "public_metadata": { "k": 1 } }))
        .send()
        .await
        .assert_error(422, "form_param_unknown", Some("public_metadata"));
    // Other fields are fine under 2026-05-12.
    let r = app.patch(&path, json!({ "last_name": "L" })).api_version("2026-05-12").send().await.assert_status(200);
    assert_eq!(r.json["last_name"], "L");
    // 2025-11-10, named or by default, accepts metadata.
    let r = app
        .patch(&path, json!({ "public_metadata": { "k": 2 } }))
        .api_version("2025-11-10")
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["public_metadata"], json!({ "k": 2 }));
    app.patch(&path, json!({ "public_metadata": { "k": 3 } })).send().await.assert_status(200);
    // Older versions of Clerk's are served as 2025-11-10.
    app.patch(&path, json!({ "public_metadata": { "k": 4 } }))
        .api_version("2025-04-10")
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn metadata_in_patch_organization_is_refused_from_2026_05_12() {
    let app = org_app().await;
    let org = create_org(&app, json!({ "name": "Acme" })).await;
    let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());
    for field in ["public_metadata", "private_metadata"] {
        app.patch(&path, json!({ field: { "k": 1 } })).api_version("2026-05-12").send().await.assert_error(
            422,
            "form_param_unknown",
            Some(field),
        );
    }
    app.patch(&path, json!({ "name": "Acme 2" })).api_version("2026-05-12").send().await.assert_status(200);
    let r = app
        .patch(&path, json!({ "public_metadata": { "k": 1 } }))
        .api_version("2025-11-10")
        .send()
        .await
        .assert_status(200);
    assert_eq!(r.json["public_metadata"], json!({ "k": 1 }));
}

#[tokio::test]
async fn both_ways_at_once_or_an_unknown_version_is_a_400_on_any_path() {
    let app = TestApp::new().await;
    for path in ["/v1/users", "/v1/instance", "/v1/no_such_path"] {
        let r = app
            .get(&format!("{path}?__clerk_api_version=2026-05-12"))
            .api_version("2026-05-12")
            .send()
            .await
            .assert_error(400, "bad_request", Some("Clerk-API-Version"));
        assert!(r.json["errors"][0]["long_message"].as_str().unwrap().contains("not both"), "{}", r.json);
        app.get(path).api_version("2026-13-01").send().await.assert_error(
            400,
            "bad_request",
            Some("Clerk-API-Version"),
        );
        app.get(&format!("{path}?__clerk_api_version=latest")).send().await.assert_error(
            400,
            "bad_request",
            Some("__clerk_api_version"),
        );
    }
    // Negotiation comes before authentication: the request is invalid whoever sends it.
    app.get("/v1/users").anonymous().api_version("nope").send().await.assert_status(400);
    // Both versions answer the same list, each valid against its own spec.
    for version in ["2025-11-10", "2026-05-12"] {
        app.get("/v1/users").api_version(version).send().await.assert_status(200);
    }
}

#[tokio::test]
async fn a_request_naming_no_version_gets_the_configured_default() {
    let app = TestApp::new().await.with_default_api_version(ApiVersion::V2026_05_12);
    let u = create_user(&app, json!({ "first_name": "Ada" })).await;
    let path = format!("/v1/users/{}", u["id"].as_str().unwrap());
    app.patch(&path, json!({ "public_metadata": { "k": 1 } })).send().await.assert_error(
        422,
        "form_param_unknown",
        Some("public_metadata"),
    );
    app.patch(&path, json!({ "public_metadata": { "k": 1 } }))
        .api_version("2025-11-10")
        .send()
        .await
        .assert_status(200);
}
