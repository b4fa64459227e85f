//! SAML connections (deprecated): `/saml_connections…`, the SAML-type enterprise connections seen under their
//! `samlc_…` id. Create answers 200 (unlike enterprise connections' 201) and takes `domain` or `domains`; the
//! update asks for `consent_verified_domains_deletion` before enabling removes organizations' verified domains.
//! The list's `order_by` accepts `±created_at` and `±name` (the spec's text about phone numbers is copied from
//! another operation); other values are ignored.

use crate::json::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::enterprise_connections::{self as ec, By, Changes, ConnectionFilter, SamlChanges, VerifiedDomains};
use tessera_core::instances::Instance;
use tessera_core::{Error, Result};

use super::enterprise_connections::{AttributeMappingBody, LoginHintBody, fetch_metadata};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::list::{Paging, data_list};
use crate::objects::deleted::DeletedObject;
use crate::objects::enterprise_connection::SamlConnectionObject;

/// Body of `POST /saml_connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSamlConnectionBody {
    name: Option<String>,
    domain: Option<String>,
    domains: Option<Vec<String>>,
    provider: Option<String>,
    idp_entity_id: Option<String>,
    idp_sso_url: Option<String>,
    idp_certificate: Option<String>,
    idp_metadata_url: Option<String>,
    idp_metadata: Option<String>,
    organization_id: Option<String>,
    attribute_mapping: Option<AttributeMappingBody>,
    force_authn: Option<bool>,
    login_hint: Option<LoginHintBody>,
}

/// Body of `PATCH /saml_connections/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSamlConnectionBody {
    name: Option<String>,
    domain: Option<String>,
    domains: Option<Vec<String>>,
    idp_entity_id: Option<String>,
    idp_sso_url: Option<String>,
    idp_certificate: Option<String>,
    idp_metadata_url: Option<String>,
    idp_metadata: Option<String>,
    organization_id: Option<String>,
    attribute_mapping: Option<AttributeMappingBody>,
    active: Option<bool>,
    sync_user_attributes: Option<bool>,
    allow_subdomains: Option<bool>,
    allow_idp_initiated: Option<bool>,
    disable_additional_identifications: Option<bool>,
    allow_organization_account_linking: Option<bool>,
    force_authn: Option<bool>,
    login_hint: Option<LoginHintBody>,
    consent_verified_domains_deletion: Option<bool>,
}

/// Query of `GET /saml_connections`.
#[derive(Debug, Deserialize)]
pub struct ListSamlConnectionsParams {
    #[serde(flatten)]
    paging: Paging,
    query: Option<String>,
    order_by: Option<String>,
    #[serde(default)]
    organization_id: Vec<String>,
}

/// `domain` (deprecated) and `domains` together.
fn domain_list(domain: Option<String>, domains: Option<Vec<String>>) -> Option<Vec<String>> {
    let mut all: Vec<String> = domain.into_iter().filter(|d| !d.is_empty()).collect();
    all.extend(domains.unwrap_or_default());
    (!all.is_empty()).then_some(all)
}

#[expect(clippy::too_many_arguments, reason = "the flat fields of the deprecated body")]
async fn saml(
    instance: &Instance,
    idp_entity_id: Option<String>,
    idp_sso_url: Option<String>,
    idp_certificate: Option<String>,
    idp_metadata_url: Option<String>,
    idp_metadata: Option<String>,
    attribute_mapping: Option<AttributeMappingBody>,
    login_hint: Option<LoginHintBody>,
) -> Result<SamlChanges> {
    let fetched_metadata =
        if idp_metadata.is_some() { None } else { fetch_metadata(instance, idp_metadata_url.as_deref()).await? };
    Ok(SamlChanges {
        idp_entity_id,
        idp_sso_url,
        idp_certificate,
        idp_metadata_url,
        fetched_metadata,
        idp_metadata,
        attribute_mapping: attribute_mapping.map(Into::into),
        login_hint: login_hint.map(Into::into),
        ..Default::default()
    })
}

fn respond(c: &ec::EnterpriseConnection, instance: &Instance) -> Result<Response> {
    let host = instance.frontend_host();
    let object = SamlConnectionObject::new(c, &host).ok_or_else(|| Error::not_found("SAML connection"))?;
    Ok(Json(object).into_response())
}

