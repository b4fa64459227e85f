//! Clerk's Backend API rate limits, opt-in (`--rate-limits clerk`; off by default), so that an app can test its
//! back-off against Tessera: per instance (the secret key's), 1000 requests per 10 seconds for production instances
//! and 100 for development ones, and for development instances at most 20 user creations (`POST /v1/users`) per
//! 10 seconds (Clerk lifted that one for production in 2025-07). On top, in every environment, the stricter limits
//! Clerk's rate-limit page lists per endpoint: invitations (100 per hour, bulk 25 per hour), organization
//! invitations (250 per hour, bulk 50 per hour) and updates of one user (`PATCH /v1/users/{id}`, `PATCH` and `PUT
//! …/metadata`: 10 per 10 seconds per user). `GET /v1/jwks` is never limited. Over a limit the answer is 429
//! `too_many_requests` in the Clerk envelope with `Retry-After` (seconds until the window ends).
//!
//! Requests without an instance secret key (machine keys, wrong keys) are not counted here: their handlers answer
//! them (a wrong key is a 401 either way).

use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tessera_core::instances::{self, Environment};
use tessera_core::rate_limits::{Counter, Limit};
use tessera_core::{Error, ErrorCode};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::bearer_token;

/// Clerk's window.
const WINDOW_MS: i64 = 10_000;
/// The window of the invitation limits.
const HOUR_MS: i64 = 3_600_000;

/// One of Clerk's per-endpoint limits: `path` has `*` for one path segment (an id).
#[derive(Debug, Clone, Copy)]
struct EndpointLimit {
    method: &'static str,
    path: &'static str,
    /// Counted per the id `*` matched (one user), rather than for the whole instance.
    per_id: bool,
    limit: Limit,
}

/// Clerk's documented per-endpoint limits (https://clerk.com/docs/guides/how-clerk-works/system-limits).
const ENDPOINT_LIMITS: &[EndpointLimit] = &[
    endpoint("POST", "/v1/invitations", false, "create_invitation", 100, HOUR_MS),
    endpoint("POST", "/v1/invitations/bulk", false, "create_invitations_bulk", 25, HOUR_MS),
    endpoint("POST", "/v1/organizations/*/invitations", false, "create_organization_invitation", 250, HOUR_MS),
    endpoint(
        "POST",
        "/v1/organizations/*/invitations/bulk",
        false,
        "create_organization_invitations_bulk",
        50,
        HOUR_MS,
    ),
    endpoint("PATCH", "/v1/users/*", true, "update_user", 10, WINDOW_MS),
    endpoint("PATCH", "/v1/users/*/metadata", true, "update_user", 10, WINDOW_MS),
    endpoint("PUT", "/v1/users/*/metadata", true, "update_user", 10, WINDOW_MS),
];

const fn endpoint(
    method: &'static str,
    path: &'static str,
    per_id: bool,
    bucket: &'static str,
    max: u32,
    window_ms: i64,
) -> EndpointLimit {
    EndpointLimit { method, path, per_id, limit: Limit { bucket, max, window_ms } }
}

impl EndpointLimit {
    /// `None` when the request is not this endpoint's; else the id `*` matched (if any).
    fn matches<'a>(&self, method: &Method, path: &'a str) -> Option<Option<&'a str>> {
        if method.as_str() != self.method {
            return None;
        }
        let mut id = None;
        let mut segments = path.trim_end_matches('/').split('/');
        for pattern in self.path.split('/') {
            let segment = segments.next()?;
            if pattern == "*" {
                if segment.is_empty() {
                    return None;
                }
                id = Some(segment);
            } else if pattern != segment {
                return None;
            }
        }
        segments.next().is_none().then_some(id)
    }
}

/// The limits in force and their counts.
#[derive(Debug)]
pub struct RateLimits {
    production: Limit,
    development: Limit,
    create_user_development: Limit,
    counter: Counter,
}

impl RateLimits {
    /// Clerk's documented Backend API limits.
    pub fn clerk() -> Self {
        Self::new(1000, 100, 20, WINDOW_MS)
    }

    /// Other numbers (tests use small ones): requests per window for production and development instances, user
    /// creations per window for development instances.
    pub fn new(production: u32, development: u32, create_user_development: u32, window_ms: i64) -> Self {
        Self {
            production: Limit { bucket: "all", max: production, window_ms },
            development: Limit { bucket: "all", max: development, window_ms },
            create_user_development: Limit { bucket: "create_user", max: create_user_development, window_ms },
            counter: Counter::default(),
        }
    }

