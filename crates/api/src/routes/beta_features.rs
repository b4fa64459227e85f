//! Beta Features: the older instance-settings and domain-change endpoints.

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use tessera_core::domains::{self, ChangeDomain};
use tessera_core::settings::{self, AuthConfigPatch};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, SecretKey};
use crate::objects;

/// `PATCH /v1/beta_features/instance_settings`
pub async fn update_instance_auth_config(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<AuthConfigPatch>,
) -> ApiResult<Json<Value>> {
    let config = settings::update_auth_config(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::instance_settings(&config)))
}

/// `PUT /v1/beta_features/domain` (deprecated; same operation as `POST /v1/instance/change_domain`) → 202.
pub async fn update_production_instance_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(input): Body<ChangeDomain>,
) -> ApiResult<StatusCode> {
    domains::change_production_domain(&app.ctx, &instance, input).await?;
    Ok(StatusCode::ACCEPTED)
}
