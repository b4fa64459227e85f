//! Enterprise connections: `/enterprise_connections…` (create answers 201). IdP metadata given by URL is fetched
//! here, through the outbound client (no redirects, short timeouts, public addresses only unless the instance is a
//! development one), and handed to the core as a document.
//!
//! The bodies are `additionalProperties: false`, yet `@clerk/backend` also sends `authenticatable` and
//! `disable_jit_provisioning` (kept), `sync_user_attributes` on create and `provider` on update (both ignored, as
//! its documentation says the API does), so those keys are declared.

use std::sync::OnceLock;
use std::time::Duration;

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::enterprise_connections::{
    self as ec, AttributeMappingInput, By, Changes, ConnectionFilter, CustomAttributeInput, LoginHintInput,
    OidcChanges, SamlChanges, idp,
};
use tessera_core::enterprise_sso::test_runs;
use tessera_core::instances::{Environment, Instance};
use tessera_core::{Error, Result};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_bool};
use crate::list::{Paging, data_list};
use crate::objects::deleted::DeletedObject;
use crate::objects::enterprise_connection::EnterpriseConnectionObject;
use crate::objects::enterprise_connection_test_run::TestRunObject;
use crate::outbound::{Outbound, body_excerpt, describe};

/// How long connecting to the metadata host may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long fetching the metadata may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

fn clients() -> Result<&'static Outbound> {
    static CLIENTS: OnceLock<Outbound> = OnceLock::new();
    if let Some(c) = CLIENTS.get() {
        return Ok(c);
    }
    let built = Outbound::new("Tessera-SAML-Metadata/1", CONNECT_TIMEOUT, FETCH_TIMEOUT).map_err(Error::internal)?;
    Ok(CLIENTS.get_or_init(|| built))
}

/// Fetches IdP metadata from `url` (a non-empty value; an empty one clears and fetches nothing).
pub async fn fetch_metadata(instance: &Instance, url: Option<&str>) -> Result<Option<String>> {
    const P: &str = "idp_metadata_url";
    let Some(raw) = url.filter(|u| !u.trim().is_empty()) else { return Ok(None) };
    let checked = idp::check_url(P, raw)?;
    let url =
        url::Url::parse(&checked).map_err(|_| Error::param_format_invalid(P, "idp_metadata_url is not a URL."))?;
    let failed = |why: String| Error::param_value_invalid(P, format!("The IdP metadata could not be fetched: {why}."));
    let client = clients()?.client_for(&url, instance.environment == Environment::Development).map_err(failed)?;
    let mut response = client.get(url).send().await.map_err(|e| failed(describe(&e)))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status().as_u16())));
    }
    let body = body_excerpt(&mut response, idp::MAX_METADATA_BYTES + 1).await;
    String::from_utf8(body).map(Some).map_err(|_| failed("the document is not UTF-8".into()))
}

/// `attribute_mapping` of the bodies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMappingBody {
    user_id: Option<String>,
    email_address: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

impl From<AttributeMappingBody> for AttributeMappingInput {
    fn from(b: AttributeMappingBody) -> Self {
        Self { user_id: b.user_id, email_address: b.email_address, first_name: b.first_name, last_name: b.last_name }
    }
}

/// `login_hint` of the bodies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginHintBody {
    mode: Option<String>,
    source: Option<String>,
}

impl From<LoginHintBody> for LoginHintInput {
    fn from(b: LoginHintBody) -> Self {
        Self { mode: b.mode, source: b.source }
    }
}

/// `saml` of the bodies (`name` only on update: it names the connection).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlBody {
    name: Option<String>,
    idp_entity_id: Option<String>,
    idp_sso_url: Option<String>,
    idp_certificate: Option<String>,
    idp_metadata_url: Option<String>,
    idp_metadata: Option<String>,
    attribute_mapping: Option<AttributeMappingBody>,
    allow_subdomains: Option<bool>,
    allow_idp_initiated: Option<bool>,
    force_authn: Option<bool>,
    login_hint: Option<LoginHintBody>,
}

/// `oidc` of the bodies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcBody {
    client_id: Option<String>,
    client_secret: Option<String>,
    discovery_url: Option<String>,
    auth_url: Option<String>,
    token_url: Option<String>,
    user_info_url: Option<String>,
    requires_pkce: Option<bool>,
}

