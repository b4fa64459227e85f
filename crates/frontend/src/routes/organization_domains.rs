//! Verified domains of an organization, as its members manage them (`/v1/organizations/{id}/domains…`): reading
//! needs `org:sys_domains:read`, changes `org:sys_domains:manage`; changes need verified domains enabled for the
//! instance's organizations, and automatic enrollment modes enabled too.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::{Params, lenient_bool};
use tessera_core::Error;
use tessera_core::organization_domains::{self as domains, DomainUpdate};
use tessera_core::organizations::access;
use tessera_core::store::organization_domains::DomainFilter;

use super::organizations::{Paging, given};
use crate::extract::{Form, SignedIn};
use crate::objects::organization::{DeletedObject, Page};
use crate::objects::organization_domain::OrganizationDomainObject;
use crate::respond;
use tessera_api::extract::Path;

/// The query of `GET /v1/organizations/{id}/domains`.
#[derive(Debug, Default, Deserialize)]
pub struct ListDomainsQuery {
    limit: Option<String>,
    offset: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    verified: Option<bool>,
    #[serde(default)]
    enrollment_mode: Vec<String>,
}

/// `GET /v1/organizations/{organization_id}/domains`: `{data, total_count}`, newest first; `verified` and
/// `enrollment_mode` filter.
pub async fn list_organization_domains(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Params(q): Params<ListDomainsQuery>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access =
        access::require_for_list(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_READ).await?;
    // This operation's spec declares 422 for bad input, where the Backend API's declares 400.
    let (modes, excluded_modes) = domains::mode_filter(&q.enrollment_mode).map_err(|e| {
        let why = e.items().first().map(|i| i.long_message.clone()).unwrap_or_default();
        Error::param_value_invalid("enrollment_mode", why)
    })?;
    let filter =
        DomainFilter { verified: q.verified, modes, excluded_modes, descending: true, ..DomainFilter::default() };
    let paging = Paging { limit: q.limit, offset: q.offset };
    let (list, total) = domains::list_for_organization(
        ctx,
        signed.instance_id(),
        &access.organization.id,
        filter,
        paging.limit(),
        paging.offset(),
    )
    .await?;
    let base = &signed.browser.fapi.base_url;
    let data = list.iter().map(|d| OrganizationDomainObject::new(d, base)).collect();
    respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
}

/// The form of `POST /v1/organizations/{id}/domains`.
#[derive(Debug, Default, Deserialize)]
pub struct CreateDomainForm {
    name: Option<String>,
    enrollment_mode: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/domains`: a new domain, unverified until a member verifies their
/// affiliation with it; enrollment is `manual_invitation` unless asked otherwise.
pub async fn create_organization_domain(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CreateDomainForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_MANAGE).await?;
    let name = given(f.name).ok_or_else(|| Error::param_missing("name"))?;
    let mode = given(f.enrollment_mode).unwrap_or_else(|| "manual_invitation".into());
    let d = domains::create(ctx, signed.instance_id(), &access.organization.id, &name, &mode, Some(false)).await?;
    respond::wrapped(&app, &signed.browser, OrganizationDomainObject::new(&d, &signed.browser.fapi.base_url)).await
}

/// `GET /v1/organizations/{organization_id}/domains/{domain_id}`.
pub async fn get_organization_domain(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, domain_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_READ).await?;
    let d = domains::get(ctx, signed.instance_id(), &access.organization.id, &domain_id).await?;
    respond::wrapped(&app, &signed.browser, OrganizationDomainObject::new(&d, &signed.browser.fapi.base_url)).await
}

/// `DELETE /v1/organizations/{organization_id}/domains/{domain_id}`.
pub async fn delete_organization_domain(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, domain_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_MANAGE).await?;
    let deleted = domains::delete(ctx, signed.instance_id(), &access.organization.id, &domain_id).await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::new("organization_domain", Some(&deleted), None)).await
}

/// The form of `POST …/domains/{domain_id}/update_enrollment_mode`. `delete_pending` asks to drop the domain's
/// pending automatic invitations (revoked) and suggestions.
#[derive(Debug, Default, Deserialize)]
pub struct EnrollmentModeForm {
    enrollment_mode: Option<String>,
    delete_pending: Option<String>,
}

/// `POST /v1/organizations/{organization_id}/domains/{domain_id}/update_enrollment_mode`.
pub async fn update_organization_domain_enrollment_mode(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, domain_id)): Path<(String, String)>,
    Form(f): Form<EnrollmentModeForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_MANAGE).await?;
    let mode = given(f.enrollment_mode).ok_or_else(|| Error::param_missing("enrollment_mode"))?;
    let delete_pending = matches!(f.delete_pending.as_deref().map(str::trim), Some("true" | "1"));
    let update = DomainUpdate { enrollment_mode: Some(mode), verified: None, delete_pending };
    let d = domains::update(ctx, signed.instance_id(), &access.organization.id, &domain_id, update).await?;
    respond::wrapped(&app, &signed.browser, OrganizationDomainObject::new(&d, &signed.browser.fapi.base_url)).await
}