    /// The limits a request of an instance of `environment` counts against, each with the id it is counted for
    /// (`None`: the instance as a whole).
    fn limits_of<'a>(&self, environment: Environment, method: &Method, path: &'a str) -> Vec<(Limit, Option<&'a str>)> {
        let mut limits = Vec::with_capacity(2);
        if environment == Environment::Development {
            limits.push((self.development, None));
            if method == Method::POST && path == "/v1/users" {
                limits.push((self.create_user_development, None));
            }
        } else {
            limits.push((self.production, None));
        }
        for e in ENDPOINT_LIMITS {
            if let Some(id) = e.matches(method, path) {
                limits.push((e.limit, id.filter(|_| e.per_id)));
            }
        }
        limits
    }
}

/// Whether a path is one of the Backend API's counted operations (not JWKS, not health checks or pages).
fn counted(path: &str) -> bool {
    let api =
        path.starts_with("/v1/") || crate::routes::fallback::UNVERSIONED_PREFIXES.iter().any(|p| path.starts_with(p));
    api && path != "/v1/jwks"
}

/// The Backend API's second step (in [`crate::Backend::answer`]): counts the request and returns the 429 to
/// answer once a limit is reached, `None` to go on.
pub async fn check(app: &AppState, request: &Parts) -> Option<Response> {
    let limits = app.rate_limits.as_deref()?;
    if !counted(request.uri.path()) {
        return None;
    }
    let instance = match bearer_token(request) {
        Some(key) if key.starts_with("sk_") => instances::authenticate(&app.ctx, key).await.ok()?,
        _ => return None,
    };
    for (limit, id) in limits.limits_of(instance.environment, &request.method, request.uri.path()) {
        match limits.counter.hit(&app.ctx, &instance.id, limit, id).await {
            Ok(None) => {}
            Ok(Some(retry_after_ms)) => return Some(too_many_requests(retry_after_ms)),
            Err(e) => return Some(ApiError(e).into_response()),
        }
    }
    None
}

fn too_many_requests(retry_after_ms: i64) -> Response {
    // Whole seconds, rounded up: retrying after them lands in the next window.
    let seconds = (retry_after_ms.max(1) + 999) / 1000;
    let mut response = ApiError(Error::with(
        ErrorCode::TooManyRequests,
        ErrorCode::TooManyRequests.message(),
        format!("Too many requests for this instance. Retry after {seconds} seconds."),
        None,
    ))
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(environment: Environment, method: Method, path: &str) -> Vec<(&'static str, u32, Option<&str>)> {
        RateLimits::clerk()
            .limits_of(environment, &method, path)
            .into_iter()
            .map(|(l, id)| (l.bucket, l.max, id))
            .collect()
    }

    #[test]
    fn clerks_endpoint_limits() {
        use Environment::{Development, Production};
        assert_eq!(
            buckets(Production, Method::POST, "/v1/invitations"),
            [("all", 1000, None), ("create_invitation", 100, None)]
        );
        assert_eq!(
            buckets(Development, Method::POST, "/v1/invitations/bulk")[1],
            ("create_invitations_bulk", 25, None)
        );
        assert_eq!(
            buckets(Production, Method::POST, "/v1/organizations/org_1/invitations")[1],
            ("create_organization_invitation", 250, None)
        );
        assert_eq!(
            buckets(Production, Method::POST, "/v1/organizations/org_1/invitations/bulk")[1],
            ("create_organization_invitations_bulk", 50, None)
        );
        for (method, path) in [
            (Method::PATCH, "/v1/users/user_1"),
            (Method::PATCH, "/v1/users/user_1/metadata"),
            (Method::PUT, "/v1/users/user_1/metadata"),
        ] {
            assert_eq!(buckets(Production, method, path)[1], ("update_user", 10, Some("user_1")));
        }
        // Reads and other operations count against the instance's limit only.
        for (method, path) in [
            (Method::GET, "/v1/invitations"),
            (Method::POST, "/v1/invitations/inv_1/revoke"),
            (Method::GET, "/v1/users/user_1"),
            (Method::POST, "/v1/organizations//invitations"),
        ] {
            assert_eq!(buckets(Production, method, path).len(), 1, "{path}");
        }
    }
}
