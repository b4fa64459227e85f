//! Routes whose handlers are bound to their state when first requested, not at start-up, and called straight from
//! the route's service.
//!
//! Why lazy: a server's resident memory is mostly the code it has touched, and binding a handler to its state runs
//! code monomorphized for that handler, which lies next to the handler's own code all over the binary. Binding the
//! ~400 handlers of both faces at start-up touched 125 of the 199 64 KiB windows of code faulted in before the
//! first answer (`perf record -e minor-faults`), most of the idle RSS. A lazy route runs none of that code until its
//! path is first requested, and then only for its own handlers.
//!
//! Why not axum's `MethodRouter`: it dispatches from `&mut self` only, so a shared route had to clone it for every
//! request (a box per method, its fallback's, and a copy of its `Allow` header), and each handler sat behind another
//! boxed, cloned service and two future adapters. [`Methods`] keeps one erased function per method and calls it
//! from `&self`: a request pays the handler's own boxed future and nothing else. A route table
//! ([`crate::route_table::RouteTable`]) matches the path and builds its routes with this module's [`get`],
//! [`post`]… in place of axum's.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};

use axum::body::{Body, HttpBody as _};
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::header::{ALLOW, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use tower::{Layer as _, Service as _};

/// The future of an axum handler (every `async fn` handler's `Handler::Future`).
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// One handler with its extractors, erased: called with the request and the state.
type Endpoint<S> = Arc<dyn Fn(Request, S) -> HandlerFuture + Send + Sync>;

fn endpoint<H, T, S>(handler: H) -> Endpoint<S>
where
    H: Handler<T, S, Future = HandlerFuture>,
    T: 'static,
    S: Send + 'static,
{
    Arc::new(move |request, state| handler.clone().call(request, state))
}

/// One path's handlers by method, made by [`get`], [`post`]… and chained like axum's (`get(a).post(b)`).
pub struct Methods<S> {
    get: Option<Endpoint<S>>,
    post: Option<Endpoint<S>>,
    put: Option<Endpoint<S>>,
    patch: Option<Endpoint<S>>,
    delete: Option<Endpoint<S>>,
    body_limit: Option<usize>,
}

macro_rules! methods {
    ($($method:ident),*) => {
        $(
            #[doc = concat!("A route whose `", stringify!($method), "` requests go to `handler`.")]
            pub fn $method<H, T, S>(handler: H) -> Methods<S>
            where
                H: Handler<T, S, Future = HandlerFuture>,
                T: 'static,
                S: Send + 'static,
            {
                Methods::none().$method(handler)
            }
        )*

        impl<S: Send + 'static> Methods<S> {
            $(
                #[doc = concat!("Also sends `", stringify!($method), "` requests to `handler`.")]
                #[must_use]
                pub fn $method<H, T>(mut self, handler: H) -> Self
                where
                    H: Handler<T, S, Future = HandlerFuture>,
                    T: 'static,
                {
                    self.$method = Some(endpoint(handler));
                    self
                }
            )*
        }
    };
}

methods!(get, post, put, patch, delete);

impl<S> Methods<S> {
    /// No method served (every request goes to the route's answer for methods it does not serve).
    fn none() -> Self {
        Self { get: None, post: None, put: None, patch: None, delete: None, body_limit: None }
    }

    /// Lets this route's body extractors read up to `bytes` (axum's [`DefaultBodyLimit`]; 2 MB otherwise).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// `Allow`: what a 405 from this path names (`HEAD` with `GET`, as axum's routes do); none for no method.
    fn allow(&self) -> Option<HeaderValue> {
        let served = [
            (self.get.is_some(), "GET,HEAD"),
            (self.post.is_some(), "POST"),
            (self.put.is_some(), "PUT"),
            (self.patch.is_some(), "PATCH"),
            (self.delete.is_some(), "DELETE"),
        ];
        let names: Vec<&str> = served.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
        if names.is_empty() { None } else { HeaderValue::from_str(&names.join(",")).ok() }
    }
}

