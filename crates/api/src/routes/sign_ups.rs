//! Sign Ups: GetSignUp and UpdateSignUp of the attempts browsers make through the Frontend API
//! (`POST /v1/client/sign_ups`); see [`tessera_core::sign_ups`] for when an attempt converts into a user and a
//! session.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::sign_ups::{self, SignUpPatch};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, SecretKey, nullable};
use crate::objects::sign_up::sign_up;

/// `GET /v1/sign_ups/{id}`
pub async fn get_sign_up(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(sign_up(&sign_ups::get_sign_up(&app.ctx, &instance.id, &id).await?)))
}

/// Body of `PATCH /sign_ups/{id}`: `external_id: null` clears it; `custom_action: null` leaves it.
#[derive(Debug, Deserialize)]
pub struct UpdateSignUpBody {
    #[serde(default, deserialize_with = "nullable")]
    external_id: Option<Option<String>>,
    custom_action: Option<bool>,
}

/// `PATCH /v1/sign_ups/{id}`
pub async fn update_sign_up(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateSignUpBody>,
) -> ApiResult<Json<Value>> {
    let patch = SignUpPatch { external_id: b.external_id, custom_action: b.custom_action };
    Ok(Json(sign_up(&sign_ups::update_sign_up(&app.ctx, &instance.id, &id, patch).await?)))
}
