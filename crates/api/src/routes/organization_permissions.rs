//! Organization permissions: list, create, get, update, delete.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::organizations::permissions as core;
use tessera_core::store::organization_permissions::PermissionOrder;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64};
use crate::list::data_list;
use crate::objects::permission::permission;

/// `order_by` fields of the permission list.
const ORDER_FIELDS: &[&str] = &["created_at", "name", "key"];

/// Query of `GET /organization_permissions`.
#[derive(Debug, Deserialize)]
pub struct ListPermissionsParams {
    query: Option<String>,
    order_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/organization_permissions`. The spec declares 422 (not 400) for this list's bad parameters.
pub async fn list_organization_permissions(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListPermissionsParams>,
) -> ApiResult<Json<Value>> {
    let limit = p.limit.unwrap_or(10);
    if limit == 0 || limit > 500 {
        return Err(Error::param_value_invalid("limit", "limit must be between 1 and 500.").into());
    }
    let offset = p.offset.unwrap_or(0).min(i64::MAX as u64 / 2);
    let raw = p.order_by.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("-created_at");
    let (descending, field) = match raw.as_bytes()[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    let order = match ORDER_FIELDS.iter().find(|f| **f == field) {
        Some(&"name") => PermissionOrder::Name,
        Some(&"key") => PermissionOrder::Key,
        Some(_) => PermissionOrder::CreatedAt,
        None => {
            return Err(Error::param_value_invalid(
                "order_by",
                format!("order_by must be one of {} with an optional + or - prefix.", ORDER_FIELDS.join(", ")),
            )
            .into());
        }
    };
    let (perms, total) = core::list_permissions(
        &app.ctx,
        &instance.id,
        p.query.as_deref(),
        order,
        descending,
        limit as i64,
        offset as i64,
    )
    .await?;
    Ok(data_list(perms.iter().map(permission).collect(), total))
}

/// Body of `POST /organization_permissions`.
#[derive(Debug, Deserialize)]
pub struct CreatePermissionBody {
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
}

/// `POST /v1/organization_permissions`
pub async fn create_organization_permission(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreatePermissionBody>,
) -> ApiResult<Json<Value>> {
    let name = b.name.ok_or_else(|| Error::param_missing("name"))?;
    let key = b.key.ok_or_else(|| Error::param_missing("key"))?;
    let p = core::create_permission(&app.ctx, &instance.id, &name, &key, b.description).await?;
    Ok(Json(permission(&p)))
}

/// `GET /v1/organization_permissions/{permission_id}`
pub async fn get_organization_permission(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(permission(&core::get_permission(&app.ctx, &instance.id, &id).await?)))
}

/// Body of `PATCH /organization_permissions/{permission_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdatePermissionBody {
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
}

/// `PATCH /v1/organization_permissions/{permission_id}`
pub async fn update_organization_permission(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdatePermissionBody>,
) -> ApiResult<Json<Value>> {
    let p = core::update_permission(&app.ctx, &instance.id, &id, b.name, b.key, b.description).await?;
    Ok(Json(permission(&p)))
}

/// `DELETE /v1/organization_permissions/{permission_id}`
pub async fn delete_organization_permission(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    core::delete_permission(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "object": "permission", "id": id, "deleted": true })))
}
