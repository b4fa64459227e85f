//! A SCIM client for tests: requests to a directory's SCIM service provider on the instance's frontend host,
//! every answer checked against RFC 7644's rules — `application/scim+json`, error bodies with the Error schema
//! and the status as a string, `scimType` only from the RFC's list, never a 5xx.

use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::TestApp;

/// The `scimType`s of RFC 7644 §3.12.
const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

/// A directory's SCIM endpoint as its IdP calls it.
pub struct ScimClient<'a> {
    app: &'a TestApp,
    directory_id: String,
    token: Option<String>,
}

/// A checked SCIM answer.
#[derive(Debug)]
pub struct ScimResponse {
    /// HTTP status.
    pub status: u16,
    /// Body (`Null` when empty).
    pub json: Value,
}

impl ScimResponse {
    /// Asserts the status.
    #[track_caller]
    pub fn status(self, expected: u16) -> Self {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.json);
        self
    }

    /// Asserts a SCIM error with this status and `scimType` (`None`: none).
    #[track_caller]
    pub fn error(self, status: u16, scim_type: Option<&str>) -> Self {
        let this = self.status(status);
        assert_eq!(this.json["scimType"].as_str(), scim_type, "scimType; body: {}", this.json);
        this
    }
}

impl TestApp {
    /// The SCIM endpoint of `directory_id`, authenticated with `token`.
    pub fn scim(&self, directory_id: &str, token: &str) -> ScimClient<'_> {
        ScimClient { app: self, directory_id: directory_id.to_owned(), token: Some(token.to_owned()) }
    }
}

impl ScimClient<'_> {
    /// The same endpoint without any bearer token.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// Sends `method path` (relative to the directory's base URL) with a raw body.
    pub async fn raw(&self, method: Method, path: &str, body: Vec<u8>) -> ScimResponse {
        let mut b = Request::builder()
            .method(method.clone())
            .uri(format!("/scim/v2/{}{path}", self.directory_id))
            .header("host", self.app.instance.frontend_host())
            .header("content-type", "application/scim+json");
        if let Some(t) = &self.token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let res = self.app.router.clone().oneshot(b.body(Body::from(body)).expect("request")).await.expect("router");
        let status = res.status().as_u16();
        let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        assert!(
            status < 500,
            "{method} {path}: a SCIM request never fails with {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        if bytes.is_empty() {
            assert!(status == 204, "{method} {path}: only 204 has no body (got {status})");
            return ScimResponse { status, json: Value::Null };
        }
        assert_eq!(ct.as_deref(), Some("application/scim+json"), "{method} {path}: the SCIM media type");
        let json: Value = serde_json::from_slice(&bytes).expect("a SCIM body is JSON");
        if status >= 400 {
            assert_eq!(json["schemas"], serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{json}");
            assert_eq!(json["status"], Value::String(status.to_string()), "status is a string: {json}");
            if let Some(t) = json.get("scimType") {
                assert!(t.as_str().is_some_and(|t| SCIM_TYPES.contains(&t)), "scimType from RFC 7644: {json}");
            }
        }
        ScimResponse { status, json }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> ScimResponse {
        self.raw(Method::GET, path, Vec::new()).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> ScimResponse {
        self.raw(Method::POST, path, body.to_string().into_bytes()).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> ScimResponse {
        self.raw(Method::PUT, path, body.to_string().into_bytes()).await
    }

    /// `PATCH path` with these operations (wrapped in a PatchOp message).
    pub async fn patch(&self, path: &str, operations: Value) -> ScimResponse {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        });
        self.raw(Method::PATCH, path, body.to_string().into_bytes()).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> ScimResponse {
        self.raw(Method::DELETE, path, Vec::new()).await
    }
}

/// A request to `path` on another `host` with a bearer token, checked like [`ScimClient`]'s (for requests that
/// address a directory through the wrong instance's host).
pub async fn raw_on_host(app: &TestApp, host: &str, method: Method, path: &str, token: &str) -> ScimResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("router");
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    assert!(status < 500, "{path}: {status}");
    ScimResponse { status, json: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}
