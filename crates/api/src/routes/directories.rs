//! Directories: `/directories…` and `/scim_directories…`, two views of the same records (the `object` differs;
//! the bodies' `directory_*` and `scim_*` names are aliases). Create answers 200 with the API key, the only time
//! it is shown.

use std::collections::BTreeMap;

use crate::json::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::directories::{self, DirectoryUpdate, MappingInput, NewDirectory};
use tessera_core::instances::Instance;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::list::{Paging, data_list};
use crate::objects::deleted::DeletedObject;
use crate::objects::directory::{DirectoryObject, GroupRoleMappingObject, View};
use tessera_core::directories::GroupRoleMapping;

/// A group → role mapping of the create body.
#[derive(Debug, Deserialize)]
pub struct MappingBody {
    directory_group_id: Option<String>,
    scim_group_id: Option<String>,
    directory_group_display_name: Option<String>,
    scim_group_display_name: Option<String>,
    role_id: Option<String>,
    precedence: Option<i64>,
}

/// Body of `POST /directories` and `POST /scim_directories`.
#[derive(Debug, Deserialize)]
pub struct CreateDirectoryBody {
    enterprise_connection_id: Option<String>,
    name: Option<String>,
    provider: Option<String>,
    group_role_mappings: Option<Vec<MappingBody>>,
}

/// Body of `PATCH /directories/{id}` and `PATCH /scim_directories/{id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateDirectoryBody {
    name: Option<String>,
    enabled: Option<bool>,
    provider: Option<String>,
    attribute_mapping: Option<BTreeMap<String, Option<String>>>,
    group_role_mapping_enabled: Option<bool>,
}

fn one(d: &directories::Directory, view: View, instance: &Instance) -> Response {
    Json(DirectoryObject::new(d, view, &instance.frontend_host())).into_response()
}

async fn list(app: &AppState, instance: &Instance, paging: Paging, view: View) -> ApiResult<Response> {
    let page = paging.page(directories::MAX_LIMIT)?;
    let (items, total) = directories::list(&app.ctx, &instance.id, page.limit, page.offset).await?;
    let host = instance.frontend_host();
    Ok(data_list(items.iter().map(|d| DirectoryObject::new(d, view, &host)).collect(), total).into_response())
}

async fn create(app: &AppState, instance: &Instance, b: CreateDirectoryBody, view: View) -> ApiResult<Response> {
    let input = NewDirectory {
        enterprise_connection_id: b.enterprise_connection_id,
        name: b.name,
        provider: b.provider,
        group_role_mappings: b
            .group_role_mappings
            .unwrap_or_default()
            .into_iter()
            .map(|m| MappingInput {
                directory_group_id: m.directory_group_id,
                scim_group_id: m.scim_group_id,
                directory_group_display_name: m.directory_group_display_name,
                scim_group_display_name: m.scim_group_display_name,
                role_id: m.role_id,
                precedence: m.precedence,
            })
            .collect(),
    };
    let d = directories::create(&app.ctx, &instance.id, input).await?;
    Ok(one(&d, view, instance))
}

async fn update(
    app: &AppState,
    instance: &Instance,
    id: &str,
    b: UpdateDirectoryBody,
    view: View,
) -> ApiResult<Response> {
    let u = DirectoryUpdate {
        name: b.name,
        enabled: b.enabled,
        provider: b.provider,
        attribute_mapping: b.attribute_mapping,
        group_role_mapping_enabled: b.group_role_mapping_enabled,
    };
    let d = directories::update(&app.ctx, &instance.id, id, u).await?;
    Ok(one(&d, view, instance))
}

async fn delete(app: &AppState, instance: &Instance, id: &str, view: View) -> ApiResult<Response> {
    let id = directories::delete(&app.ctx, &instance.id, id).await?;
    Ok(Json(DeletedObject::new(view.object(), &id)).into_response())
}

/// `GET /directories`
pub async fn list_directories(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    list(&app, &instance, paging, View::Directory).await
}

/// `POST /directories`
pub async fn create_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateDirectoryBody>,
) -> ApiResult<Response> {
    create(&app, &instance, b, View::Directory).await
}

/// `GET /directories/{id}`
pub async fn get_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(one(&directories::get(&app.ctx, &instance.id, &id).await?, View::Directory, &instance))
}

/// `PATCH /directories/{id}`
pub async fn update_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateDirectoryBody>,
) -> ApiResult<Response> {
    update(&app, &instance, &id, b, View::Directory).await
}

/// `DELETE /directories/{id}`
pub async fn delete_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    delete(&app, &instance, &id, View::Directory).await
}

/// `GET /scim_directories`
pub async fn list_scim_directories(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<Paging>,
) -> ApiResult<Response> {
    list(&app, &instance, paging, View::Scim).await
}

/// `POST /scim_directories`
pub async fn create_scim_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateDirectoryBody>,
) -> ApiResult<Response> {
    create(&app, &instance, b, View::Scim).await
}

/// `GET /scim_directories/{id}`
pub async fn get_scim_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(one(&directories::get(&app.ctx, &instance.id, &id).await?, View::Scim, &instance))
}

/// `PATCH /scim_directories/{id}`
pub async fn update_scim_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateDirectoryBody>,
) -> ApiResult<Response> {
    update(&app, &instance, &id, b, View::Scim).await
}

/// `DELETE /scim_directories/{id}`
pub async fn delete_scim_directory(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    delete(&app, &instance, &id, View::Scim).await
}

