//! Role sets: list, create, get, update, replace (migrating organizations), add roles, replace a role.

use std::collections::BTreeMap;

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::organizations::role_sets::{self as core, NewRoleSet, RoleSetUpdate};
use tessera_core::store::role_sets::RoleSetOrder;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64, nullable};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization::role_set;

/// `order_by` fields of the role set list.
const ORDER_FIELDS: &[&str] = &["created_at", "name", "key"];

/// Query of `GET /role_sets`.
#[derive(Debug, Deserialize)]
pub struct ListRoleSetsParams {
    query: Option<String>,
    order_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/role_sets`
pub async fn list_role_sets(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListRoleSetsParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(500)?;
    let sort = OrderBy::parse(p.order_by.as_deref(), ORDER_FIELDS, "-created_at")?;
    let order = match sort.field {
        "name" => RoleSetOrder::Name,
        "key" => RoleSetOrder::Key,
        _ => RoleSetOrder::CreatedAt,
    };
    let (sets, total) = core::list_role_sets(
        &app.ctx,
        &instance.id,
        p.query.as_deref(),
        order,
        sort.descending,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(data_list(sets.iter().map(role_set).collect(), total))
}

/// Body of `POST /role_sets` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleSetBody {
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    roles: Option<Vec<String>>,
}

/// `POST /v1/role_sets`
pub async fn create_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateRoleSetBody>,
) -> ApiResult<Json<Value>> {
    let input = NewRoleSet {
        name: b.name.ok_or_else(|| Error::param_missing("name"))?,
        key: b.key,
        description: b.description,
        default_role_key: b.default_role_key.ok_or_else(|| Error::param_missing("default_role_key"))?,
        creator_role_key: b.creator_role_key.ok_or_else(|| Error::param_missing("creator_role_key"))?,
        kind: b.kind,
        roles: b.roles.ok_or_else(|| Error::param_missing("roles"))?,
    };
    Ok(Json(role_set(&core::create_role_set(&app.ctx, &instance.id, input).await?)))
}

/// `GET /v1/role_sets/{role_set_key_or_id}`
pub async fn get_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(role_set(&core::get_role_set(&app.ctx, &instance.id, &id).await?)))
}

/// Body of `PATCH /role_sets/{role_set_key_or_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateRoleSetBody {
    name: Option<String>,
    key: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(rename = "type")]
    kind: Option<String>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
}

/// `PATCH /v1/role_sets/{role_set_key_or_id}`
pub async fn update_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateRoleSetBody>,
) -> ApiResult<Json<Value>> {
    let u = RoleSetUpdate {
        name: b.name,
        key: b.key,
        description: b.description.flatten(),
        kind: b.kind,
        default_role_key: b.default_role_key,
        creator_role_key: b.creator_role_key,
    };
    Ok(Json(role_set(&core::update_role_set(&app.ctx, &instance.id, &id, u).await?)))
}

/// Body of `POST /role_sets/{role_set_key_or_id}/replace`.
#[derive(Debug, Deserialize)]
pub struct ReplaceRoleSetBody {
    dest_role_set_key: Option<String>,
    reassignment_mappings: Option<BTreeMap<String, String>>,
}

/// `POST /v1/role_sets/{role_set_key_or_id}/replace`
pub async fn replace_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<ReplaceRoleSetBody>,
) -> ApiResult<Json<Value>> {
    let dest = b.dest_role_set_key.ok_or_else(|| Error::param_missing("dest_role_set_key"))?;
    let mappings = b.reassignment_mappings.unwrap_or_default();
    let deleted = core::replace_role_set(&app.ctx, &instance.id, &id, &dest, mappings).await?;
    Ok(Json(json!({ "object": "role_set", "id": deleted, "deleted": true })))
}

/// Body of `POST /role_sets/{role_set_key_or_id}/roles`.
#[derive(Debug, Deserialize)]
pub struct AddRolesBody {
    role_keys: Option<Vec<String>>,
    default_role_key: Option<String>,
    creator_role_key: Option<String>,
}

/// `POST /v1/role_sets/{role_set_key_or_id}/roles`
pub async fn add_roles_to_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<AddRolesBody>,
) -> ApiResult<Json<Value>> {
    let keys = b.role_keys.ok_or_else(|| Error::param_missing("role_keys"))?;
    let set = core::add_roles(&app.ctx, &instance.id, &id, &keys, b.default_role_key, b.creator_role_key).await?;
    Ok(Json(role_set(&set)))
}

/// Body of `POST /role_sets/{role_set_key_or_id}/roles/replace`.
#[derive(Debug, Deserialize)]
pub struct ReplaceRoleBody {
    role_key: Option<String>,
    to_role_key: Option<String>,
}

/// `POST /v1/role_sets/{role_set_key_or_id}/roles/replace`
pub async fn replace_role_in_role_set(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<ReplaceRoleBody>,
) -> ApiResult<Json<Value>> {
    let from = b.role_key.ok_or_else(|| Error::param_missing("role_key"))?;
    let to = b.to_role_key.ok_or_else(|| Error::param_missing("to_role_key"))?;
    Ok(Json(role_set(&core::replace_role(&app.ctx, &instance.id, &id, &from, &to).await?)))
}
