//! `/.well-known/…` on the frontend host.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use tessera_api::AppState;
use tessera_api::error::ApiResult;

use crate::extract::Fapi;

/// `GET /.well-known/jwks.json`: the instance's public signing keys, as the Backend API's `/v1/jwks` serves them
/// (a verifier that knows only the publishable key finds them here).
pub async fn get_jwks(State(app): State<AppState>, fapi: Fapi) -> ApiResult<Json<Value>> {
    let keys = tessera_core::keyring::jwks(&app.ctx, &fapi.instance.id).await?;
    Ok(Json(json!({ "keys": keys })))
}