/// Makes one path's handlers (by method); a route table holds these rather than the handlers themselves.
pub type MakeHandlers<S> = fn() -> Methods<S>;

/// One path's handlers, bound to their state when first requested (one route may serve several paths of a
/// [`crate::route_table::RouteTable`]: clones share the binding), with its own answer to the methods it does not
/// serve.
pub struct LazyRoute<S>(Arc<Unbound<S>>);

impl<S> LazyRoute<S> {
    /// The handlers `make_handlers` makes, with `method_not_allowed` for the methods they do not serve, bound to
    /// `state` on first use. Made then, not now: making them already runs code of each handler.
    pub fn new<H, T>(make_handlers: MakeHandlers<S>, method_not_allowed: H, state: &S) -> Self
    where
        H: Handler<T, S, Future = HandlerFuture>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        let bind = move || {
            let methods = make_handlers();
            let allow = methods.allow();
            Bound { methods, method_not_allowed: endpoint(method_not_allowed.clone()), allow }
        };
        Self(Arc::new(Unbound { bind: Box::new(bind), state: state.clone(), bound: OnceLock::new() }))
    }

    /// A route that answers every method with `handler` (a table's answer to paths it does not have).
    pub fn fallback<H, T>(handler: H, state: &S) -> Self
    where
        H: Handler<T, S, Future = HandlerFuture>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        Self::new(Methods::none, handler, state)
    }
}

struct Unbound<S> {
    bind: Box<dyn Fn() -> Bound<S> + Send + Sync>,
    state: S,
    bound: OnceLock<Bound<S>>,
}

struct Bound<S> {
    methods: Methods<S>,
    method_not_allowed: Endpoint<S>,
    allow: Option<HeaderValue>,
}

impl<S> Clone for LazyRoute<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Clone + Send + Sync + 'static> LazyRoute<S> {
    /// Answers `request` with the handler of its method (binding the handlers first if this is the first request).
    pub fn answer(&self, mut request: Request) -> Answer {
        let unbound = &*self.0;
        let bound = unbound.bound.get_or_init(|| (unbound.bind)());
        let methods = &bound.methods;
        let head = request.method() == Method::HEAD;
        let served = match *request.method() {
            Method::GET | Method::HEAD => methods.get.as_ref(),
            Method::POST => methods.post.as_ref(),
            Method::PUT => methods.put.as_ref(),
            Method::PATCH => methods.patch.as_ref(),
            Method::DELETE => methods.delete.as_ref(),
            _ => None,
        };
        if let Some(limit) = methods.body_limit {
            request = with_body_limit(limit, request);
        }
        let (endpoint, allow) = match served {
            Some(endpoint) => (endpoint, None),
            None => (&bound.method_not_allowed, bound.allow.clone()),
        };
        Answer { response: endpoint(request, unbound.state.clone()), head, allow }
    }
}

/// Marks `request` with axum's body limit `bytes` (the extension axum's body extractors read is private: a
/// `DefaultBodyLimit` layer around a service that hands the request back inserts it).
fn with_body_limit(bytes: usize, request: Request) -> Request {
    let mut marked = DefaultBodyLimit::max(bytes)
        .layer(tower::service_fn(|request: Request| std::future::ready(Ok::<_, Infallible>(request))));
    match marked.call(request).into_inner() {
        Ok(request) => request,
        Err(never) => match never {},
    }
}

/// A route's answer: the handler's, with the `Allow` header on a 405 and no body for `HEAD` (its `content-length`
/// kept), as axum's method routes do.
pub struct Answer {
    response: HandlerFuture,
    head: bool,
    allow: Option<HeaderValue>,
}

