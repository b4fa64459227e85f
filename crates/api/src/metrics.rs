//! Request metrics, recorded through the `metrics` facade (the binary installs the Prometheus recorder and serves
//! `/metrics` on its own listener; without a recorder these calls cost next to nothing).
//!
//! Labels are bounded: the face (`backend`/`frontend`), the route TEMPLATE that matched (`/v1/users/{user_id}`,
//! never the raw path, which carries ids), the method (known methods, else `other`) and the status code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::http::Method;
use axum::response::Response;

/// Requests answered: `face`, `operation` (route template), `method`, `status`.
pub const REQUESTS: &str = "tessera_http_requests_total";
/// Seconds from the request reaching a face to its answer: `face`, `operation`, `method`.
pub const REQUEST_DURATION: &str = "tessera_http_request_duration_seconds";

/// Which face answered.
#[derive(Debug, Clone, Copy)]
pub enum Face {
    /// The Backend API (and the hosted pages it routes).
    Backend,
    /// The Frontend API.
    Frontend,
}

impl Face {
    fn label(self) -> &'static str {
        match self {
            Self::Backend => "backend",
            Self::Frontend => "frontend",
        }
    }
}

/// Whether request metrics are recorded: only once the binary installed a recorder ([`record_requests`]). Without
/// one nobody can read them, and the route layer that tags each answer with its operation (a boxed future and a
/// clone of the route's service per request) and the labels of every observation would be spent for nothing.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// Turns request metrics on, for routers built from now on (the binary calls it when it installs its recorder,
/// before building the application).
pub fn record_requests() {
    RECORDING.store(true, Ordering::Relaxed);
}

/// Whether request metrics are recorded (see [`record_requests`]).
pub fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

/// The route template a request matched (`/v1/users/{user_id}`), put on the response by the route table for
/// [`Observed`] to label it with.
#[derive(Debug, Clone)]
pub struct Operation(pub std::sync::Arc<str>);

/// A request being answered by a face: counted and its duration observed when [`Observed::finish`] sees the
/// answer (the first step of every request, in `tessera_api`'s `edge` middleware).
pub struct Observed {
    face: Face,
    method: &'static str,
    start: Instant,
}

impl Observed {
    /// Starts observing a request.
    pub fn start(face: Face, method: &Method) -> Self {
        Self { face, method: method_label(method), start: Instant::now() }
    }

    /// When a request that started now must be answered by, at the latest.
    pub fn deadline(&self, timeout: std::time::Duration) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.start) + timeout
    }

    /// How long the request has taken so far.
    pub fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }

    /// Counts the request with its answer's status and observes its duration.
    pub fn finish(self, response: &Response) {
        if !recording() {
            return;
        }
        let operation = response.extensions().get::<Operation>().map_or("unmatched", |o| &*o.0).to_owned();
        let (face, method) = (self.face.label(), self.method);
        metrics::histogram!(REQUEST_DURATION, "face" => face, "operation" => operation.clone(), "method" => method)
            .record(self.start.elapsed().as_secs_f64());
        let status = response.status().as_u16().to_string();
        metrics::counter!(REQUESTS, "face" => face, "operation" => operation, "method" => method, "status" => status)
            .increment(1);
    }
}

/// A method as a label: any other token a client sends would add a series per token.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
