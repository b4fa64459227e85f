//! Organization roles: list, create, get, update, delete, assign and remove a permission.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::organizations::roles::{self as core, NewRole, RoleUpdate};
use tessera_core::store::organization_roles::RoleOrder;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64, nullable};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization::role;

/// `order_by` fields of the role list.
const ORDER_FIELDS: &[&str] = &["created_at", "name", "key"];

/// Query of `GET /organization_roles`.
#[derive(Debug, Deserialize)]
pub struct ListRolesParams {
    query: Option<String>,
    order_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/organization_roles`
pub async fn list_organization_roles(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListRolesParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(500)?;
    let sort = OrderBy::parse(p.order_by.as_deref(), ORDER_FIELDS, "-created_at")?;
    let order = match sort.field {
        "name" => RoleOrder::Name,
        "key" => RoleOrder::Key,
        _ => RoleOrder::CreatedAt,
    };
    let (roles, total) =
        core::list_roles(&app.ctx, &instance.id, p.query.as_deref(), order, sort.descending, page.limit, page.offset)
            .await?;
    Ok(data_list(roles.iter().map(role).collect(), total))
}

/// Body of `POST /organization_roles` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
    permissions: Option<Vec<String>>,
    include_in_initial_role_set: Option<bool>,
}

/// `POST /v1/organization_roles`
pub async fn create_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateRoleBody>,
) -> ApiResult<Json<Value>> {
    let input = NewRole {
        name: b.name.ok_or_else(|| Error::param_missing("name"))?,
        key: b.key.ok_or_else(|| Error::param_missing("key"))?,
        description: b.description,
        permissions: b.permissions.unwrap_or_default(),
        include_in_initial_role_set: b.include_in_initial_role_set.unwrap_or(false),
    };
    let r = core::create_role(&app.ctx, &instance.id, input).await?;
    Ok(Json(role(&r)))
}

/// `GET /v1/organization_roles/{organization_role_id}`
pub async fn get_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(role(&core::get_role(&app.ctx, &instance.id, &id).await?)))
}

/// Body of `PATCH /organization_roles/{organization_role_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateRoleBody {
    name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    permissions: Option<Vec<String>>,
}

/// `PATCH /v1/organization_roles/{organization_role_id}`
pub async fn update_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateRoleBody>,
) -> ApiResult<Json<Value>> {
    let u = RoleUpdate { name: b.name, key: b.key, description: b.description.flatten(), permissions: b.permissions };
    Ok(Json(role(&core::update_role(&app.ctx, &instance.id, &id, u).await?)))
}

/// `DELETE /v1/organization_roles/{organization_role_id}`
pub async fn delete_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    core::delete_role(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "object": "role", "id": id, "deleted": true })))
}

/// `POST /v1/organization_roles/{organization_role_id}/permissions/{permission_id}`
pub async fn assign_permission_to_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(role(&core::set_permission(&app.ctx, &instance.id, &id, &permission_id, true).await?)))
}

/// `DELETE /v1/organization_roles/{organization_role_id}/permissions/{permission_id}`
pub async fn remove_permission_from_organization_role(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(role(&core::set_permission(&app.ctx, &instance.id, &id, &permission_id, false).await?)))
}
