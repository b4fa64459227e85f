//! Invitations of an organization, as its members manage them (`/v1/organizations/{id}/invitations…`, all
//! `org:sys_memberships:manage`): list, create one or several (the signed-in member is the inviter), revoke.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::Params;
use tessera_core::Error;
use tessera_core::organization_invitations::{self as invitations, NewOrganizationInvitation};
use tessera_core::organizations::access;
use tessera_core::store::organization_invitations::InvitationFilter;

use super::organizations::{Paging, given};
use crate::extract::{Form, SignedIn};
use crate::objects::organization::{OrganizationInvitationObject, Page};
use crate::respond;
use tessera_api::extract::Path;

/// The statuses the list filters by (the spec's; Tessera's invitations are never `invalid` or `completed`).
const STATUSES: &[&str] = &["pending", "accepted", "revoked", "expired", "invalid", "completed"];

/// The query of `GET /v1/organizations/{id}/invitations`.
#[derive(Debug, Default, Deserialize)]
pub struct ListInvitationsQuery {
    limit: Option<String>,
    offset: Option<String>,
    #[serde(default)]
    status: Vec<String>,
}

/// `GET /v1/organizations/{organization_id}/invitations`: `{data, total_count}`, newest first; `status` filters.
pub async fn get_organization_invitations(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Params(q): Params<ListInvitationsQuery>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let mut statuses: Vec<String> = q.status.into_iter().filter(|s| !s.trim().is_empty()).collect();
    statuses.dedup();
    if statuses.len() > 1 || statuses.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        return Err(Error::query_param_invalid(
            "status",
            format!("status must be one of {}, given once.", STATUSES.join(", ")),
        )
        .into());
    }
    let filter = InvitationFilter { status: statuses.pop(), descending: true, ..InvitationFilter::default() };
    let paging = Paging { limit: q.limit, offset: q.offset };
    let (list, total) = invitations::list_for_organization(
        ctx,
        signed.instance_id(),
        &access.organization.id,
        filter,
        paging.limit(),
        paging.offset(),
    )
    .await?;
    let base = &signed.browser.fapi.base_url;
    let data = list.iter().map(|i| OrganizationInvitationObject::new(i, base)).collect();
    respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
}

/// `GET /v1/organizations/{organization_id}/invitations/pending` (deprecated by Clerk): every pending
/// invitation, as an array.
pub async fn get_all_pending_organization_invitations(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access =
        access::require_for_list(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let filter = InvitationFilter { status: Some("pending".into()), descending: true, ..InvitationFilter::default() };
    let (list, _) =
        invitations::list_for_organization(ctx, signed.instance_id(), &access.organization.id, filter, 500, 0).await?;
    let base = &signed.browser.fapi.base_url;
    let data: Vec<_> = list.iter().map(|i| OrganizationInvitationObject::new(i, base)).collect();
    respond::wrapped(&app, &signed.browser, data).await
}

/// `notify` as a form sends it: absent or anything but `false`/`0` sends the e-mail.
fn notify(v: Option<&str>) -> bool {
    !matches!(v.map(str::trim), Some("false" | "0"))
}

/// The form of `POST /v1/organizations/{id}/invitations`.
#[derive(Debug, Default, Deserialize)]
pub struct CreateInvitationForm {
    email_address: Option<String>,
    role: Option<String>,
    notify: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/invitations`: invites an e-mail address with a role.
pub async fn create_organization_invitations(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CreateInvitationForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let email_address = given(f.email_address).ok_or_else(|| Error::param_missing("email_address"))?;
    let role = given(f.role).ok_or_else(|| Error::param_missing("role"))?;
    let input = NewOrganizationInvitation {
        email_address,
        role,
        inviter_user_id: Some(signed.user_id().to_owned()),
        notify: notify(f.notify.as_deref()),
        ..NewOrganizationInvitation::default()
    };
    let instance = &signed.browser.fapi.instance;
    let created = invitations::create(ctx, instance, &access.organization.id, vec![input], false).await?;
    // One input, one invitation.
    let inv = created.first().ok_or_else(invitations::not_found)?;
    respond::wrapped(&app, &signed.browser, OrganizationInvitationObject::new(inv, &signed.browser.fapi.base_url)).await
}

/// The form of `POST /v1/organizations/{id}/invitations/bulk`: `email_address` repeated.
#[derive(Debug, Default, Deserialize)]
pub struct BulkInvitationForm {
    #[serde(default)]
    email_address: Vec<String>,
    role: Option<String>,
    notify: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/invitations/bulk`: invites several addresses with one role, all or
/// none.
pub async fn bulk_create_organization_invitations(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<BulkInvitationForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let emails: Vec<String> = f.email_address.into_iter().filter(|e| !e.trim().is_empty()).collect();
    if emails.is_empty() {
        return Err(Error::param_missing("email_address").into());
    }
    let role = given(f.role).ok_or_else(|| Error::param_missing("role"))?;
    let inputs = emails
        .into_iter()
        .map(|email_address| NewOrganizationInvitation {
            email_address,
            role: role.clone(),
            inviter_user_id: Some(signed.user_id().to_owned()),
            notify: notify(f.notify.as_deref()),
            ..NewOrganizationInvitation::default()
        })
        .collect();
    let instance = &signed.browser.fapi.instance;
    let created = invitations::create(ctx, instance, &access.organization.id, inputs, true).await?;
    let base = &signed.browser.fapi.base_url;
    let data: Vec<_> = created.iter().map(|i| OrganizationInvitationObject::new(i, base)).collect();
    respond::wrapped(&app, &signed.browser, data).await
}

/// `POST /v1/organizations/{organization_id}/invitations/{invitation_id}/revoke`: revokes a pending invitation.
pub async fn revoke_pending_organization_invitation(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, invitation_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let org = &access.organization.id;
    let inv = invitations::revoke(ctx, signed.instance_id(), org, &invitation_id, Some(signed.user_id())).await?;
    respond::wrapped(&app, &signed.browser, OrganizationInvitationObject::new(&inv, &signed.browser.fapi.base_url))
        .await
}
