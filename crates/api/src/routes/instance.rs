//! Instance Settings: the instance, its restrictions, Protect, SMS, OAuth-application and organization settings,
//! and the production domain change; Tessera's session settings (lifetimes, token lifetime, multi-session mode:
//! Clerk sets them in its dashboard, its Backend API has no operation for them).

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;
use tessera_core::domains::{self, ChangeDomain};
use tessera_core::settings::{
    self, CommunicationPatch, InstancePatch, OAuthApplicationSettingsPatch, OrganizationSettingsPatch, ProtectPatch,
    RestrictionsPatch, SessionSettingsPatch,
};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, SecretKey};
use crate::objects;

/// `GET /v1/instance`
pub async fn get_instance(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<Json<Value>> {
    let config = settings::instance_config(&app.ctx, &instance.id).await?;
    Ok(Json(objects::instance::instance(&instance, &config)))
}

/// `PATCH /v1/instance` → 204 without a body (what the SDKs expect).
pub async fn update_instance(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<InstancePatch>,
) -> ApiResult<StatusCode> {
    settings::update_instance(&app.ctx, &instance, patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /v1/instance/restrictions`
pub async fn update_instance_restrictions(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<RestrictionsPatch>,
) -> ApiResult<Json<Value>> {
    let r = settings::update_restrictions(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::restrictions(&r)))
}

/// `GET /v1/instance/protect`
pub async fn get_instance_protect(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<Value>> {
    let p = settings::protect(&app.ctx, &instance.id).await?;
    Ok(Json(objects::instance::protect(&p)))
}

/// `PATCH /v1/instance/protect`
pub async fn update_instance_protect(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<ProtectPatch>,
) -> ApiResult<Json<Value>> {
    let p = settings::update_protect(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::protect(&p)))
}

/// `GET /v1/instance/communication`
pub async fn get_instance_communication(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<Value>> {
    let c = settings::communication(&app.ctx, &instance.id).await?;
    Ok(Json(objects::instance::communication(&c)))
}

/// `PATCH /v1/instance/communication`
pub async fn update_instance_communication(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<CommunicationPatch>,
) -> ApiResult<Json<Value>> {
    let c = settings::update_communication(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::communication(&c)))
}

/// `GET /v1/instance/oauth_application_settings`
pub async fn get_instance_o_auth_application_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<Value>> {
    let s = settings::oauth_application_settings(&app.ctx, &instance.id).await?;
    Ok(Json(objects::instance::oauth_application_settings(&s)))
}

/// `PATCH /v1/instance/oauth_application_settings`
pub async fn update_instance_o_auth_application_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<OAuthApplicationSettingsPatch>,
) -> ApiResult<Json<Value>> {
    let s = settings::update_oauth_application_settings(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::oauth_application_settings(&s)))
}

/// `GET /v1/instance/organization_settings`
pub async fn get_instance_organization_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<Value>> {
    let s = settings::organization_settings_with_role_set(&app.ctx, &instance.id).await?;
    Ok(Json(objects::instance::organization_settings(&s)))
}

/// `PATCH /v1/instance/organization_settings`
pub async fn update_instance_organization_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<OrganizationSettingsPatch>,
) -> ApiResult<Json<Value>> {
    let s = settings::update_organization_settings(&app.ctx, &instance, patch).await?;
    Ok(Json(objects::instance::organization_settings(&s)))
}

/// `GET /v1/instance/session_settings` (Tessera's)
pub async fn get_instance_session_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<objects::instance::SessionSettingsObject>> {
    let s = settings::session_settings(&app.ctx, &instance.id).await?;
    Ok(Json((&s).into()))
}

/// `PATCH /v1/instance/session_settings` (Tessera's)
pub async fn update_instance_session_settings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(patch): Body<SessionSettingsPatch>,
) -> ApiResult<Json<objects::instance::SessionSettingsObject>> {
    let s = settings::update_session_settings(&app.ctx, &instance, patch).await?;
    Ok(Json((&s).into()))
}

/// `POST /v1/instance/change_domain` → 202 without a body.
pub async fn change_production_instance_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(input): Body<ChangeDomain>,
) -> ApiResult<StatusCode> {
    domains::change_production_domain(&app.ctx, &instance, input).await?;
    Ok(StatusCode::ACCEPTED)
}
