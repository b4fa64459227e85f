//! Organization memberships: create, list (per organization, per user, instance-wide), update the role, merge
//! metadata, delete.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::Error;
use tessera_core::organizations::memberships::{self as core, MembershipPage, NewMembership, ORDER_FIELDS, order_of};
use tessera_core::store::user_list::MembershipFilter;
use tessera_core::users::list::{MAX_FILTER_VALUES, UserListQuery, user_filter};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization::membership;

/// Body of `POST /organizations/{organization_id}/memberships`.
#[derive(Debug, Deserialize)]
pub struct CreateMembershipBody {
    user_id: Option<String>,
    role: Option<String>,
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/organizations/{organization_id}/memberships`
pub async fn create_organization_membership(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Body(b): Body<CreateMembershipBody>,
) -> ApiResult<Json<Value>> {
    let input = NewMembership {
        user_id: b.user_id.ok_or_else(|| Error::param_missing("user_id"))?,
        role: b.role.ok_or_else(|| Error::param_missing("role"))?,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
    };
    let m = core::create_membership(&app.ctx, &instance.id, &organization_id, input).await?;
    Ok(Json(membership(&m, &origin)))
}

/// Query of `GET /organizations/{organization_id}/memberships`.
#[derive(Debug, Deserialize)]
pub struct ListMembershipsParams {
    order_by: Option<String>,
    #[serde(default)]
    user_id: Vec<String>,
    #[serde(default)]
    email_address: Vec<String>,
    #[serde(default)]
    phone_number: Vec<String>,
    #[serde(default)]
    username: Vec<String>,
    #[serde(default)]
    web3_wallet: Vec<String>,
    #[serde(default)]
    role: Vec<String>,
    query: Option<String>,
    email_address_query: Option<String>,
    phone_number_query: Option<String>,
    username_query: Option<String>,
    name_query: Option<String>,
    last_active_at_before: Option<i64>,
    last_active_at_after: Option<i64>,
    created_at_before: Option<i64>,
    created_at_after: Option<i64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// A page window; this list's spec declares 422 (not 400) for bad parameters.
fn page_422(limit: Option<u64>, offset: Option<u64>, order_by: Option<&str>) -> ApiResult<MembershipPage> {
    let limit = limit.unwrap_or(10);
    if limit == 0 || limit > 500 {
        return Err(Error::param_value_invalid("limit", "limit must be between 1 and 500.").into());
    }
    let offset = offset.unwrap_or(0).min(i64::MAX as u64 / 2);
    let sort = OrderBy::parse(order_by, ORDER_FIELDS, "-created_at").map_err(|_| {
        Error::param_value_invalid(
            "order_by",
            format!("order_by must be one of {} with an optional + or - prefix.", ORDER_FIELDS.join(", ")),
        )
    })?;
    Ok(MembershipPage {
        order: order_of(sort.field),
        descending: sort.descending,
        limit: limit as i64,
        offset: offset as i64,
    })
}

/// `GET /v1/organizations/{organization_id}/memberships`: the members, filtered like the user list.
pub async fn list_organization_memberships(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Params(p): Params<ListMembershipsParams>,
) -> ApiResult<Json<Value>> {
    let page = page_422(p.limit, p.offset, p.order_by.as_deref())?;
    if p.role.len() > MAX_FILTER_VALUES {
        return Err(
            Error::param_value_invalid("role", format!("role accepts at most {MAX_FILTER_VALUES} values.")).into()
        );
    }
    let users = user_filter(&UserListQuery {
        email_address: p.email_address,
        phone_number: p.phone_number,
        username: p.username,
        web3_wallet: p.web3_wallet,
        user_id: p.user_id,
        query: p.query,
        email_address_query: p.email_address_query,
        phone_number_query: p.phone_number_query,
        username_query: p.username_query,
        name_query: p.name_query,
        last_active_at_before: p.last_active_at_before,
        last_active_at_after: p.last_active_at_after,
        created_at_before: p.created_at_before,
        created_at_after: p.created_at_after,
        ..Default::default()
    })?;
    let roles = p.role.into_iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
    let filter = MembershipFilter { roles, users, ..Default::default() };
    let (list, total) =
        core::list_organization_memberships(&app.ctx, &instance.id, &organization_id, filter, page).await?;
    Ok(data_list(list.iter().map(|m| membership(m, &origin)).collect(), total))
}

/// Query of `GET /organization_memberships`.
#[derive(Debug, Deserialize)]
pub struct InstanceMembershipsParams {
    order_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/organization_memberships`: every membership of the instance.
pub async fn instance_get_organization_memberships(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(p): Params<InstanceMembershipsParams>,
) -> ApiResult<Json<Value>> {
    let window = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(500)?;
    let sort = OrderBy::parse(p.order_by.as_deref(), ORDER_FIELDS, "-created_at")?;
    let page = MembershipPage {
        order: order_of(sort.field),
        descending: sort.descending,
        limit: window.limit,
        offset: window.offset,
    };
    let (list, total) = core::list_memberships(&app.ctx, &instance.id, &MembershipFilter::default(), page).await?;
    Ok(data_list(list.iter().map(|m| membership(m, &origin)).collect(), total))
}

/// `GET /v1/users/{user_id}/organization_memberships`: the user's memberships, newest first.
pub async fn users_get_organization_memberships(
    app: &AppState,
    instance_id: &str,
    origin: &str,
    user_id: &str,
    paging: Paging,
) -> ApiResult<Json<Value>> {
    let window = paging.page(500)?;
    tessera_core::users::ensure_exists(&app.ctx, instance_id, user_id).await?;
    let filter = MembershipFilter { user_id: Some(user_id.to_owned()), ..Default::default() };
    let page =
        MembershipPage { order: order_of("created_at"), descending: true, limit: window.limit, offset: window.offset };
    let (list, total) = core::list_memberships(&app.ctx, instance_id, &filter, page).await?;
    Ok(data_list(list.iter().map(|m| membership(m, origin)).collect(), total))
}

/// Body of `PATCH /organizations/{organization_id}/memberships/{user_id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateMembershipBody {
    role: Option<String>,
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}`
pub async fn update_organization_membership(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, user_id)): Path<(String, String)>,
    Body(b): Body<UpdateMembershipBody>,
) -> ApiResult<Json<Value>> {
    let role = b.role.unwrap_or_default();
    let m =
        core::update_membership(&app.ctx, &instance.id, &organization_id, &user_id, &role, core::Keep::Nothing).await?;
    Ok(Json(membership(&m, &origin)))
}

/// `DELETE /v1/organizations/{organization_id}/memberships/{user_id}`
pub async fn delete_organization_membership(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let m = core::delete_membership(&app.ctx, &instance.id, &organization_id, &user_id, core::Keep::Nothing).await?;
    Ok(Json(membership(&m, &origin)))
}

/// Body of `PATCH /organizations/{organization_id}/memberships/{user_id}/metadata` (`additionalProperties:
/// false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipMetadataBody {
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}/metadata`: deep merge, `null` deletes.
pub async fn update_organization_membership_metadata(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, user_id)): Path<(String, String)>,
    Body(b): Body<MembershipMetadataBody>,
) -> ApiResult<Json<Value>> {
    let m = core::merge_membership_metadata(
        &app.ctx,
        &instance.id,
        &organization_id,
        &user_id,
        b.public_metadata,
        b.private_metadata,
    )
    .await?;
    Ok(Json(membership(&m, &origin)))
}
