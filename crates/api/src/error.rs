//! Renders core errors as Clerk's `ClerkErrors` envelope.

use crate::json::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tessera_core::{Error, ErrorCode};

/// The error type of every handler: a core error, answered in the Clerk envelope.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self(Error::new(code))
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let trace_id = hex_trace_id();
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            // The cause goes to the log with the trace id, never to the client.
            tracing::error!(clerk_trace_id = %trace_id, error = ?err.source_error(), "request failed: {err}");
        }
        let errors: Vec<Value> = err
            .items()
            .iter()
            .map(|item| {
                let mut v = json!({
                    "message": item.message,
                    "long_message": item.long_message,
                    "code": item.code.as_str(),
                });
                if let Some(meta) = &item.meta {
                    v["meta"] = serde_json::to_value(meta).unwrap_or(Value::Null);
                }
                v
            })
            .collect();
        let mut response = (status, Json(json!({ "errors": errors, "clerk_trace_id": trace_id }))).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

fn hex_trace_id() -> String {
    tessera_core::ids::new_hex_id("trace")["trace_".len()..].to_owned()
}