impl From<OidcBody> for OidcChanges {
    fn from(b: OidcBody) -> Self {
        Self {
            client_id: b.client_id,
            client_secret: b.client_secret,
            discovery_url: b.discovery_url,
            auth_url: b.auth_url,
            token_url: b.token_url,
            user_info_url: b.user_info_url,
            requires_pkce: b.requires_pkce,
        }
    }
}

/// A custom attribute of the bodies.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAttributeBody {
    name: Option<String>,
    key: Option<String>,
    sso_path: Option<String>,
    scim_path: Option<String>,
    directory_path: Option<String>,
    multi_valued: Option<bool>,
}

impl From<CustomAttributeBody> for CustomAttributeInput {
    fn from(b: CustomAttributeBody) -> Self {
        Self {
            name: b.name,
            key: b.key,
            sso_path: b.sso_path,
            scim_path: b.scim_path,
            directory_path: b.directory_path,
            multi_valued: b.multi_valued,
        }
    }
}

/// SAML changes with the metadata fetched from its URL.
pub async fn saml_changes(instance: &Instance, s: SamlBody) -> Result<(Option<String>, SamlChanges)> {
    let fetched_metadata =
        if s.idp_metadata.is_some() { None } else { fetch_metadata(instance, s.idp_metadata_url.as_deref()).await? };
    let changes = SamlChanges {
        idp_entity_id: s.idp_entity_id,
        idp_sso_url: s.idp_sso_url,
        idp_certificate: s.idp_certificate,
        idp_metadata_url: s.idp_metadata_url,
        fetched_metadata,
        idp_metadata: s.idp_metadata,
        attribute_mapping: s.attribute_mapping.map(Into::into),
        allow_subdomains: s.allow_subdomains,
        allow_idp_initiated: s.allow_idp_initiated,
        force_authn: s.force_authn,
        login_hint: s.login_hint.map(Into::into),
    };
    Ok((s.name, changes))
}

/// Body of `POST /enterprise_connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEnterpriseConnectionBody {
    name: Option<String>,
    provider: Option<String>,
    domains: Option<Vec<String>>,
    organization_id: Option<String>,
    allow_organization_account_linking: Option<bool>,
    active: Option<bool>,
    saml: Option<SamlBody>,
    oidc: Option<OidcBody>,
    custom_attributes: Option<Vec<CustomAttributeBody>>,
    // Sent by @clerk/backend: the first two are kept, the last is ignored (see the module documentation).
    authenticatable: Option<bool>,
    disable_jit_provisioning: Option<bool>,
    #[serde(rename = "sync_user_attributes")]
    _sync_user_attributes: Option<bool>,
}

/// Body of `PATCH /enterprise_connections/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEnterpriseConnectionBody {
    name: Option<String>,
    domains: Option<Vec<String>>,
    active: Option<bool>,
    sync_user_attributes: Option<bool>,
    disable_additional_identifications: Option<bool>,
    allow_organization_account_linking: Option<bool>,
    organization_id: Option<String>,
    saml: Option<SamlBody>,
    oidc: Option<OidcBody>,
    custom_attributes: Option<Vec<CustomAttributeBody>>,
    // Sent by @clerk/backend: the first two are kept, `provider` is ignored (it is fixed at creation).
    authenticatable: Option<bool>,
    disable_jit_provisioning: Option<bool>,
    #[serde(rename = "provider")]
    _provider: Option<String>,
}

/// Query of `GET /enterprise_connections`.
#[derive(Debug, Deserialize)]
pub struct ListEnterpriseConnectionsParams {
    #[serde(flatten)]
    paging: Paging,
    organization_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    active: Option<bool>,
}

fn respond(status: StatusCode, c: &ec::EnterpriseConnection, instance: &Instance) -> Response {
    (status, Json(EnterpriseConnectionObject::new(c, &instance.frontend_host()))).into_response()
}

/// `GET /enterprise_connections` → `{data, total_count}`, newest first.
pub async fn list_enterprise_connections(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<ListEnterpriseConnectionsParams>,
) -> ApiResult<Response> {
    let page = p.paging.page(ec::MAX_LIMIT)?;
    let filter = ConnectionFilter {
        organization_ids: p.organization_id.into_iter().filter(|o| !o.is_empty()).collect(),
        active: p.active,
        descending: true,
        ..Default::default()
    };
    let (items, total) = ec::list(&app.ctx, &instance.id, &filter, page.limit, page.offset).await?;
    let host = instance.frontend_host();
    Ok(data_list(items.iter().map(|c| EnterpriseConnectionObject::new(c, &host)).collect(), total).into_response())
}

