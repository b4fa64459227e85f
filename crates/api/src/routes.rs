//! THE route table: one line per Clerk operation, grouped like Clerk's API reference. Handler names are the
//! snake_case of the operationId. Operations of the spec that are not listed here answer 404
//! `operation_not_implemented` (see [`fallback`]).

use axum::routing::{MethodRouter, get};

use crate::AppState;

pub mod fallback;
pub mod jwks;
pub mod m2m_tokens;
pub mod machines;

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

fn v1_and_bare(path: &'static str, handlers: MethodRouter<AppState>) -> Route {
    Route { path, handlers, unversioned: true }
}

/// Every implemented operation.
pub fn table() -> Vec<Route> {
    vec![
        // JWKS
        v1("/jwks", get(jwks::get_jwks)),
        // Machines
        v1("/machines", get(machines::list_machines).post(machines::create_machine)),
        v1(
            "/machines/{machine_id}",
            get(machines::get_machine).patch(machines::update_machine).delete(machines::delete_machine),
        ),
        v1("/machines/{machine_id}/secret_key", get(machines::get_machine_secret_key)),
        v1("/machines/{machine_id}/secret_key/rotate", axum::routing::post(machines::rotate_machine_secret_key)),
        v1("/machines/{machine_id}/scopes", axum::routing::post(machines::create_machine_scope)),
        v1("/machines/{machine_id}/scopes/{other_machine_id}", axum::routing::delete(machines::delete_machine_scope)),
        // M2M Tokens
        v1_and_bare("/m2m_tokens", get(m2m_tokens::get_m2m_tokens).post(m2m_tokens::create_m2m_token)),
        v1_and_bare("/m2m_tokens/{m2m_token_id}/revoke", axum::routing::post(m2m_tokens::revoke_m2m_token)),
        v1_and_bare("/m2m_tokens/verify", axum::routing::post(m2m_tokens::verify_m2m_token)),
    ]
}
