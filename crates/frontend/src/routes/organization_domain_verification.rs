//! Affiliation verification of an organization's domain by e-mail code
//! (`/v1/organizations/{id}/domains/{domain_id}/prepare_affiliation_verification` and `…/attempt_…`), as
//! `<OrganizationProfile/>`'s "verify domain" step calls them. Both need `org:sys_domains:manage`.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::domain_affiliation;
use tessera_core::organizations::access;

use crate::extract::{Form, SignedIn};
use crate::objects::organization_domain::OrganizationDomainObject;
use crate::respond;
use tessera_api::extract::Path;

/// The form of `…/prepare_affiliation_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct PrepareForm {
    affiliation_email_address: Option<String>,
}

/// `POST …/domains/{domain_id}/prepare_affiliation_verification`: a code to an address at the domain.
pub async fn prepare_organization_domain_verification(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, domain_id)): Path<(String, String)>,
    Form(f): Form<PrepareForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_MANAGE).await?;
    let instance = &signed.browser.fapi.instance;
    let email = f.affiliation_email_address.as_deref();
    let d = domain_affiliation::prepare(ctx, instance, &access.organization.id, &domain_id, email).await?;
    respond::wrapped(&app, &signed.browser, OrganizationDomainObject::new(&d, &signed.browser.fapi.base_url)).await
}

/// The form of `…/attempt_affiliation_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct AttemptForm {
    code: Option<String>,
}

/// `POST …/domains/{domain_id}/attempt_affiliation_verification`: the right code verifies the domain.
pub async fn attempt_organization_domain_verification(
    State(app): State<AppState>,
    signed: SignedIn,
    Path((id, domain_id)): Path<(String, String)>,
    Form(f): Form<AttemptForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::DOMAINS_MANAGE).await?;
    let org = &access.organization.id;
    let d = domain_affiliation::attempt(ctx, signed.instance_id(), org, &domain_id, f.code.as_deref()).await?;
    respond::wrapped(&app, &signed.browser, OrganizationDomainObject::new(&d, &signed.browser.fapi.base_url)).await
}
