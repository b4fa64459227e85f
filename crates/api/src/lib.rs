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

use crate::dists::Dists;

pub mod billing_clock;
pub mod dists;
pub mod error;
pub mod extract;
pub mod json;
pub mod list;
pub mod metrics;
pub mod objects;
pub mod operations;
pub mod outbound;
pub mod portal;
pub mod rate_limits;
pub mod routes;
pub mod version;
pub mod worker;

/// State shared by all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The core context.
    pub ctx: Arc<Ctx>,
    /// The `dist` directories of `@clerk/clerk-js` served at `/npm/@clerk/clerk-js@{version}/dist/…`.
    pub clerk_js: Arc<Dists>,
    /// The `dist` directories of `@clerk/ui` served at `/npm/@clerk/ui@{version}/dist/…`.
    pub clerk_ui: Arc<Dists>,
    /// The Backend API version of requests that name none (`--default-api-version`; 2025-11-10).
    pub default_api_version: version::ApiVersion,
    /// Clerk's rate limits, when turned on (`--rate-limits clerk`).
    pub rate_limits: Option<Arc<rate_limits::RateLimits>>,
}

impl AppState {
    /// Wraps a context.
    pub fn new(ctx: Ctx) -> Self {
        Self {
            ctx: Arc::new(ctx),
            clerk_js: Arc::default(),
            clerk_ui: Arc::default(),
            default_api_version: version::ApiVersion::V2025_11_10,
            rate_limits: None,
        }
    }

    /// Enforces these rate limits on the Backend API.
    #[must_use]
    pub fn with_rate_limits(mut self, limits: rate_limits::RateLimits) -> Self {
        self.rate_limits = Some(Arc::new(limits));
        self
    }

    /// Serves requests that name no Backend API version as `version`.
    #[must_use]
    pub fn with_default_api_version(mut self, version: version::ApiVersion) -> Self {
        self.default_api_version = version;
        self
    }

    /// Serves clerk-js and its UI from these `dist` directories (any number of each, e.g. clerk-js 5 and 6).
    #[must_use]
    pub fn with_clerk_dirs(
        mut self,
        clerk_js: impl IntoIterator<Item = std::path::PathBuf>,
        clerk_ui: impl IntoIterator<Item = std::path::PathBuf>,
    ) -> Self {
        self.clerk_js = Arc::new(Dists::open(clerk_js));
        self.clerk_ui = Arc::new(Dists::open(clerk_ui));
        self
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
    let routed = app
        .merge(portal::router())
        .route_layer(axum::middleware::from_fn(metrics::tag_operation))
        .fallback(routes::fallback::not_found)
        .method_not_allowed_fallback(routes::fallback::method_not_allowed)
        .with_state(state.clone());
    let gated = tower::Layer::layer(&axum::middleware::from_fn_with_state(state, backend_gate), routed);
    with_request_layers(gated, metrics::Face::Backend)
}

/// The Backend API's steps before routing: the API version negotiated once, then Clerk's rate limits. One
/// middleware for both, as [`edge`] is one for the shared steps: each `from_fn` boxes and moves the whole future
/// of everything inside it.
async fn backend_gate(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match version::negotiate(&app, request) {
        Ok(request) => rate_limits::enforce(&app, request, next).await,
        Err(refused) => error::ApiError(refused).into_response(),
    }
}

/// The layers every face shares: panics and deadlines answered in the Clerk envelope, the request trace without
/// secrets or query values, unusable paths refused before routing, and the request metrics of the face.
///
/// Middleware wraps a face's routed service as a whole, never through `Router::layer`: that wraps every route
/// separately, and axum clones a route's whole stack (a box per layer) for each request it answers — that cloning
/// was a third of the instructions of `GET /v1/jwks`. Around the whole service, a request clones one router handle.
pub fn with_request_layers<S>(service: S, face: metrics::Face) -> Router
where
    S: tower::Service<axum::extract::Request, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let layered = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(move |request, next| edge(face, request, next)))
        // Secrets travel in these headers; they must never reach a log line.
        .layer(SetSensitiveRequestHeadersLayer::new([
            AUTHORIZATION,
            COOKIE,
            axum::http::HeaderName::from_static("clerk-secret-key"),
        ]))
        .layer(TraceLayer::new_for_http().make_span_with(request_span::<axum::body::Body>))
        .layer(CatchPanicLayer::custom(|_panic| error::ApiError(Error::internal(anyhow_panic())).into_response()))
        .service(service);
    Router::new().fallback_service(layered)
}

/// The span of a request in the trace logs: method, path and the NAMES of the query parameters. Query values
/// stay out of the logs: list filters carry e-mail addresses, phone numbers and other personal data
/// (`?email_address=…`), and tower-http's default span would record the whole URI.
fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        query = %query_names(request.uri().query()),
        version = ?request.version(),
    )
}

/// `a=1&b=x&a=2` → `a,b,a`.
fn query_names(query: Option<&str>) -> String {
    let names =
        query.unwrap_or_default().split('&').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap_or(p));
    names.collect::<Vec<_>>().join(",")
}

/// How long a request may take before it is answered 503 (in the Clerk envelope, with `Retry-After`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The first steps of every request of a face, in one middleware: the request metrics around everything; a path
/// whose segments decode to something no id can be (invalid UTF-8, control characters such as NUL) names no
/// resource — 404 in the Clerk envelope, before a handler's extractor answers a bare 400 or a database refuses the
/// value with a 500; and a deadline on the rest (an abandoned handler's open transaction rolls back when it is
/// dropped).
async fn edge(
    face: metrics::Face,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let observed = metrics::Observed::start(face, request.method());
    let path = request.uri().path();
    let response = if path.contains('%') && !percent_decoded_is_usable(path) {
        error::ApiError(Error::with(
            tessera_core::ErrorCode::ResourceNotFound,
            "not found",
            "No resource has this id.",
            None,
        ))
        .into_response()
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
            Ok(response) => response,
            Err(_) => error::ApiError(Error::new(tessera_core::ErrorCode::ServiceUnavailable)).into_response(),
        }
    };
    observed.finish(&response);
    response
}

/// Whether `path` percent-decodes to UTF-8 without control characters.
fn percent_decoded_is_usable(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&out).is_ok_and(|s| !s.chars().any(char::is_control))
}

fn anyhow_panic() -> std::io::Error {
    std::io::Error::other("handler panicked")
}

/// `GET /healthz`: the process is up.
async fn healthz() -> impl IntoResponse {
    crate::json::Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
async fn readyz(
    axum::extract::State(app): axum::extract::State<AppState>,
) -> Result<impl IntoResponse, error::ApiError> {
    app.ctx.db.ping().await.map_err(Error::from)?;
    Ok(crate::json::Json(serde_json::json!({ "status": "ready" })))
}
