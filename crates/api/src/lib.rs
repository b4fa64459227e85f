//! Tessera's HTTP layer: Clerk's Backend API over axum. Handlers are thin: extract, validate, call one core
//! function, map to a Clerk object.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tessera_core::{Ctx, Error};
use tracing::Instrument;

use crate::dists::Dists;
use crate::lazy_route::LazyRoute;
use crate::route_table::RouteTable;

pub mod billing_clock;
pub mod dists;
pub mod error;
pub mod extract;
pub mod json;
pub mod lazy_route;
pub mod list;
pub mod metrics;
pub mod objects;
pub mod operations;
pub mod outbound;
pub mod portal;
pub mod rate_limits;
pub mod route_table;
pub mod routes;
pub mod version;
pub mod worker;

/// State shared by all handlers: one `Arc`, since axum clones the state for every handler it calls (a clone and a
/// drop of each field's `Arc` was a percent of `GET /v1/jwks`). Its fields are read through `Deref`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
#[derive(Debug, Clone)]
pub struct Shared {
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

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Wraps a context.
    pub fn new(ctx: Ctx) -> Self {
        Self(Arc::new(Shared {
            ctx: Arc::new(ctx),
            clerk_js: Arc::default(),
            clerk_ui: Arc::default(),
            default_api_version: version::ApiVersion::V2025_11_10,
            rate_limits: None,
        }))
    }

    /// Enforces these rate limits on the Backend API.
    #[must_use]
    pub fn with_rate_limits(mut self, limits: rate_limits::RateLimits) -> Self {
        Arc::make_mut(&mut self.0).rate_limits = Some(Arc::new(limits));
        self
    }

    /// Serves requests that name no Backend API version as `version`.
    #[must_use]
    pub fn with_default_api_version(mut self, version: version::ApiVersion) -> Self {
        Arc::make_mut(&mut self.0).default_api_version = version;
        self
    }

    /// Serves clerk-js and its UI from these `dist` directories (any number of each, e.g. clerk-js 5 and 6).
    #[must_use]
    pub fn with_clerk_dirs(
        mut self,
        clerk_js: impl IntoIterator<Item = std::path::PathBuf>,
        clerk_ui: impl IntoIterator<Item = std::path::PathBuf>,
    ) -> Self {
        let shared = Arc::make_mut(&mut self.0);
        shared.clerk_js = Arc::new(Dists::open(clerk_js));
        shared.clerk_ui = Arc::new(Dists::open(clerk_ui));
        self
    }
}

/// The Backend API alone as an HTTP application (the server serves [`Backend`] behind the frontend host's
/// dispatch, `tessera_frontend::app`).
pub fn router(state: AppState) -> Router {
    // One `Arc` clone per request, not a clone of the state and the routes.
    let backend = Arc::new(Backend::new(state));
    Router::new().fallback_service(tower::service_fn(move |request: Request| {
        let backend = backend.clone();
        async move { Ok::<_, Infallible>(edge(metrics::Face::Backend, request, |r| backend.answer(r)).await) }
    }))
}

/// The Backend API's routes with their state, and the steps before routing.
pub struct Backend {
    state: AppState,
    routes: RouteTable<AppState>,
}

impl Backend {
    /// The route table, with the state it serves.
    pub fn new(state: AppState) -> Self {
        let lazy = |make| LazyRoute::new(make, routes::fallback::method_not_allowed, &state);
        let mut table = RouteTable::new(LazyRoute::fallback(routes::fallback::not_found, &state))
            .route("/healthz", lazy(|| lazy_route::get(healthz)))
            .route("/readyz", lazy(|| lazy_route::get(readyz)));
        for route in routes::table() {
            let lazy = lazy(route.handlers);
            if route.unversioned {
                table = table.route(route.path, lazy.clone());
            }
            table = table.route(&format!("/v1{}", route.path), lazy);
        }
        let routes = portal::routes(table, &state);
        Self { state, routes }
    }

    /// Answers a Backend API request: the API version negotiated once, then Clerk's rate limits, then the route.
    pub async fn answer(&self, request: Request) -> Response {
        let request = match version::negotiate(request) {
            Ok(request) => request,
            Err(refused) => return error::ApiError(refused).into_response(),
        };
        let request = if self.state.rate_limits.is_some() {
            // Split: a `&Request` (its body is not `Sync`) cannot be held across the counter's await.
            let (parts, body) = request.into_parts();
            if let Some(refusal) = rate_limits::check(&self.state, &parts).await {
                return refusal;
            }
            Request::from_parts(parts, body)
        } else {
            request
        };
        self.routes.answer(request).await
    }
}

