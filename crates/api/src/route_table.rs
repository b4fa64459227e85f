//! A face's route table: paths matched with `matchit` (the router inside axum's), each to its [`LazyRoute`].
//!
//! Why not axum's `Router`: per request it cloned the matched route's boxed service, boxed and adapted its future
//! twice, and allocated the request's extension map for the matched path and the path parameters even where the
//! route has none (5% of `GET /v1/jwks` with call stacks). A [`RouteTable`] matches the path, gives the handlers
//! the parameters it found (read with [`crate::extract::Path`], which replaces axum's) and calls the route.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;

use crate::extract::PathParams;
use crate::lazy_route::LazyRoute;
use crate::metrics::{self, Operation};

/// Paths (axum's syntax: `{param}`, `{*rest}`) and their routes, with the route of every path none matches.
pub struct RouteTable<S> {
    paths: matchit::Router<usize>,
    routes: Vec<(Arc<str>, LazyRoute<S>)>,
    unmatched: LazyRoute<S>,
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    /// A table whose unmatched paths go to `unmatched` (every method: see [`LazyRoute::fallback`]).
    pub fn new(unmatched: LazyRoute<S>) -> Self {
        Self { paths: matchit::Router::new(), routes: Vec::new(), unmatched }
    }

    /// Adds `path`. Panics if it conflicts with a path added before: the tables are fixed, and a test builds each.
    #[must_use]
    pub fn route(mut self, path: &str, route: LazyRoute<S>) -> Self {
        let index = self.routes.len();
        if let Err(e) = self.paths.insert(path, index) {
            panic!("route table: {path}: {e}");
        }
        self.routes.push((Arc::from(path), route));
        self
    }

    /// Answers `request` with the route its path matches, else with the unmatched route.
    pub async fn answer(&self, mut request: Request) -> Response {
        let Ok(found) = self.paths.at(request.uri().path()) else { return self.unmatched.answer(request).await };
        let index = *found.value;
        if let Some(params) = PathParams::of(found.params.iter()) {
            request.extensions_mut().insert(params);
        }
        let (template, route) = &self.routes[index];
        let mut response = route.answer(request).await;
        if metrics::recording() {
            response.extensions_mut().insert(Operation(template.clone()));
        }
        response
    }
}
