//! Routes whose handlers are bound to their state when first requested, not at start-up.
//!
//! Why: a server's resident memory is mostly the code it has touched, and binding a handler to its state
//! (`MethodRouter::with_state`) runs code monomorphized for that handler (`into_route`, `clone_box`, drops), which
//! lies next to the handler's own code all over the binary. Binding the ~400 handlers of both faces at start-up
//! touched 125 of the 199 64 KiB windows of code faulted in before the first answer (`perf record -e minor-faults`),
//! most of the idle RSS. A lazy route runs none of that code until its path is first requested, and then only for
//! its own handlers.
//!
//! A request pays one clone of the bound [`MethodRouter`] (a few small allocations) over an eagerly bound route.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::handler::Handler;
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::routing::future::RouteFuture;
use tower::Service;

/// Makes one path's handlers (by method); a route table holds these rather than the handlers themselves.
pub type MakeHandlers<S> = fn() -> MethodRouter<S>;

/// One path's handlers, bound to their state when first requested: a service for `Router::route_service` (one
/// route may serve several paths: clones share the binding). It carries its own answer to methods it does not
/// serve, since axum's `Router::method_not_allowed_fallback` reaches only the routes added with `Router::route`.
pub struct LazyRoute<S>(Arc<Unbound<S>>);

impl<S> LazyRoute<S> {
    /// The handlers `make_handlers` makes, with `method_not_allowed` for the methods they do not serve, bound to
    /// `state` on first use. Made then, not now: making a `MethodRouter` already runs code of each handler (axum
    /// clones the handler into each method it serves).
    pub fn new<H, T>(make_handlers: MakeHandlers<S>, method_not_allowed: H, state: &S) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        let make_handlers = move || make_handlers().fallback(method_not_allowed.clone());
        Self(Arc::new(Unbound { make_handlers: Box::new(make_handlers), state: state.clone(), bound: OnceLock::new() }))
    }
}

struct Unbound<S> {
    make_handlers: Box<dyn Fn() -> MethodRouter<S> + Send + Sync>,
    state: S,
    bound: OnceLock<MethodRouter<()>>,
}

impl<S> Clone for LazyRoute<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Clone + Send + Sync + 'static> Service<Request> for LazyRoute<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let unbound = &*self.0;
        let bound = unbound.bound.get_or_init(|| (unbound.make_handlers)().with_state(unbound.state.clone()));
        // `MethodRouter` dispatches from `&mut self` only; the clone shares each handler's service.
        Service::call(&mut bound.clone(), request)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn state_and_path(
        axum::extract::State(s): axum::extract::State<&'static str>,
        axum::extract::Path(id): axum::extract::Path<String>,
    ) -> String {
        format!("{s}:{id}")
    }

    async fn not_allowed() -> StatusCode {
        StatusCode::IM_A_TEAPOT
    }

    fn app() -> axum::Router {
        let lazy = LazyRoute::new(|| get(state_and_path), not_allowed, &"state");
        axum::Router::new()
            .route_service("/things/{id}", lazy.clone())
            .route_service("/v1/things/{id}", lazy)
            .with_state("state")
    }

    async fn send(method: Method, path: &str) -> (StatusCode, String) {
        let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_lazy_route_gets_its_state_and_path_parameters_on_each_of_its_paths() {
        assert_eq!(send(Method::GET, "/things/42").await, (StatusCode::OK, "state:42".to_owned()));
        assert_eq!(send(Method::GET, "/v1/things/7").await, (StatusCode::OK, "state:7".to_owned()));
    }

    #[tokio::test]
    async fn a_method_it_does_not_serve_reaches_its_fallback() {
        assert_eq!(send(Method::POST, "/things/42").await.0, StatusCode::IM_A_TEAPOT);
    }

    #[tokio::test]
    async fn a_path_it_does_not_match_is_not_found() {
        assert_eq!(send(Method::GET, "/other").await.0, StatusCode::NOT_FOUND);
    }
}