/// Headers that carry secrets: marked sensitive, so that no log line or `Debug` output shows their values.
const SENSITIVE_HEADERS: [HeaderName; 3] = [AUTHORIZATION, COOKIE, HeaderName::from_static("clerk-secret-key")];

/// How long a request may take before it is answered 503 (in the Clerk envelope, with `Retry-After`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every request of a face goes through around `answer`, in one async function rather than a stack of
/// middleware (each `from_fn` or tower layer boxed or moved the whole future of everything inside it, and axum
/// clones a layered router's stack per request: `memcpy` alone was a tenth of `GET /v1/jwks`):
/// - the request metrics of the face around everything;
/// - a path whose segments decode to something no id can be (invalid UTF-8, control characters such as NUL) names
///   no resource — 404 in the Clerk envelope, before a handler's extractor answers a bare 400 or a database refuses
///   the value with a 500;
/// - secret-bearing headers marked sensitive, and the request's trace span (method, path and the NAMES of the
///   query parameters: values carry e-mail addresses and other personal data);
/// - a panic answered as a 500 in the Clerk envelope, and a deadline on the rest answered as a 503 (an abandoned
///   handler's open transaction rolls back when it is dropped).
pub async fn edge<F, Fut>(face: metrics::Face, mut request: Request, answer: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
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
        // One pass over the request's few headers rather than a hashed lookup per sensitive name.
        for (name, value) in request.headers_mut().iter_mut() {
            if SENSITIVE_HEADERS.contains(name) {
                value.set_sensitive(true);
            }
        }
        let span = request_span(&request);
        let answered = async {
            tracing::debug!("started processing request");
            let response = match AssertUnwindSafe(answer(request)).catch_unwind().await {
                Ok(response) => response,
                Err(_panic) => error::ApiError(Error::internal(anyhow_panic())).into_response(),
            };
            // The latency inside the events: read from the clock only when the event is logged.
            let status = response.status().as_u16();
            if response.status().is_server_error() {
                tracing::error!(status, latency_ms = observed.elapsed().as_millis(), "response failed");
            } else {
                tracing::debug!(status, latency_ms = observed.elapsed().as_millis(), "finished processing request");
            }
            response
        };
        match within(observed.deadline(REQUEST_TIMEOUT), answered.instrument(span)).await {
            Some(response) => response,
            None => error::ApiError(Error::new(tessera_core::ErrorCode::ServiceUnavailable)).into_response(),
        }
    };
    observed.finish(&response);
    response
}

/// The span of a request in the trace logs: method, path and the NAMES of the query parameters. Query values
/// stay out of the logs: list filters carry e-mail addresses, phone numbers and other personal data
/// (`?email_address=…`).
fn request_span(request: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        query = %query_names(request.uri().query()),
        version = ?request.version(),
    )
}

/// `answer`'s output, or `None` once `deadline` passed first. The timer is armed only when `answer` has to wait:
/// most answers (from memory) come in their first poll, and arming one for every request (the runtime's handle,
/// the timer entry) was a measurable part of `GET /v1/jwks`.
async fn within<F: Future>(deadline: tokio::time::Instant, answer: F) -> Option<F::Output> {
    let mut answer = std::pin::pin!(answer);
    let mut timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(output) = answer.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(output));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// `a=1&b=x&a=2` → `a,b,a`.
fn query_names(query: Option<&str>) -> String {
    let names =
        query.unwrap_or_default().split('&').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap_or(p));
    names.collect::<Vec<_>>().join(",")
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::within;

    #[tokio::test(start_paused = true)]
    async fn an_answer_past_its_deadline_is_none_and_one_before_it_is_some() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        assert_eq!(within(deadline, async { 1 }).await, Some(1));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(29)).await;
            2
        };
        assert_eq!(within(deadline, slow).await, Some(2));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        assert_eq!(within(deadline, std::future::pending::<()>()).await, None);
        assert!(tokio::time::Instant::now() >= deadline);
    }
}
