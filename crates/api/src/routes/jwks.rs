//! JWKS: the public keys of the instance's keyring.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use tessera_core::keyring::Jwk;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::SecretKey;

/// The JWKS document, serialized straight from the keys (no `Value` tree per request).
#[derive(Debug, Serialize)]
pub struct JwksObject {
    /// The instance's public keys.
    pub keys: Vec<Jwk>,
}

/// `GET /v1/jwks`
pub async fn get_jwks(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<Json<JwksObject>> {
    let keys = tessera_core::keyring::jwks(&app.ctx, &instance.id).await?;
    Ok(Json(JwksObject { keys }))
}
