//! Tessera's HTTP layer: Clerk's Backend API over axum. Handlers are thin: extract, validate, call one core
//! function, map to a Clerk object.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::response::IntoResponse;
use axum::routing::get;
use tessera_core::{Ctx, Error};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

pub mod error;
pub mod extract;
pub mod list;
pub mod objects;
pub mod operations;
pub mod portal;
pub mod routes;
pub mod worker;

/// State shared by all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The core context.
    pub ctx: Arc<Ctx>,
}

impl AppState {
    /// Wraps a context.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx: Arc::new(ctx) }
    }
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz));
    for route in routes::table() {
        if route.unversioned {
            app = app.route(route.path, route.handlers.clone());
        }
        app = app.route(&format!("/v1{}", route.path), route.handlers);
    }
    app.merge(portal::router())
        .fallback(routes::fallback::not_found)
        .method_not_allowed_fallback(routes::fallback::method_not_allowed)
        .layer(CatchPanicLayer::custom(|_panic| error::ApiError(Error::internal(anyhow_panic())).into_response()))
        .layer(TraceLayer::new_for_http())
        // Secrets travel in these headers; they must never reach a log line.
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION, COOKIE]))
        .layer(axum::middleware::from_fn(request_deadline))
        .with_state(state)
}

/// How long a request may take before it is answered 503 (in the Clerk envelope, with `Retry-After`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Bounds every request's duration. An abandoned handler's open transaction rolls back when it is dropped.
async fn request_deadline(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::ApiError(Error::new(tessera_core::ErrorCode::ServiceUnavailable)).into_response(),
    }
}

fn anyhow_panic() -> std::io::Error {
    std::io::Error::other("handler panicked")
}

/// `GET /healthz`: the process is up.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
async fn readyz(
    axum::extract::State(app): axum::extract::State<AppState>,
) -> Result<impl IntoResponse, error::ApiError> {
    app.ctx.db.ping().await.map_err(Error::from)?;
    Ok(axum::Json(serde_json::json!({ "status": "ready" })))
}
