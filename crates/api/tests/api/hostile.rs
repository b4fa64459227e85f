//! Hostile input: NUL bytes, invalid UTF-8, over-long and deeply nested bodies, trailing garbage, wrong content
//! types, unusable path ids. Always a Clerk error envelope with a 4xx the spec allows (the validating client checks
//! that), never a 500, never a half-written object.

use axum::http::Method;
use serde_json::json;
use tessera_testkit::{TestApp, TestResponse};

use crate::probe::{self, fill};

#[track_caller]
fn assert_client_error(res: &TestResponse, what: &str) {
    assert!(
        (400..500).contains(&res.status) && res.json["errors"][0]["code"].is_string(),
        "{what}: expected a 4xx Clerk error, got {} {}",
        res.status,
        String::from_utf8_lossy(&res.body)
    );
}

/// Path ids no resource can have because no id can hold them (NUL, control characters, invalid UTF-8): 404.
const UNUSABLE_IDS: &[&str] = &["%00", "user_%00", "%FF%FE", "%C3%28", "%25%00%0A", "a%0Db", "%7F"];

/// Printable ids that name nothing: 404, or 400 naming the path parameter where an operation checks the id's
/// format first (the machine-auth family, as Clerk).
const WRONG_IDS: &[&str] = &["..%2F..%2Fjwks", "%E2%80%AE", "'%20OR%201=1--", "%2525", "%F0%9F%98%80"];

/// Path parameters that are names, not ids (validated like body values: 422 for an unknown name).
const NOT_IDS: &[&str] = &["provider", "template_name"];

#[tokio::test]
async fn unusable_path_ids_answer_404() {
    let app = TestApp::new().await;
    crate::probe::enable_features(&app, None).await;
    let long = "x".repeat(5000);
    for op in probe::routed_with_path_ids(&app).await {
        let ids = UNUSABLE_IDS.iter().map(|id| (*id, true)).chain(WRONG_IDS.iter().map(|id| (*id, false)));
        for (bad, unusable) in ids.chain([(long.as_str(), false)]) {
            let path = format!(
                "/v1{}",
                fill(op.path, |p| if NOT_IDS.contains(&p) { "oauth_google".to_owned() } else { bad.to_owned() })
            );
            let res = probe::request(&app, op, &path).send().await;
            let what = format!("{} with id {bad:.40}", op.operation_id);
            assert_client_error(&res, &what);
            let param = res.json["errors"][0]["meta"]["param_name"].as_str().unwrap_or_default();
            let format_check = !unusable && res.status == 400 && probe::path_params(op.path).contains(&param);
            assert!(res.status == 404 || format_check, "{what}: {} {}", res.status, res.json);
        }
    }
}

/// JSON-body operations, each with a string field that is stored.
const BODY_OPS: &[(&str, &str, &str)] = &[
    ("POST", "/v1/users", "first_name"),
    ("POST", "/v1/machines", "name"),
    ("POST", "/v1/api_keys", "name"),
    ("PATCH", "/v1/users/{user_id}", "first_name"),
];

#[tokio::test]
async fn hostile_bodies_get_clerk_errors() {
    let app = TestApp::new().await;
    let user = app.post("/v1/users", json!({ "external_id": "subject" })).send().await.assert_status(200).json;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let long = format!("{{\"name\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    for (method, path, field) in BODY_OPS {
        let path = &path.replace("{user_id}", user["id"].as_str().expect("user id"));
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
            ("NUL in a string", format!("{{\"{field}\":\"a\\u0000b\"}}").into_bytes(), "application/json"),
            ("NUL in a key", b"{\"a\\u0000b\":\"x\"}".to_vec(), "application/json"),
            ("raw NUL byte", format!("{{\"{field}\":\"a\0b\"}}").into_bytes(), "application/json"),
            (
                "invalid UTF-8",
                [&b"{\""[..], field.as_bytes(), b"\":\"\xff\xfe\xc3\x28\"}"].concat(),
                "application/json",
            ),
            ("trailing garbage", format!("{{\"{field}\":\"ok name\"}} trailing").into_bytes(), "application/json"),
            ("two documents", b"{}{}".to_vec(), "application/json"),
            ("deep nesting", deep.clone().into_bytes(), "application/json"),
            ("deep object", format!("{{\"{field}\":{}}}", "{\"a\":".repeat(10_000)).into_bytes(), "application/json"),
            ("over-long body", long.clone().into_bytes(), "application/json"),
            ("form encoding", format!("{field}=x").into_bytes(), "application/x-www-form-urlencoded"),
            ("XML", b"<user><name>x</name></user>".to_vec(), "application/xml"),
            ("lone surrogate", format!("{{\"{field}\":\"\\ud800\"}}").into_bytes(), "application/json"),
            ("huge number", format!("{{\"{field}\":1e999999}}").into_bytes(), "application/json"),
        ];
        for (what, body, content_type) in bodies {
            let res = app.request(method.clone(), path).raw(body, content_type).send().await;
            assert_client_error(&res, &format!("{method} {path}: {what}"));
        }
    }
    // Nothing was written by any of them.
    let users = app.get("/v1/users").send().await.assert_status(200).json;
    assert_eq!(users.as_array().map(Vec::len), Some(1), "only the subject exists: {users}");
    assert_eq!(users[0]["id"], user["id"]);
    let machines = app.get("/v1/machines").send().await.assert_status(200).json;
    assert_eq!(machines["total_count"], 0, "{machines}");
}

#[tokio::test]
async fn hostile_query_strings_get_clerk_errors() {
    let app = TestApp::new().await;
    for path in [
        "/v1/users?email_address=%00",
        "/v1/users?query=a%00b",
        "/v1/users?user_id=%FF%FE",
        "/v1/users?limit=%00",
        "/v1/users?order_by=%00",
        "/v1/users/count?external_id=%00",
        "/v1/machines?query=%00",
        "/v1/api_keys?subject=%00",
        "/v1/m2m_tokens?subject=%00",
    ] {
        let res = app.get(path).send().await;
        assert!(res.status < 500, "GET {path}: {} {}", res.status, res.json);
        if res.status >= 400 {
            assert_client_error(&res, path);
        }
    }
}
