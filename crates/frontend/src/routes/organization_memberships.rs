//! Members of an organization, as its members see and manage them (`/v1/organizations/{id}/memberships…`): listing
//! needs `org:sys_memberships:read`, adding, changing and removing `org:sys_memberships:manage`. A change may not
//! leave the organization without a member who can manage its memberships (400
//! `organization_minimum_permissions_needed`).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::Params;
use tessera_core::Error;
use tessera_core::organizations::access;
use tessera_core::organizations::memberships::{self, Keep, MembershipPage, NewMembership};
use tessera_core::store::user_list::{MembershipFilter, UserOrder};
use tessera_core::users::list::{UserListQuery, user_filter};

use super::organizations::given;
use crate::extract::{Form, SignedIn};
use crate::objects::organization::{MembershipObject, Page};
use crate::respond;
use tessera_api::extract::Path;

/// The query of `GET /v1/organizations/{id}/memberships`.
#[derive(Debug, Default, Deserialize)]
pub struct ListMembershipsQuery {
    limit: Option<String>,
    offset: Option<String>,
    paginated: Option<String>,
    query: Option<String>,
    #[serde(default)]
    role: Vec<String>,
}

/// `GET /v1/organizations/{organization_id}/memberships`: `{data, total_count}` with `paginated=true` (what
/// clerk-js asks), else the array; `query` searches the members, `role` (repeatable) filters by role.
pub async fn list_organization_memberships(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Params(q): Params<ListMembershipsQuery>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access =
        access::require_for_list(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_READ).await?;
    let paging = super::organizations::Paging { limit: q.limit, offset: q.offset };
    let users = user_filter(&UserListQuery { query: given(q.query), ..UserListQuery::default() })?;
    let roles = q.role.into_iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
    let filter = MembershipFilter { roles, users, ..MembershipFilter::default() };
    let page = MembershipPage {
        order: UserOrder::CreatedAt,
        descending: true,
        limit: paging.limit(),
        offset: paging.offset(),
    };
    let (list, total) =
        memberships::list_organization_memberships(ctx, signed.instance_id(), &access.organization.id, filter, page)
            .await?;
    let base = &signed.browser.fapi.base_url;
    let data: Vec<MembershipObject<'_>> = list.iter().map(|m| MembershipObject::new(m, base)).collect();
    if matches!(q.paginated.as_deref(), Some("true" | "1")) {
        respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
    } else {
        respond::wrapped(&app, &signed.browser, data).await
    }
}

/// The form of `POST /v1/organizations/{id}/memberships`.
#[derive(Debug, Default, Deserialize)]
pub struct CreateMembershipForm {
    user_id: Option<String>,
    role: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/memberships`: adds a user of the instance with a role.
pub async fn create_organization_membership(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CreateMembershipForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let user_id = given(f.user_id).ok_or_else(|| Error::param_missing("user_id"))?;
    let role = given(f.role).ok_or_else(|| Error::param_missing("role"))?;
    let input = NewMembership { user_id, role, ..NewMembership::default() };
    let m = memberships::create_membership(ctx, signed.instance_id(), &access.organization.id, input).await?;
    respond::wrapped(&app, &signed.browser, MembershipObject::new(&m, &signed.browser.fapi.base_url)).await
}

/// The form of `PATCH /v1/organizations/{id}/memberships/{user_id}`.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateMembershipForm {
    role: Option<String>,
}

/// `PATCH /v1/organizations/{organization_id}/memberships/{user_id}`: a member's new role.
pub async fn update_organization_membership(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, user_id)): Path<(String, String)>,
    Form(f): Form<UpdateMembershipForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let role = given(f.role).ok_or_else(|| Error::param_missing("role"))?;
    let org = &access.organization.id;
    let m = memberships::update_membership(ctx, signed.instance_id(), org, &user_id, &role, Keep::AManager).await?;
    respond::wrapped(&app, &signed.browser, MembershipObject::new(&m, &signed.browser.fapi.base_url)).await
}

/// `DELETE /v1/organizations/{organization_id}/memberships/{user_id}`: removes a member; answers the membership
/// as it was.
pub async fn remove_organization_member(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_MANAGE).await?;
    let org = &access.organization.id;
    let m = memberships::delete_membership(ctx, signed.instance_id(), org, &user_id, Keep::AManager).await?;
    respond::wrapped(&app, &signed.browser, MembershipObject::new(&m, &signed.browser.fapi.base_url)).await
}
