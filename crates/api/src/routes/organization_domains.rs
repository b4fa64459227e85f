//! Organization Domains: create, list (per organization and instance-wide), update, delete, verify ownership.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::organization_domains::{self as domains, DomainUpdate, mode_filter};
use tessera_core::store::organization_domains::DomainFilter;

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_u64, nullable};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization_domain::organization_domain;

/// Largest page of the lists here.
const MAX_LIMIT: u64 = 500;

/// Body of `POST /organizations/{organization_id}/domains`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDomainBody {
    name: Option<String>,
    enrollment_mode: Option<String>,
    verified: Option<bool>,
}

/// `POST /v1/organizations/{organization_id}/domains`
pub async fn create_organization_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Body(b): Body<CreateDomainBody>,
) -> ApiResult<Json<Value>> {
    // Missing fields are judged in core, after the organization (an unknown one is 404 whatever the body).
    let name = b.name.unwrap_or_default();
    let mode = b.enrollment_mode.unwrap_or_default();
    let d = domains::create(&app.ctx, &instance.id, &organization_id, &name, &mode, b.verified).await?;
    Ok(Json(organization_domain(&d, &origin)))
}

fn verified_filter(value: Option<&str>) -> Result<Option<bool>, Error> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(Error::query_param_invalid("verified", "verified must be true or false.")),
    }
}

/// Query of `GET /organizations/{organization_id}/domains`.
#[derive(Debug, Deserialize)]
pub struct OrganizationDomainsParams {
    verified: Option<String>,
    enrollment_mode: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/organizations/{organization_id}/domains`
pub async fn list_organization_domains(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(organization_id): Path<String>,
    Params(p): Params<OrganizationDomainsParams>,
) -> ApiResult<Json<Value>> {
    let page = p.paging.page(MAX_LIMIT)?;
    let (modes, excluded_modes) = mode_filter(p.enrollment_mode.as_slice())?;
    let filter = DomainFilter {
        verified: verified_filter(p.verified.as_deref())?,
        modes,
        excluded_modes,
        descending: true,
        ..Default::default()
    };
    let (rows, total) =
        domains::list_for_organization(&app.ctx, &instance.id, &organization_id, filter, page.limit, page.offset)
            .await?;
    Ok(data_list(rows.iter().map(|d| organization_domain(d, &origin)).collect(), total))
}

/// Query of `GET /organization_domains`.
#[derive(Debug, Deserialize)]
pub struct AllDomainsParams {
    organization_id: Option<String>,
    verified: Option<String>,
    #[serde(default)]
    enrollment_mode: Vec<String>,
    query: Option<String>,
    #[serde(default)]
    domains: Vec<String>,
    order_by: Option<String>,
    // Not a flattened `Paging`: flattening breaks the repeated keys of the array parameters.
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/organization_domains`
pub async fn list_all_organization_domains(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(p): Params<AllDomainsParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["name", "created_at"], "-created_at")?;
    let (modes, excluded_modes) = mode_filter(&p.enrollment_mode)?;
    let mut filter = DomainFilter {
        organization_id: p.organization_id.filter(|o| !o.is_empty()),
        verified: verified_filter(p.verified.as_deref())?,
        modes,
        excluded_modes,
        names: p.domains.iter().map(|d| d.trim().to_lowercase()).filter(|d| !d.is_empty()).collect(),
        order_by_name: order.field == "name",
        descending: order.descending,
        ..Default::default()
    };
    if let Some(q) = p.query {
        let q = q.trim();
        if q.is_empty() {
            return Err(Error::query_param_invalid("query", "query must not be empty.").into());
        }
        if q.starts_with("org_") {
            // An organization id matches exactly; it narrows an organization_id filter rather than widening it.
            match &filter.organization_id {
                Some(o) if o != q => return Ok(data_list(Vec::<Value>::new(), 0)),
                _ => filter.organization_id = Some(q.to_owned()),
            }
        } else {
            filter.name_query = Some(q.to_lowercase());
        }
    }
    let (rows, total) = domains::list(&app.ctx, &instance.id, &filter, page.limit, page.offset).await?;
    Ok(data_list(rows.iter().map(|d| organization_domain(d, &origin)).collect(), total))
}

/// Body of `PATCH /organizations/{organization_id}/domains/{domain_id}`.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateDomainBody {
    #[serde(default, deserialize_with = "nullable")]
    enrollment_mode: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    verified: Option<Option<bool>>,
}

/// `PATCH /v1/organizations/{organization_id}/domains/{domain_id}`
pub async fn update_organization_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, domain_id)): Path<(String, String)>,
    Body(b): Body<UpdateDomainBody>,
) -> ApiResult<Json<Value>> {
    // `null` leaves a field unchanged, like absence.
    let change = DomainUpdate {
        enrollment_mode: b.enrollment_mode.flatten(),
        verified: b.verified.flatten(),
        delete_pending: false,
    };
    let d = domains::update(&app.ctx, &instance.id, &organization_id, &domain_id, change).await?;
    Ok(Json(organization_domain(&d, &origin)))
}

/// `DELETE /v1/organizations/{organization_id}/domains/{domain_id}`
pub async fn delete_organization_domain(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((organization_id, domain_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = domains::delete(&app.ctx, &instance.id, &organization_id, &domain_id).await?;
    Ok(Json(json!({ "object": "organization_domain", "id": id, "deleted": true })))
}

/// `POST /v1/organizations/{organization_id}/domains/{domain_id}/verify_ownership`
pub async fn verify_organization_domain_ownership(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path((organization_id, domain_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let d = domains::verify_ownership(&app.ctx, &instance.id, &organization_id, &domain_id).await?;
    Ok(Json(organization_domain(&d, &origin)))
}
