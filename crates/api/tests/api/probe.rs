//! Walks the route table the way a client sees it: every spec operation that is routed (answers something other
//! than `operation_not_implemented`), with a minimal valid request body generated from the spec's schema, so that a
//! test about path ids never stops at body validation. Used by the isolation and hostile-input tests.

use std::sync::OnceLock;

use axum::http::Method;
use serde_json::{Map, Value, json};
use tessera_api::operations::{SPEC_OPERATIONS, SpecOperation};
use tessera_testkit::{TestApp, TestRequest};

/// The vendored spec as JSON (for request-body schemas).
fn spec_json() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        // 2026-05-12 has every operation of 2025-11-10 (same request bodies, less metadata) and ten more.
        let text = include_str!("../../../../spec/clerk-bapi-2026-05-12.yml");
        serde_norway::from_str(text).expect("spec YAML")
    })
}

/// The `{param}` names of a path template, in order.
pub fn path_params(template: &str) -> Vec<&str> {
    template.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect()
}

/// `template` with each parameter replaced by `value(name)` (percent-encoded by the caller if needed).
pub fn fill(template: &str, mut value: impl FnMut(&str) -> String) -> String {
    template
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => value(name),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => resolve(spec_json().pointer(pointer).expect("$ref target")),
        None => schema,
    }
}

/// A minimal value for a schema: required properties only, first enum value, small numbers.
fn minimal(schema: &Value, depth: usize) -> Value {
    let schema = resolve(schema);
    if depth > 8 {
        return Value::Null;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return minimal(first, depth + 1);
        }
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|a| a.first()) {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("email") => json!("probe@example.com"),
            _ => json!("probe-value"),
        },
        Some("integer" | "number") => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1).max(1)),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => {
            let mut object = Map::new();
            let properties = schema.get("properties");
            for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                let prop = properties.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                object.insert(name.to_owned(), minimal(prop, depth + 1));
            }
            Value::Object(object)
        }
    }
}

/// A 1×1 PNG, for multipart image uploads.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// `op` at concrete `path` with a minimal valid body for it (JSON, or multipart with a PNG `file`).
pub fn request<'a>(app: &'a TestApp, op: &SpecOperation, path: &str) -> TestRequest<'a> {
    let method = Method::from_bytes(op.method.as_bytes()).expect("method");
    // An operation a later version added is asked for in that version.
    let req = app.request(method, path).api_version(op.since);
    let body = spec_json()["paths"][op.path][op.method.to_ascii_lowercase()]["requestBody"]["content"].clone();
    if let Some(schema) = body.get("application/json").map(|c| &c["schema"]) {
        req.json(minimal(schema, 0))
    } else if body.get("multipart/form-data").is_some() {
        let boundary = "probe-boundary";
        let mut data = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        data.extend_from_slice(PNG);
        data.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        req.raw(data, &format!("multipart/form-data; boundary={boundary}"))
    } else {
        req
    }
}

/// Every spec operation with a path parameter that this server routes, found by asking it: an unrouted operation
/// answers `operation_not_implemented` whatever its ids.
pub async fn routed_with_path_ids(app: &TestApp) -> Vec<&'static SpecOperation> {
    let mut routed = Vec::new();
    for op in SPEC_OPERATIONS.iter().filter(|op| op.path.contains('{')) {
        // Unvalidated: `operation_not_implemented` is a 404 that many operations do not declare.
        let path = format!("/v1{}", fill(op.path, |_| "probe_unrouted_id".into()));
        let request = axum::http::Request::builder()
            .method(op.method)
            .uri(&path)
            .header("authorization", format!("Bearer {}", app.secret_key))
            .body(axum::body::Body::empty())
            .expect("request");
        let response =
            tower::ServiceExt::oneshot(tessera_api::router(app.state.clone()), request).await.expect("router");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.expect("body").to_bytes();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if json["errors"][0]["code"] != "operation_not_implemented" {
            routed.push(op);
        }
    }
    assert!(!routed.is_empty(), "no routed operation with a path id found");
    routed
}

/// Turns on the instance features that gate whole resource groups (organizations), so that a probe reaches the
/// id lookup instead of stopping at "feature disabled". `key` selects another instance than the app's.
pub async fn enable_features(app: &TestApp, key: Option<&str>) {
    let mut req = app.patch("/v1/instance/organization_settings", json!({ "enabled": true }));
    if let Some(key) = key {
        req = req.bearer(key);
    }
    req.send().await.assert_status(200);
}
