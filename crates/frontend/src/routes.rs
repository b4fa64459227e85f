//! THE Frontend API route table: one line per FAPI operation (paths as the FAPI spec writes them, with `/v1`).
//! Handler names are the snake_case of the operationId. Paths of the spec not listed here answer 404
//! `operation_not_implemented`.

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use tessera_api::AppState;

pub mod clerk_js;
pub mod client;
pub mod dev_browser;
pub mod sign_ins;
pub mod sign_ups;

fn v1(path: &'static str, handlers: MethodRouter<AppState>) -> (&'static str, MethodRouter<AppState>) {
    (path, handlers)
}

/// Every implemented Frontend API operation.
pub fn table() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        // Dev browser
        v1("/v1/dev_browser", post(dev_browser::create_dev_browser)),
        // Client
        v1("/v1/client", get(client::get_client).put(client::put_client).delete(client::delete_client)),
        // clerk-js and its UI (not FAPI operations: what Clerk's CDN serves under the frontend host)
        v1("/npm/@clerk/{package}/dist/{*file}", get(clerk_js::get_clerk_asset)),
    ]
}

/// The Frontend API router (without the shared request layers).
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (path, handlers) in table() {
        router = router.route(path, handlers);
    }
    router
        .fallback(tessera_api::routes::fallback::not_found)
        .method_not_allowed_fallback(tessera_api::routes::fallback::method_not_allowed)
}
