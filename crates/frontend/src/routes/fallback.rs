//! Answers for Frontend API requests no handler takes: an operation of the FAPI spec not implemented yet (404
//! `operation_not_implemented` naming it), a known path with another method (405), or an unknown path (404).

use axum::http::{Method, Uri};
use tessera_api::error::ApiError;
use tessera_api::routes::fallback::path_matches;
use tessera_core::{Error, ErrorCode};

use crate::operations::FRONTEND_OPERATIONS;

fn unmatched(method: &Method, uri: &Uri) -> ApiError {
    let path = uri.path();
    let candidates: Vec<_> = FRONTEND_OPERATIONS.iter().filter(|op| path_matches(op.path, path)).collect();
    if let Some(op) = candidates.iter().find(|op| op.method == method.as_str()) {
        return Error::not_implemented(op.operation_id).into();
    }
    let (code, message, long) = if candidates.is_empty() {
        (ErrorCode::ResourceNotFound, "not found", format!("No Frontend API route matches {method} {path}."))
    } else {
        (ErrorCode::MethodNotAllowed, "method not allowed", format!("{method} is not allowed on {path}."))
    };
    Error::with(code, message, long, None).into()
}

/// Router fallback: no route matched the path.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    unmatched(&method, &uri)
}

/// Router fallback: the path matched a route, the method did not.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    unmatched(&method, &uri)
}
