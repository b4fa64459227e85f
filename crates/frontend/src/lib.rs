//! Tessera's Frontend API (FAPI): the face clerk-js talks to. It answers on each instance's frontend host (the
//! host in its publishable key), under a proxy path (`/fapi/{frontend host}/v1/…`), or for the official proxy
//! helpers (`Clerk-Proxy-Url` + `Clerk-Secret-Key` headers). The Backend API face (`tessera-api`) serves every
//! other request; [`app`] composes the two. Domain rules live in `tessera-core`, once, for both faces.
//!
//! Conventions of this face: form-encoded bodies (JSON accepted too), `POST ?_method=PATCH|PUT|DELETE`, the
//! browser's client identified by its dev-browser token or `__client` cookie, and every mutation answered as
//! `{response, client}` with the full current client of that browser.

use tessera_api::AppState;

pub mod extract;
pub mod host;
pub mod oauth_pages;
pub mod objects;
pub mod operations;
pub mod pages;
pub mod respond;
pub mod routes;
pub mod scim;

/// The whole HTTP application: Frontend API requests (recognised by [`host::Faces::dispatch`]) go to the frontend
/// route table, everything else to the Backend API.
///
/// Dispatch comes before either face's routing (not as a layer on the Backend API's routes): a layer on the
/// routes would run after the Backend API matched the path, and a path both faces know
/// (`/v1/organizations/{organization_id}`) would reach the frontend handler with the Backend API's path
/// parameters as well as its own. One service function rather than middleware, for the per-request cost (see
/// `tessera_api::edge`).
pub fn app(state: AppState) -> App {
    App(std::sync::Arc::new(host::Faces {
        frontend: routes::routes(&state),
        backend: tessera_api::Backend::new(state.clone()),
        state,
    }))
}

/// The application as a service (`axum::serve(listener, app.into_make_service())`, or `oneshot` in tests): a clone
/// is one `Arc`. Not an axum `Router` with the dispatch as its fallback service, which cloned that service into a
/// new box and boxed its future again for every request.
#[derive(Clone)]
pub struct App(std::sync::Arc<host::Faces>);

impl tower::Service<axum::extract::Request> for App {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request) -> Self::Future {
        let faces = self.0.clone();
        Box::pin(async move { Ok(faces.dispatch(request).await) })
    }
}
