//! Machines: CRUD, secret key (get, rotate) and scopes. Authenticated with the instance secret key.

use crate::json::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::machines::{MachineListQuery, MachineUpdate, NewMachine};
use tessera_core::store::machines::MachineOrder;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::machine::{
    CreatedMachineObject, DeletedMachineObject, DeletedMachineScopeObject, MachineObject, MachineScopeObject,
    MachineSecretKeyObject,
};

/// Largest page of the machine list.
const MAX_LIMIT: u64 = 500;

/// Query of `GET /machines`.
#[derive(Debug, Deserialize)]
pub struct ListMachinesParams {
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
    query: Option<String>,
    order_by: Option<String>,
}

/// `GET /v1/machines`
pub async fn list_machines(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListMachinesParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["name", "created_at"], "-created_at")?;
    let query = MachineListQuery {
        query: p.query,
        order: if order.field == "name" { MachineOrder::Name } else { MachineOrder::CreatedAt },
        descending: order.descending,
        limit: page.limit,
        offset: page.offset,
    };
    let (machines, total) = tessera_core::machines::list_machines(&app.ctx, &instance.id, &query).await?;
    Ok(data_list(machines.iter().map(MachineObject::from).collect(), total))
}

/// Body of `POST /machines`.
#[derive(Debug, Deserialize)]
pub struct CreateMachineBody {
    name: String,
    scoped_machines: Option<Vec<String>>,
    default_token_ttl: Option<i64>,
}

/// `POST /v1/machines`
pub async fn create_machine(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(body): Body<CreateMachineBody>,
) -> ApiResult<Response> {
    let input = NewMachine {
        name: body.name,
        scoped_machines: body.scoped_machines.unwrap_or_default(),
        default_token_ttl: body.default_token_ttl,
    };
    let created = tessera_core::machines::create_machine(&app.ctx, &instance.id, input).await?;
    Ok(Json(CreatedMachineObject::new(&created.machine, &created.secret_key)).into_response())
}

/// `GET /v1/machines/{machine_id}`
pub async fn get_machine(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
) -> ApiResult<Response> {
    let machine = tessera_core::machines::get_machine(&app.ctx, &instance.id, &machine_id).await?;
    Ok(Json(MachineObject::from(&machine)).into_response())
}

/// Body of `PATCH /machines/{machine_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateMachineBody {
    name: Option<String>,
    default_token_ttl: Option<i64>,
}

/// `PATCH /v1/machines/{machine_id}`
pub async fn update_machine(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
    Body(body): Body<UpdateMachineBody>,
) -> ApiResult<Response> {
    let update = MachineUpdate { name: body.name, default_token_ttl: body.default_token_ttl };
    let machine = tessera_core::machines::update_machine(&app.ctx, &instance.id, &machine_id, update).await?;
    Ok(Json(MachineObject::from(&machine)).into_response())
}

/// `DELETE /v1/machines/{machine_id}`
pub async fn delete_machine(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
) -> ApiResult<Response> {
    tessera_core::machines::delete_machine(&app.ctx, &instance.id, &machine_id).await?;
    Ok(Json(DeletedMachineObject::new(&machine_id)).into_response())
}

/// `GET /v1/machines/{machine_id}/secret_key`
pub async fn get_machine_secret_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
) -> ApiResult<Response> {
    let secret = tessera_core::machines::get_secret_key(&app.ctx, &instance.id, &machine_id).await?;
    Ok(Json(MachineSecretKeyObject::new(&secret)).into_response())
}

/// Body of `POST /machines/{machine_id}/secret_key/rotate`.
#[derive(Debug, Deserialize)]
pub struct RotateSecretKeyBody {
    previous_token_ttl: i64,
}

/// `POST /v1/machines/{machine_id}/secret_key/rotate`
pub async fn rotate_machine_secret_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
    Body(body): Body<RotateSecretKeyBody>,
) -> ApiResult<Response> {
    let secret =
        tessera_core::machines::rotate_secret_key(&app.ctx, &instance.id, &machine_id, body.previous_token_ttl).await?;
    Ok(Json(MachineSecretKeyObject::new(&secret)).into_response())
}

/// Body of `POST /machines/{machine_id}/scopes`.
#[derive(Debug, Deserialize)]
pub struct CreateScopeBody {
    to_machine_id: String,
}

/// `POST /v1/machines/{machine_id}/scopes`
pub async fn create_machine_scope(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(machine_id): Path<String>,
    Body(body): Body<CreateScopeBody>,
) -> ApiResult<Response> {
    let scope = tessera_core::machines::create_scope(&app.ctx, &instance.id, &machine_id, &body.to_machine_id).await?;
    Ok(Json(MachineScopeObject::from(&scope)).into_response())
}

/// `DELETE /v1/machines/{machine_id}/scopes/{other_machine_id}`
pub async fn delete_machine_scope(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((machine_id, other_machine_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    tessera_core::machines::delete_scope(&app.ctx, &instance.id, &machine_id, &other_machine_id).await?;
    Ok(Json(DeletedMachineScopeObject::new(&machine_id, &other_machine_id)).into_response())
}
