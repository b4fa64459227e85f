//! An organization's membership requests (`/v1/organizations/{id}/membership_requests…`): users who accepted a
//! suggestion of a verified domain ask to join; a member who can manage memberships (`org:sys_memberships:manage`)
//! lists them and accepts (the user becomes a member with the instance's domain role) or rejects them.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::Params;
use tessera_core::domain_enrollment::{self, REQUEST_STATUSES};
use tessera_core::organizations::access;

use super::organizations::Paging;
use crate::extract::SignedIn;
use crate::objects::organization::{MembershipRequestObject, Page};
use crate::respond;
use tessera_api::extract::Path;

/// The query of `GET /v1/organizations/{id}/membership_requests`: paging, and `status` (repeatable).
#[derive(Debug, Default, Deserialize)]
pub struct ListRequestsQuery {
    limit: Option<String>,
    offset: Option<String>,
    #[serde(default)]
    status: Vec<String>,
}

/// `GET /v1/organizations/{organization_id}/membership_requests`: `{data, total_count}`, newest first; `status`
/// filters (`pending`, `accepted`, `rejected`).
pub async fn list_organization_membership_requests(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Params(q): Params<ListRequestsQuery>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access =
        access::require_for_list(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let statuses = domain_enrollment::statuses(&q.status, REQUEST_STATUSES)?;
    let paging = Paging { limit: q.limit, offset: q.offset };
    let org = &access.organization.id;
    let (list, total) =
        domain_enrollment::list_requests(ctx, signed.instance_id(), org, &statuses, paging.limit(), paging.offset())
            .await?;
    let base = &signed.browser.fapi.base_url;
    let data = list.iter().map(|r| MembershipRequestObject::new(r, base)).collect();
    respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
}

async fn decide(app: &AppState, signed: &SignedIn, id: &str, request_id: &str, accept: bool) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let org = &access.organization.id;
    let r = domain_enrollment::decide_request(ctx, signed.instance_id(), org, request_id, accept).await?;
    respond::wrapped(app, &signed.browser, MembershipRequestObject::new(&r, &signed.browser.fapi.base_url)).await
}

/// `POST /v1/organizations/{organization_id}/membership_requests/{request_id}/accept`: the user becomes a member.
pub async fn accept_organization_membership_request(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, request_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    decide(&app, &signed, &id, &request_id, true).await
}

/// `POST /v1/organizations/{organization_id}/membership_requests/{request_id}/reject`.
pub async fn reject_organization_membership_request(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, request_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    decide(&app, &signed, &id, &request_id, false).await
}