/// Body of `POST …/group_role_mappings`.
#[derive(Debug, Deserialize)]
pub struct CreateMappingBody {
    directory_group_id: Option<String>,
    scim_group_id: Option<String>,
    role_id: Option<String>,
    precedence: Option<i64>,
}

/// One item of the `PUT …/group_role_mappings` body.
#[derive(Debug, Deserialize)]
pub struct ReplaceMappingItem {
    directory_group_id: Option<String>,
    scim_group_id: Option<String>,
    role_id: Option<String>,
}

/// Body of `PUT …/group_role_mappings`.
#[derive(Debug, Deserialize)]
pub struct ReplaceMappingsBody {
    mappings: Option<Vec<ReplaceMappingItem>>,
}

fn mapping_list(items: &[GroupRoleMapping], view: View) -> Response {
    let data: Vec<_> = items.iter().map(|m| GroupRoleMappingObject::new(m, view)).collect();
    let total = data.len() as i64;
    data_list(data, total).into_response()
}

async fn rotate(app: &AppState, instance: &Instance, id: &str, view: View) -> ApiResult<Response> {
    Ok(one(&directories::rotate_api_key(&app.ctx, &instance.id, id).await?, view, instance))
}

async fn list_mappings(app: &AppState, instance: &Instance, id: &str, view: View) -> ApiResult<Response> {
    Ok(mapping_list(&directories::list_mappings(&app.ctx, &instance.id, id).await?, view))
}

async fn create_mapping(
    app: &AppState,
    instance: &Instance,
    id: &str,
    b: CreateMappingBody,
    view: View,
) -> ApiResult<Response> {
    let input = MappingInput {
        directory_group_id: b.directory_group_id,
        scim_group_id: b.scim_group_id,
        role_id: b.role_id,
        precedence: b.precedence,
        ..Default::default()
    };
    let m = directories::create_mapping(&app.ctx, &instance.id, id, input).await?;
    Ok(Json(GroupRoleMappingObject::new(&m, view)).into_response())
}

async fn replace_mappings(
    app: &AppState,
    instance: &Instance,
    id: &str,
    b: ReplaceMappingsBody,
    view: View,
) -> ApiResult<Response> {
    // An unknown directory is 404 whatever the body.
    directories::get(&app.ctx, &instance.id, id).await?;
    let items = b.mappings.ok_or_else(|| tessera_core::Error::param_missing("mappings"))?;
    let input = items
        .into_iter()
        .map(|m| MappingInput {
            directory_group_id: m.directory_group_id,
            scim_group_id: m.scim_group_id,
            role_id: m.role_id,
            ..Default::default()
        })
        .collect();
    Ok(mapping_list(&directories::replace_mappings(&app.ctx, &instance.id, id, input).await?, view))
}

async fn delete_mapping(
    app: &AppState,
    instance: &Instance,
    id: &str,
    mapping_id: &str,
    view: View,
) -> ApiResult<Response> {
    let id = directories::delete_mapping(&app.ctx, &instance.id, id, mapping_id).await?;
    Ok(Json(DeletedObject::new(view.mapping_object(), &id)).into_response())
}

/// `POST /directories/{id}/rotate_api_key` (2026-05-12)
pub async fn rotate_directory_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    rotate(&app, &instance, &id, View::Directory).await
}

/// `GET /directories/{id}/group_role_mappings` (2026-05-12)
pub async fn list_directory_group_role_mappings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_mappings(&app, &instance, &id, View::Directory).await
}

/// `POST /directories/{id}/group_role_mappings` (2026-05-12)
pub async fn create_directory_group_role_mapping(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<CreateMappingBody>,
) -> ApiResult<Response> {
    create_mapping(&app, &instance, &id, b, View::Directory).await
}

/// `PUT /directories/{id}/group_role_mappings` (2026-05-12)
pub async fn replace_directory_group_role_mappings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<ReplaceMappingsBody>,
) -> ApiResult<Response> {
    replace_mappings(&app, &instance, &id, b, View::Directory).await
}

/// `DELETE /directories/{id}/group_role_mappings/{mapping_id}` (2026-05-12)
pub async fn delete_directory_group_role_mapping(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((id, mapping_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    delete_mapping(&app, &instance, &id, &mapping_id, View::Directory).await
}

/// `POST /scim_directories/{id}/rotate_api_key` (2026-05-12)
pub async fn rotate_scim_directory_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    rotate(&app, &instance, &id, View::Scim).await
}

/// `GET /scim_directories/{id}/group_role_mappings` (2026-05-12)
pub async fn list_scim_group_role_mappings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_mappings(&app, &instance, &id, View::Scim).await
}

/// `POST /scim_directories/{id}/group_role_mappings` (2026-05-12)
pub async fn create_scim_group_role_mapping(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<CreateMappingBody>,
) -> ApiResult<Response> {
    create_mapping(&app, &instance, &id, b, View::Scim).await
}

/// `PUT /scim_directories/{id}/group_role_mappings` (2026-05-12)
pub async fn replace_scim_group_role_mappings(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<ReplaceMappingsBody>,
) -> ApiResult<Response> {
    replace_mappings(&app, &instance, &id, b, View::Scim).await
}

/// `DELETE /scim_directories/{id}/group_role_mappings/{mapping_id}` (2026-05-12)
pub async fn delete_scim_group_role_mapping(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((id, mapping_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    delete_mapping(&app, &instance, &id, &mapping_id, View::Scim).await
}
