//! JWKS: the public keys of the instance's keyring.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::SecretKey;

/// `GET /v1/jwks`
pub async fn get_jwks(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<Json<Value>> {
    let keys = tessera_core::keyring::jwks(&app.ctx, &instance.id).await?;
    Ok(Json(json!({ "keys": keys })))
}
