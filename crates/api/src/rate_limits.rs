//! Clerk's Backend API rate limits, opt-in (`--rate-limits clerk`; off by default), so that an app can test its
//! back-off against Tessera: per instance (the secret key's), 1000 requests per 10 seconds for production instances
//! and 100 for development ones, and for development instances at most 20 user creations (`POST /v1/users`) per
//! 10 seconds (Clerk lifted that one for production in 2025-07). `GET /v1/jwks` is never limited. Over a limit the
//! answer is 429 `too_many_requests` in the Clerk envelope with `Retry-After` (seconds until the window ends).
//!
//! Requests without an instance secret key (machine keys, wrong keys) are not counted here: their handlers answer
//! them (a wrong key is a 401 either way).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_core::instances::{self, Environment};
use tessera_core::rate_limits::{Counter, Limit};
use tessera_core::{Error, ErrorCode};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::bearer_token;

/// Clerk's window.
const WINDOW_MS: i64 = 10_000;

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

    /// The limits a request of an instance of `environment` counts against.
    fn limits_of(&self, environment: Environment, method: &Method, path: &str) -> Vec<Limit> {
        let mut limits = Vec::with_capacity(2);
        if environment == Environment::Development {
            limits.push(self.development);
            if method == Method::POST && path == "/v1/users" {
                limits.push(self.create_user_development);
            }
        } else {
            limits.push(self.production);
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

/// Middleware of the Backend API: counts the request and answers 429 once a limit is reached.
pub async fn enforce(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limits) = app.rate_limits.as_deref() else { return next.run(request).await };
    if !counted(request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let instance = match bearer_token(&parts) {
        Some(key) if key.starts_with("sk_") => instances::authenticate(&app.ctx, key).await.ok(),
        _ => None,
    };
    if let Some(instance) = instance {
        for limit in limits.limits_of(instance.environment, &parts.method, parts.uri.path()) {
            match limits.counter.hit(&app.ctx, &instance.id, limit).await {
                Ok(None) => {}
                Ok(Some(retry_after_ms)) => return too_many_requests(retry_after_ms),
                Err(e) => return ApiError(e).into_response(),
            }
        }
    }
    next.run(Request::from_parts(parts, body)).await
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
