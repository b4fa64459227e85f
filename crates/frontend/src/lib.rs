//! Tessera's Frontend API (FAPI): the face clerk-js talks to. It answers on each instance's frontend host (the
//! host in its publishable key), under a proxy path (`/fapi/{frontend host}/v1/…`), or for the official proxy
//! helpers (`Clerk-Proxy-Url` + `Clerk-Secret-Key` headers). The Backend API face (`tessera-api`) serves every
//! other request; [`app`] composes the two. Domain rules live in `tessera-core`, once, for both faces.
//!
//! Conventions of this face: form-encoded bodies (JSON accepted too), `POST ?_method=PATCH|PUT|DELETE`, the
//! browser's client identified by its dev-browser token or `__client` cookie, and every mutation answered as
//! `{response, client}` with the full current client of that browser.

use axum::Router;

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
pub fn app(state: AppState) -> Router {
    // One `Arc` clone per request, not a clone of the state and both faces' routes.
    let faces = std::sync::Arc::new(host::Faces {
        frontend: routes::router(&state).with_state(state.clone()),
        backend: tessera_api::Backend::new(state.clone()),
        state,
    });
    Router::new().fallback_service(tower::service_fn(move |request: axum::extract::Request| {
        let faces = faces.clone();
        async move { Ok::<_, std::convert::Infallible>(faces.dispatch(request).await) }
    }))
}
