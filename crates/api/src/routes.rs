//! THE route table: one line per Clerk operation, grouped like Clerk's API reference. Handler names are the
//! snake_case of the operationId. Operations of the spec that are not listed here answer 404
//! `operation_not_implemented` (see [`fallback`]).

use axum::routing::{MethodRouter, get};

use crate::AppState;

pub mod fallback;
pub mod jwks;

/// One route: a spec path (relative to `/v1`), its handlers, and whether the SDKs also call it without `/v1`.
pub struct Route {
    /// Path relative to `/v1`, in axum syntax (`{param}`).
    pub path: &'static str,
    /// The handlers by method.
    pub handlers: MethodRouter<AppState>,
    /// Also served at the bare path (`/api_keys…`, `/m2m_tokens…`, OAuth token verify).
    pub unversioned: bool,
}

fn v1(path: &'static str, handlers: MethodRouter<AppState>) -> Route {
    Route { path, handlers, unversioned: false }
}

#[expect(dead_code, reason = "used once the machine-auth groups are routed")]
fn v1_and_bare(path: &'static str, handlers: MethodRouter<AppState>) -> Route {
    Route { path, handlers, unversioned: true }
}

/// Every implemented operation.
pub fn table() -> Vec<Route> {
    vec![
        // JWKS
        v1("/jwks", get(jwks::get_jwks)),
    ]
}