impl Future for Answer {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = ready!(self.response.as_mut().poll(cx));
        if let Some(allow) = self.allow.take() {
            response.headers_mut().entry(ALLOW).or_insert(allow);
        }
        if self.head {
            if !response.headers().contains_key(CONTENT_LENGTH)
                && let Some(size) = response.body().size_hint().exact()
            {
                response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(size));
            }
            *response.body_mut() = Body::empty();
        }
        Poll::Ready(response)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::route_table::RouteTable;

    async fn state_and_path(
        axum::extract::State(s): axum::extract::State<&'static str>,
        crate::extract::Path(id): crate::extract::Path<String>,
    ) -> String {
        format!("{s}:{id}")
    }

    async fn two_params(crate::extract::Path((a, b)): crate::extract::Path<(String, String)>) -> String {
        format!("{a}+{b}")
    }

    async fn body_length(body: axum::body::Bytes) -> String {
        body.len().to_string()
    }

    async fn not_allowed() -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }

    async fn unmatched() -> StatusCode {
        StatusCode::GONE
    }

    fn table() -> RouteTable<&'static str> {
        let state = &"state";
        let lazy = LazyRoute::new(|| get(state_and_path).delete(state_and_path), not_allowed, state);
        let limited = LazyRoute::new(|| post(body_length).body_limit(3 * 1024 * 1024), not_allowed, state);
        RouteTable::new(LazyRoute::fallback(unmatched, state))
            .route("/things/{id}", lazy.clone())
            .route("/v1/things/{id}", lazy)
            .route("/things/{id}/parts/{part}", LazyRoute::new(|| get(two_params), not_allowed, state))
            .route("/limited", limited)
            .route("/unlimited", LazyRoute::new(|| post(body_length), not_allowed, state))
    }

    async fn send_body(method: Method, path: &str, body: Body) -> Response {
        let request = Request::builder().method(method).uri(path).body(body).unwrap();
        table().answer(request).await
    }

    async fn send(method: Method, path: &str) -> (StatusCode, String) {
        let response = send_body(method, path, Body::empty()).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_lazy_route_gets_its_state_and_path_parameters_on_each_of_its_paths() {
        assert_eq!(send(Method::GET, "/things/42").await, (StatusCode::OK, "state:42".to_owned()));
        assert_eq!(send(Method::GET, "/v1/things/7").await, (StatusCode::OK, "state:7".to_owned()));
        assert_eq!(send(Method::DELETE, "/v1/things/8").await, (StatusCode::OK, "state:8".to_owned()));
        assert_eq!(send(Method::GET, "/things/a%20b/parts/c").await, (StatusCode::OK, "a b+c".to_owned()));
    }

    #[tokio::test]
    async fn a_method_it_does_not_serve_reaches_its_fallback_with_what_it_allows() {
        let response = send_body(Method::POST, "/things/42", Body::empty()).await;
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(response.headers()[ALLOW], "GET,HEAD,DELETE");
        assert_eq!(send(Method::OPTIONS, "/things/42").await.0, StatusCode::IM_A_TEAPOT);
    }

    #[tokio::test]
    async fn head_is_answered_by_get_without_the_body() {
        let response = send_body(Method::HEAD, "/things/42", Body::empty()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_LENGTH], "8");
        assert!(axum::body::to_bytes(response.into_body(), 1024).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_body_limit_lets_its_route_read_more_than_the_default() {
        let big = || Body::from(vec![b'x'; 2 * 1024 * 1024 + 1]);
        assert_eq!(send_body(Method::POST, "/unlimited", big()).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let response = send_body(Method::POST, "/limited", big()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], (2 * 1024 * 1024 + 1).to_string().as_bytes());
    }

    #[tokio::test]
    async fn a_path_it_does_not_match_goes_to_the_unmatched_route_whatever_the_method() {
        for method in [Method::GET, Method::POST, Method::OPTIONS] {
            let response = send_body(method, "/other", Body::empty()).await;
            assert_eq!(response.status(), StatusCode::GONE);
            assert!(!response.headers().contains_key(ALLOW));
        }
    }
}