/// `POST /enterprise_connections` → 201.
pub async fn create_enterprise_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateEnterpriseConnectionBody>,
) -> ApiResult<Response> {
    let provider = b.provider.filter(|p| !p.is_empty()).ok_or_else(|| Error::param_missing("provider"))?;
    let saml = match b.saml.filter(|_| ec::is_saml(&provider)) {
        Some(s) => Some(saml_changes(&instance, s).await?.1),
        None => None,
    };
    let changes = Changes {
        name: b.name,
        domains: Some(b.domains.filter(|d| !d.is_empty()).ok_or_else(|| Error::param_missing("domains"))?),
        active: b.active,
        allow_organization_account_linking: b.allow_organization_account_linking,
        disable_jit_provisioning: b.disable_jit_provisioning,
        authenticatable: b.authenticatable,
        organization_id: b.organization_id,
        custom_attributes: b.custom_attributes.map(|a| a.into_iter().map(Into::into).collect()),
        saml,
        oidc: b.oidc.map(Into::into),
        ..Default::default()
    };
    let created = ec::create(&app.ctx, &instance.id, &provider, changes).await?;
    Ok(respond(StatusCode::CREATED, &created, &instance))
}

/// `GET /enterprise_connections/{id}`
pub async fn get_enterprise_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = ec::get(&app.ctx, &instance.id, By::Id, &id).await?;
    Ok(respond(StatusCode::OK, &c, &instance))
}

/// `PATCH /enterprise_connections/{id}`
pub async fn update_enterprise_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateEnterpriseConnectionBody>,
) -> ApiResult<Response> {
    // 404 before fetching anything for an unknown connection.
    let current = ec::get(&app.ctx, &instance.id, By::Id, &id).await?;
    let (saml_name, saml) = match b.saml.filter(|_| current.is_saml()) {
        Some(s) => {
            let (n, c) = saml_changes(&instance, s).await?;
            (n, Some(c))
        }
        None => (None, None),
    };
    let changes = Changes {
        name: b.name.or(saml_name),
        domains: b.domains,
        active: b.active,
        sync_user_attributes: b.sync_user_attributes,
        disable_additional_identifications: b.disable_additional_identifications,
        allow_organization_account_linking: b.allow_organization_account_linking,
        disable_jit_provisioning: b.disable_jit_provisioning,
        authenticatable: b.authenticatable,
        organization_id: b.organization_id,
        custom_attributes: b.custom_attributes.map(|a| a.into_iter().map(Into::into).collect()),
        saml,
        oidc: b.oidc.map(Into::into),
        ..Default::default()
    };
    let c = ec::update(&app.ctx, &instance.id, By::Id, &id, changes).await?;
    Ok(respond(StatusCode::OK, &c, &instance))
}

/// `DELETE /enterprise_connections/{id}` → the deleted object.
pub async fn delete_enterprise_connection(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = ec::delete(&app.ctx, &instance.id, By::Id, &id).await?;
    Ok(Json(DeletedObject::new("enterprise_connection", &id)).into_response())
}

/// Query of `GET /enterprise_connections/{id}/test_runs` (`status` may repeat).
#[derive(Debug, Deserialize)]
pub struct TestRunParams {
    #[serde(default)]
    status: Vec<String>,
    // Not a flattened `Paging`: flattening breaks the repeated keys of the array parameters.
    #[serde(default, deserialize_with = "crate::extract::lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "crate::extract::lenient_u64")]
    offset: Option<u64>,
}

/// `GET /enterprise_connections/{id}/test_runs`
pub async fn list_enterprise_connection_test_runs(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Params(p): Params<TestRunParams>,
) -> ApiResult<Response> {
    // The operation declares 422 (not 400) for bad parameters.
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }
        .page(ec::MAX_LIMIT)
        .map_err(|_| Error::param_value_invalid("limit", format!("limit must be between 1 and {}.", ec::MAX_LIMIT)))?;
    let window = (page.limit, page.offset);
    let (runs, total) = test_runs::list(&app.ctx, &instance.id, &id, &p.status, window).await?;
    Ok(data_list(runs.iter().map(TestRunObject::new).collect(), total).into_response())
}

/// `POST /enterprise_connections/{id}/test_runs` → `{url}`: the run's one-time URL on the frontend host.
pub async fn create_enterprise_connection_test_run(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let url = test_runs::create(&app.ctx, &instance, &id).await?;
    Ok(Json(serde_json::json!({ "url": url })).into_response())
}