/// `GET /saml_connections` → `{data, total_count}`.
pub async fn list_saml_connections(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListSamlConnectionsParams>,
) -> ApiResult<Response> {
    let page = p.paging.page(ec::MAX_LIMIT)?;
    let mut filter = ConnectionFilter { saml_only: true, descending: true, ..Default::default() };
    match p.order_by.as_deref().map(str::trim) {
        Some("name" | "+name") => (filter.order_by_name, filter.descending) = (true, false),
        Some("-name") => filter.order_by_name = true,
        Some("created_at" | "+created_at") => filter.descending = false,
        _ => {}
    }
    filter.name_like = p.query.filter(|q| !q.is_empty()).map(|q| tessera_core::store::organizations::like_pattern(&q));
    for o in p.organization_id.iter().flat_map(|o| o.split(',')).map(str::trim).filter(|o| !o.is_empty()) {
        match o.strip_prefix('-') {
            Some(ex) => filter.excluded_organization_ids.push(ex.to_owned()),
            None => filter.organization_ids.push(o.trim_start_matches('+').to_owned()),
        }
    }
    if filter.organization_ids.len() + filter.excluded_organization_ids.len() > 100 {
        return Err(Error::query_param_invalid("organization_id", "At most 100 organization IDs are accepted.").into());
    }
    let (items, total) = ec::list(&app.ctx, &instance.id, &filter, page.limit, page.offset).await?;
    let host = instance.frontend_host();
    Ok(data_list(items.iter().filter_map(|c| SamlConnectionObject::new(c, &host)).collect(), total).into_response())
}

/// `POST /saml_connections` → 200.
pub async fn create_saml_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateSamlConnectionBody>,
) -> ApiResult<Response> {
    let provider = b.provider.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("provider"))?;
    if !ec::is_saml(&provider) {
        return Err(Error::param_value_invalid(
            "provider",
            "provider must be one of saml_custom, saml_okta, saml_google, saml_microsoft.",
        )
        .into());
    }
    let domains = domain_list(b.domain, b.domains).ok_or_else(|| Error::param_missing("domains"))?;
    let mut saml = saml(
        &instance,
        b.idp_entity_id,
        b.idp_sso_url,
        b.idp_certificate,
        b.idp_metadata_url,
        b.idp_metadata,
        b.attribute_mapping,
        b.login_hint,
    )
    .await?;
    saml.force_authn = b.force_authn;
    let changes = Changes {
        name: b.name,
        domains: Some(domains),
        organization_id: b.organization_id,
        saml: Some(saml),
        ..Default::default()
    };
    let created = ec::create(&app.ctx, &instance.id, &provider, changes).await?;
    Ok(respond(&created, &instance)?)
}

/// `GET /saml_connections/{id}`
pub async fn get_saml_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = ec::get(&app.ctx, &instance.id, By::SamlId, &id).await?;
    Ok(respond(&c, &instance)?)
}

/// `PATCH /saml_connections/{id}`
pub async fn update_saml_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateSamlConnectionBody>,
) -> ApiResult<Response> {
    ec::get(&app.ctx, &instance.id, By::SamlId, &id).await?;
    let mut saml = saml(
        &instance,
        b.idp_entity_id,
        b.idp_sso_url,
        b.idp_certificate,
        b.idp_metadata_url,
        b.idp_metadata,
        b.attribute_mapping,
        b.login_hint,
    )
    .await?;
    saml.force_authn = b.force_authn;
    saml.allow_subdomains = b.allow_subdomains;
    saml.allow_idp_initiated = b.allow_idp_initiated;
    let changes = Changes {
        name: b.name,
        domains: domain_list(b.domain, b.domains),
        active: b.active,
        sync_user_attributes: b.sync_user_attributes,
        disable_additional_identifications: b.disable_additional_identifications,
        allow_organization_account_linking: b.allow_organization_account_linking,
        organization_id: b.organization_id,
        saml: Some(saml),
        verified_domains: VerifiedDomains::RemoveWithConsent(b.consent_verified_domains_deletion.unwrap_or(false)),
        ..Default::default()
    };
    let c = ec::update(&app.ctx, &instance.id, By::SamlId, &id, changes).await?;
    Ok(respond(&c, &instance)?)
}

/// `DELETE /saml_connections/{id}` → the deleted object (the whole connection goes).
pub async fn delete_saml_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = ec::delete(&app.ctx, &instance.id, By::SamlId, &id).await?;
    Ok(Json(DeletedObject::new("saml_connection", &id)).into_response())
}
