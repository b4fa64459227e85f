//! Organization Invitations: create (one or bulk), list (per organization, pending, instance-wide), get, revoke.
//! The per-user list is `user_credentials::users_get_organization_invitations`.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::organization_invitations::{self as invitations, NewOrganizationInvitation, OrganizationInvitation};
use tessera_core::store::organization_invitations::InvitationFilter;
use tessera_core::{Error, ErrorCode};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, nullable};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization_invitation::organization_invitation;

/// Largest page of the lists here.
const MAX_LIMIT: u64 = 500;
/// Invitation statuses a filter may name.
const STATUSES: &[&str] = &["pending", "accepted", "revoked", "expired"];

/// One invitation of a create or bulk-create body.
#[derive(Debug, Deserialize)]
pub struct InvitationBody {
    email_address: Option<String>,
    role: Option<String>,
    inviter_user_id: Option<String>,
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    redirect_url: Option<String>,
    expires_in_days: Option<i64>,
    notify: Option<bool>,
}

impl InvitationBody {
    fn into_input(self, prefix: &str) -> Result<NewOrganizationInvitation, Error> {
        Ok(NewOrganizationInvitation {
            email_address: self.email_address.ok_or_else(|| Error::param_missing(&format!("{prefix}email_address")))?,
            role: self.role.ok_or_else(|| Error::param_missing(&format!("{prefix}role")))?,
            inviter_user_id: self.inviter_user_id,
            public_metadata: self.public_metadata,
            private_metadata: self.private_metadata,
            redirect_url: self.redirect_url,
            expires_in_days: self.expires_in_days,
            notify: self.notify.unwrap_or(true),
        })
    }
}

fn one(i: &OrganizationInvitation, origin: &str) -> Value {
    organization_invitation(i, origin, false)
}

/// `POST /v1/organizations/{organization_id}/invitations`
pub async fn create_organization_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Body(b): Body<InvitationBody>,
) -> ApiResult<Json<Value>> {
    let input = b.into_input("")?;
    let mut created = invitations::create(&app.ctx, &instance, &organization_id, vec![input], false).await?;
    let inv = created.pop().ok_or_else(|| Error::new(ErrorCode::InternalClerkError))?;
    Ok(Json(one(&inv, &origin)))
}

/// `POST /v1/organizations/{organization_id}/invitations/bulk`
pub async fn create_organization_invitation_bulk(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Body(b): Body<Vec<InvitationBody>>,
) -> ApiResult<Json<Value>> {
    // The count is checked in core, after the organization (an unknown one is 404 whatever the body).
    let inputs = b
        .into_iter()
        .enumerate()
        .map(|(i, item)| item.into_input(&format!("[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let created = invitations::create(&app.ctx, &instance, &organization_id, inputs, true).await?;
    let total = created.len() as i64;
    Ok(data_list(created.iter().map(|i| one(i, &origin)).collect(), total))
}

fn status_filter(status: Option<String>) -> Result<Option<String>, Error> {
    match status.filter(|s| !s.is_empty()) {
        Some(s) if !STATUSES.contains(&s.as_str()) => {
            Err(Error::query_param_invalid("status", "status must be one of pending, accepted, revoked, expired."))
        }
        other => Ok(other),
    }
}

/// Query of `GET /organizations/{organization_id}/invitations`.
#[derive(Debug, Deserialize)]
pub struct OrganizationInvitationsParams {
    status: Option<String>,
    email_address: Option<String>,
    order_by: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/organizations/{organization_id}/invitations`
pub async fn list_organization_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Params(p): Params<OrganizationInvitationsParams>,
) -> ApiResult<Json<Value>> {
    let page = p.paging.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["created_at", "email_address"], "-created_at")?;
    let filter = InvitationFilter {
        status: status_filter(p.status)?,
        email: p.email_address.filter(|e| !e.is_empty()).map(|e| e.trim().to_lowercase()),
        order_by_email: order.field == "email_address",
        descending: order.descending,
        ..Default::default()
    };
    let (rows, total) =
        invitations::list_for_organization(&app.ctx, &instance.id, &organization_id, filter, page.limit, page.offset)
            .await?;
    Ok(data_list(rows.iter().map(|i| one(i, &origin)).collect(), total))
}

/// `GET /v1/organizations/{organization_id}/invitations/pending`
pub async fn list_pending_organization_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Params(p): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let page = p.page(MAX_LIMIT)?;
    let filter = InvitationFilter { status: Some("pending".into()), descending: true, ..Default::default() };
    let (rows, total) =
        invitations::list_for_organization(&app.ctx, &instance.id, &organization_id, filter, page.limit, page.offset)
            .await?;
    Ok(data_list(rows.iter().map(|i| one(i, &origin)).collect(), total))
}

/// `GET /v1/organizations/{organization_id}/invitations/{invitation_id}`
pub async fn get_organization_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, invitation_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let inv = invitations::get(&app.ctx, &instance.id, &organization_id, &invitation_id).await?;
    Ok(Json(one(&inv, &origin)))
}

/// Body of `POST …/invitations/{invitation_id}/revoke`.
#[derive(Debug, Default, Deserialize)]
pub struct RevokeBody {
    #[serde(default, deserialize_with = "nullable")]
    requesting_user_id: Option<Option<String>>,
}

/// `POST /v1/organizations/{organization_id}/invitations/{invitation_id}/revoke`
pub async fn revoke_organization_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, invitation_id)): Path<(String, String)>,
    Body(b): Body<RevokeBody>,
) -> ApiResult<Json<Value>> {
    let requesting = b.requesting_user_id.flatten();
    let inv =
        invitations::revoke(&app.ctx, &instance.id, &organization_id, &invitation_id, requesting.as_deref()).await?;
    Ok(Json(one(&inv, &origin)))
}

/// Query of `GET /organization_invitations`.
#[derive(Debug, Deserialize)]
pub struct InstanceInvitationsParams {
    order_by: Option<String>,
    status: Option<String>,
    query: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/organization_invitations`
pub async fn list_instance_organization_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(p): Params<InstanceInvitationsParams>,
) -> ApiResult<Json<Value>> {
    let page = p.paging.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["created_at", "email_address"], "-created_at")?;
    let filter = InvitationFilter {
        status: status_filter(p.status)?,
        query: p.query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        order_by_email: order.field == "email_address",
        descending: order.descending,
        ..Default::default()
    };
    let (rows, total) = invitations::list(&app.ctx, &instance.id, &filter, page.limit, page.offset).await?;
    Ok(data_list(rows.iter().map(|i| organization_invitation(i, &origin, true)).collect(), total))
}
