//! Answers for requests no handler takes: an operation of the spec that is not implemented yet (404
//! `operation_not_implemented` naming it — a 4xx, because the generated SDKs retry 5xx for up to an hour), a
//! known path with a method it does not have (405), or an unknown path (404).

use axum::http::{Method, Uri};

use crate::error::ApiError;
use crate::operations::{SPEC_OPERATIONS, SpecOperation};
use tessera_core::{Error, ErrorCode};

/// Paths that the SDKs also call without the `/v1` prefix.
pub const UNVERSIONED_PREFIXES: &[&str] = &["/api_keys", "/m2m_tokens", "/oauth_applications/access_tokens/verify"];

/// Whether a concrete path matches a spec template (`{param}` matches one non-empty segment).
pub fn path_matches(template: &str, path: &str) -> bool {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path.trim_matches('/').split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// The spec path (without `/v1`) a request path stands for, if it is under `/v1` or an unversioned alias.
fn spec_path(path: &str) -> Option<&str> {
    if let Some(rest) = path.strip_prefix("/v1") {
        return rest.starts_with('/').then_some(rest);
    }
    UNVERSIONED_PREFIXES.iter().any(|p| path.starts_with(p)).then_some(path)
}

/// Spec operations whose template matches the request path.
pub fn operations_at(path: &str) -> Vec<&'static SpecOperation> {
    let Some(path) = spec_path(path) else { return Vec::new() };
    SPEC_OPERATIONS.iter().filter(|op| path_matches(op.path, path)).collect()
}

fn unmatched(method: &Method, uri: &Uri) -> ApiError {
    let candidates = operations_at(uri.path());
    if let Some(op) = candidates.iter().find(|op| op.method == method.as_str()) {
        return Error::not_implemented(op.operation_id).into();
    }
    if candidates.is_empty() {
        Error::with(
            ErrorCode::ResourceNotFound,
            "not found",
            format!("No route matches {} {}.", method, uri.path()),
            None,
        )
        .into()
    } else {
        Error::with(
            ErrorCode::MethodNotAllowed,
            "method not allowed",
            format!("{} is not allowed on {}.", method, uri.path()),
            None,
        )
        .into()
    }
}

/// Router fallback: no route matched the path.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    unmatched(&method, &uri)
}

/// Router fallback: the path matched a route, the method did not.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    unmatched(&method, &uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segments() {
        assert!(path_matches("/users/{user_id}", "/users/user_1"));
        assert!(!path_matches("/users/{user_id}", "/users"));
        assert!(!path_matches("/users/{user_id}", "/users/a/b"));
        assert!(path_matches("/users/count", "/users/count"));
    }

    #[test]
    fn unversioned_aliases_only_for_machine_auth() {
        assert!(!operations_at("/api_keys/verify").is_empty());
        assert!(operations_at("/users").is_empty());
        assert!(!operations_at("/v1/users").is_empty());
    }
}
