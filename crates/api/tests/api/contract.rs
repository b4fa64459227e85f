//! Contract: every operation of the spec is either routed to a real handler or answers
//! `operation_not_implemented`; prints how many are routed.

use axum::http::Method;
use tessera_testkit::TestApp;

/// A concrete path for a template (`{x}` → a placeholder id).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| if seg.starts_with('{') { "tessera_contract_probe" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_spec_operation_is_routed_or_reports_not_implemented() {
    let app = TestApp::new().await;
    assert_eq!(tessera_spec_check::spec().operations().len(), 239);
    assert_eq!(tessera_spec_check::backend_spec("2026-05-12").operations().len(), 249);
    // The table of operations knows both versions' (the union: 2026-05-12 only adds).
    assert_eq!(tessera_api::operations::SPEC_OPERATIONS.len(), 249);
    for version in tessera_spec_check::BACKEND_VERSIONS {
        let ops = tessera_spec_check::backend_spec(version).operations();
        let mut routed = Vec::new();
        let mut pending = Vec::new();
        for (method, template, operation_id) in &ops {
            let path = format!("/v1{}", concrete(template));
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            // Raw bodies bypass the validating client: probe requests are not meant to be valid.
            let request = axum::http::Request::builder()
                .method(method.clone())
                .uri(&path)
                .header("authorization", format!("Bearer {}", app.secret_key))
                .header("content-type", "application/json")
                .header("clerk-api-version", *version)
                .body(axum::body::Body::from("{}"))
                .unwrap();
            let response = tower::ServiceExt::oneshot(tessera_api::router(app.state.clone()), request).await.unwrap();
            let status = response.status().as_u16();
            let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            assert!(status < 500, "{version}: {method} {path} ({operation_id}) answered {status}: {json}");
            assert_ne!(status, 405, "{version}: {method} {path} ({operation_id}) is a spec operation but answered 405");
            if json["errors"][0]["code"] == "operation_not_implemented" {
                assert!(json["errors"][0]["long_message"].as_str().unwrap().contains(operation_id));
                pending.push(*operation_id);
            } else {
                routed.push(*operation_id);
            }
        }
        println!("routed {}/{} under {version}", routed.len(), ops.len());
        println!("not implemented yet under {version}: {}", pending.join(", "));
    }
}

/// An operation 2026-05-12 added is served under 2025-11-10 too (Clerk versions breaking changes only, and
/// clerk-backend-api 7.0 calls these operations as 2025-11-10): never `operation_not_implemented`, never an error
/// about the version.
#[tokio::test]
async fn operations_of_a_newer_version_are_served_under_an_older_one() {
    let app = TestApp::new().await;
    let older = tessera_spec_check::spec().operations();
    for op in tessera_api::operations::SPEC_OPERATIONS.iter().filter(|op| op.since == "2026-05-12") {
        assert!(!older.iter().any(|o| o.2 == op.operation_id), "{} is not in 2025-11-10", op.operation_id);
        let request = axum::http::Request::builder()
            .method(op.method)
            .uri(format!("/v1{}", concrete(op.path)))
            .header("authorization", format!("Bearer {}", app.secret_key))
            .header("content-type", "application/json")
            .header("clerk-api-version", "2025-11-10")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let response = tower::ServiceExt::oneshot(tessera_api::router(app.state.clone()), request).await.unwrap();
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("operation_not_implemented") && !body.contains("API version"),
            "{}: {body}",
            op.operation_id
        );
    }
}

/// Every operation of both Backend API versions is routed: none gets the answer an operation of the spec without a
/// route would get from `routes::fallback` (404 `operation_not_implemented`).
#[tokio::test]
async fn every_operation_of_the_spec_is_routed() {
    let app = TestApp::new().await;
    for op in tessera_api::operations::SPEC_OPERATIONS {
        let request = axum::http::Request::builder()
            .method(op.method)
            .uri(format!("/v1{}", concrete(op.path)))
            .header("authorization", format!("Bearer {}", app.secret_key))
            .header("content-type", "application/json")
            .header("clerk-api-version", "2026-05-12")
            .body(axum::body::Body::from("{}"))
            .unwrap();
        let response = tower::ServiceExt::oneshot(tessera_api::router(app.state.clone()), request).await.unwrap();
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("operation_not_implemented"), "{}: {body}", op.operation_id);
    }
}
