//! JWT templates (list, create, get, update, delete) and minting a session token from one.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::jwt_templates::{self, TemplateInput};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, nullable};
use crate::list::{Paging, array_or_paginated};
use crate::objects::jwt_template;
use crate::objects::session::TokenObject;
use crate::routes::users::RequestOrigin;

/// Largest page of the list.
const MAX_LIMIT: u64 = 500;

/// Body of create and update.
#[derive(Debug, Deserialize)]
pub struct TemplateBody {
    name: Option<String>,
    claims: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    lifetime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    allowed_clock_skew: Option<Option<i64>>,
    custom_signing_key: Option<bool>,
    signing_algorithm: Option<String>,
    signing_key: Option<String>,
}

impl From<TemplateBody> for TemplateInput {
    fn from(b: TemplateBody) -> Self {
        Self {
            name: b.name,
            claims: b.claims,
            lifetime: b.lifetime,
            allowed_clock_skew: b.allowed_clock_skew,
            custom_signing_key: b.custom_signing_key,
            signing_algorithm: b.signing_algorithm,
            signing_key: b.signing_key,
        }
    }
}

/// `GET /v1/jwt_templates` → a bare array, or `{data, total_count}` with `paginated=true`.
pub async fn list_jwt_templates(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let page = paging.page(MAX_LIMIT)?;
    let (rows, total) = jwt_templates::list(&app.ctx, &instance.id, page.limit, page.offset).await?;
    Ok(array_or_paginated(
        rows.iter().map(jwt_template::jwt_template).collect(),
        total,
        paging.paginated.unwrap_or(false),
    ))
}

/// `POST /v1/jwt_templates`
pub async fn create_jwt_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(body): Body<TemplateBody>,
) -> ApiResult<Json<Value>> {
    let t = jwt_templates::create(&app.ctx, &instance.id, body.into()).await?;
    Ok(Json(jwt_template::jwt_template(&t)))
}

/// `GET /v1/jwt_templates/{template_id}`
pub async fn get_jwt_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = jwt_templates::get(&app.ctx, &instance.id, &id).await?;
    Ok(Json(jwt_template::jwt_template(&t)))
}

/// `PATCH /v1/jwt_templates/{template_id}`
pub async fn update_jwt_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(body): Body<TemplateBody>,
) -> ApiResult<Json<Value>> {
    let t = jwt_templates::update(&app.ctx, &instance.id, &id, body.into()).await?;
    Ok(Json(jwt_template::jwt_template(&t)))
}

/// `DELETE /v1/jwt_templates/{template_id}`
pub async fn delete_jwt_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    jwt_templates::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(jwt_template::deleted(&id)))
}

/// Body of `POST /sessions/{id}/tokens/{template_name}`.
#[derive(Debug, Deserialize)]
pub struct TemplateTokenBody {
    expires_in_seconds: Option<i64>,
}

/// `POST /v1/sessions/{session_id}/tokens/{template_name}`
pub async fn create_session_token_from_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((session_id, template_name)): Path<(String, String)>,
    Body(body): Body<TemplateTokenBody>,
) -> ApiResult<Json<Value>> {
    let jwt =
        jwt_templates::mint(&app.ctx, &instance, &session_id, &template_name, body.expires_in_seconds, &origin).await?;
    serde_json::to_value(TokenObject::new(&jwt)).map(Json).map_err(|e| tessera_core::Error::internal(e).into())
}
