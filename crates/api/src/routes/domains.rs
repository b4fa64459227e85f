//! Domains: the instance's primary domain and its satellites.

use crate::json::Json;
use axum::extract::State;
use serde_json::Value;
use tessera_core::domains::{self, DomainPatch, NewDomain};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, SecretKey};
use crate::list::data_list;
use crate::objects;

/// `GET /v1/domains` → `{data, total_count}`, primary first.
pub async fn list_domains(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<Json<Value>> {
    let list = domains::list_domains(&app.ctx, &instance).await?;
    let total = list.len() as i64;
    Ok(data_list(list.iter().map(objects::domain::domain).collect(), total))
}

/// `POST /v1/domains`: adds a satellite domain.
pub async fn add_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(input): Body<NewDomain>,
) -> ApiResult<Json<Value>> {
    let domain = domains::add_domain(&app.ctx, &instance, input).await?;
    Ok(Json(objects::domain::domain(&domain)))
}

/// `PATCH /v1/domains/{domain_id}`
pub async fn update_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(domain_id): Path<String>,
    Body(patch): Body<DomainPatch>,
) -> ApiResult<Json<Value>> {
    let domain = domains::update_domain(&app.ctx, &instance, &domain_id, patch).await?;
    Ok(Json(objects::domain::domain(&domain)))
}

/// `DELETE /v1/domains/{domain_id}`
pub async fn delete_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(domain_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = domains::delete_domain(&app.ctx, &instance, &domain_id).await?;
    Ok(Json(objects::domain::deleted(&id)))
}
