//! JWKS: the public keys of the instance's keyring.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::SecretKey;

/// `GET /v1/jwks`
pub async fn get_jwks(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<Response> {
    let document = tessera_core::keyring::jwks_document(&app.ctx, &instance.id).await?;
    Ok(jwks_response(document))
}

/// A JWKS document as a JSON answer (shared with the frontend host's `/.well-known/jwks.json`).
pub fn jwks_response(document: std::sync::Arc<[u8]>) -> Response {
    crate::json::serialized(Bytes::from_owner(document))
}
