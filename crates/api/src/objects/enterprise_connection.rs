//! The `enterprise_connection` and (deprecated) `saml_connection` objects: two views of one connection. The SP
//! URLs are on the instance's Frontend API host.

use serde::Serialize;
use tessera_core::enterprise_connections::{AttributeMapping, CustomAttribute, EnterpriseConnection};

/// The SP URLs of a SAML connection.
struct SpUrls {
    acs_url: String,
    sp_entity_id: String,
    sp_metadata_url: String,
}

impl SpUrls {
    fn new(host: &str, saml_id: &str) -> Self {
        let metadata = format!("https://{host}/v1/saml/metadata/{saml_id}.xml");
        Self {
            acs_url: format!("https://{host}/v1/saml/acs/{saml_id}"),
            sp_entity_id: metadata.clone(),
            sp_metadata_url: metadata,
        }
    }
}

/// `login_hint`: always an object (`@clerk/backend` reads `login_hint.mode` unconditionally).
#[derive(Debug, Serialize)]
pub struct LoginHintObject<'a> {
    mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
}

impl<'a> LoginHintObject<'a> {
    fn of(c: &'a EnterpriseConnection) -> Self {
        Self { mode: &c.row.login_hint_mode, source: c.row.login_hint_source.as_deref() }
    }
}

/// A custom attribute; `scim_path` repeats `directory_path` for older clients.
#[derive(Debug, Serialize)]
pub struct CustomAttributeObject<'a> {
    name: &'a str,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sso_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scim_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory_path: Option<&'a str>,
    multi_valued: bool,
}

impl<'a> CustomAttributeObject<'a> {
    /// The attribute as the APIs show it.
    pub fn of(a: &'a CustomAttribute) -> Self {
        Self {
            name: &a.name,
            key: &a.key,
            sso_path: a.sso_path.as_deref(),
            scim_path: a.directory_path.as_deref(),
            directory_path: a.directory_path.as_deref(),
            multi_valued: a.multi_valued,
        }
    }
}

/// `saml_connection` inside an enterprise connection.
#[derive(Debug, Serialize)]
struct SamlPart<'a> {
    id: &'a str,
    name: &'a str,
    idp_entity_id: Option<&'a str>,
    idp_sso_url: Option<&'a str>,
    idp_metadata_url: Option<&'a str>,
    acs_url: String,
    sp_entity_id: String,
    sp_metadata_url: String,
    active: bool,
    allow_idp_initiated: bool,
    allow_subdomains: bool,
    force_authn: bool,
    login_hint: LoginHintObject<'a>,
}

/// `oauth_config` inside an enterprise connection (never the client secret).
#[derive(Debug, Serialize)]
struct OauthPart<'a> {
    id: &'a str,
    name: &'a str,
    provider_key: &'a str,
    client_id: Option<&'a str>,
    discovery_url: Option<&'a str>,
    auth_url: Option<&'a str>,
    token_url: Option<&'a str>,
    user_info_url: Option<&'a str>,
    requires_pkce: bool,
    logo_public_url: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

/// Clerk's `enterprise_connection` object.
#[derive(Debug, Serialize)]
pub struct EnterpriseConnectionObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    provider: &'a str,
    logo_public_url: Option<&'a str>,
    active: bool,
    domains: &'a [String],
    organization_id: Option<&'a str>,
    sync_user_attributes: bool,
    disable_additional_identifications: bool,
    allow_organization_account_linking: bool,
    authenticatable: bool,
    disable_jit_provisioning: bool,
    custom_attributes: Vec<CustomAttributeObject<'a>>,
    saml_connection: Option<SamlPart<'a>>,
    oauth_config: Option<OauthPart<'a>>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> EnterpriseConnectionObject<'a> {
    /// The object; `host` is the instance's Frontend API host.
    pub fn new(c: &'a EnterpriseConnection, host: &str) -> Self {
        let r = &c.row;
        let saml_connection = r.saml_connection_id.as_deref().map(|id| {
            let sp = SpUrls::new(host, id);
            SamlPart {
                id,
                name: &r.name,
                idp_entity_id: r.idp_entity_id.as_deref(),
                idp_sso_url: r.idp_sso_url.as_deref(),
                idp_metadata_url: r.idp_metadata_url.as_deref(),
                acs_url: sp.acs_url,
                sp_entity_id: sp.sp_entity_id,
                sp_metadata_url: sp.sp_metadata_url,
                active: r.active,
                allow_idp_initiated: r.allow_idp_initiated,
                allow_subdomains: r.allow_subdomains,
                force_authn: r.force_authn,
                login_hint: LoginHintObject::of(c),
            }
        });
        let oauth_config = r.oauth_config_id.as_deref().map(|id| OauthPart {
            id,
            name: &r.name,
            provider_key: &r.provider,
            client_id: r.oidc_client_id.as_deref(),
            discovery_url: r.oidc_discovery_url.as_deref(),
            auth_url: r.oidc_auth_url.as_deref(),
            token_url: r.oidc_token_url.as_deref(),
            user_info_url: r.oidc_user_info_url.as_deref(),
            requires_pkce: r.oidc_requires_pkce,
            logo_public_url: None,
            created_at: r.created_at,
            updated_at: r.updated_at,
        });
        Self {
            object: "enterprise_connection",
            id: &r.id,
            name: &r.name,
            provider: &r.provider,
            logo_public_url: None,
            active: r.active,
            domains: &c.domains,
            organization_id: r.organization_id.as_deref(),
            sync_user_attributes: r.sync_user_attributes,
            disable_additional_identifications: r.disable_additional_identifications,
            allow_organization_account_linking: r.allow_organization_account_linking,
            authenticatable: r.authenticatable,
            disable_jit_provisioning: r.disable_jit_provisioning,
            custom_attributes: c.custom_attributes.iter().map(CustomAttributeObject::of).collect(),
            saml_connection,
            oauth_config,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Clerk's (deprecated) `saml_connection` object.
#[derive(Debug, Serialize)]
pub struct SamlConnectionObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    domains: &'a [String],
    idp_entity_id: Option<&'a str>,
    idp_sso_url: Option<&'a str>,
    idp_certificate: Option<&'a str>,
    idp_certificate_issued_at: Option<i64>,
    idp_certificate_expires_at: Option<i64>,
    idp_metadata_url: Option<&'a str>,
    idp_metadata: Option<&'a str>,
    acs_url: String,
    sp_entity_id: String,
    sp_metadata_url: String,
    organization_id: Option<&'a str>,
    attribute_mapping: &'a AttributeMapping,
    active: bool,
    provider: &'a str,
    /// Users who signed in through this connection: the SAML sign-in is not served yet, so none.
    user_count: i64,
    sync_user_attributes: bool,
    allow_subdomains: bool,
    allow_idp_initiated: bool,
    disable_additional_identifications: bool,
    allow_organization_account_linking: bool,
    authenticatable: bool,
    force_authn: bool,
    login_hint: LoginHintObject<'a>,
    disable_jit_provisioning: bool,
    enterprise_connection_id: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> SamlConnectionObject<'a> {
    /// The object of a SAML connection (`None` for an OIDC one); `host` is the instance's Frontend API host.
    pub fn new(c: &'a EnterpriseConnection, host: &str) -> Option<Self> {
        let r = &c.row;
        let id = r.saml_connection_id.as_deref()?;
        let sp = SpUrls::new(host, id);
        Some(Self {
            object: "saml_connection",
            id,
            name: &r.name,
            domain: c.domains.first().map(String::as_str),
            domains: &c.domains,
            idp_entity_id: r.idp_entity_id.as_deref(),
            idp_sso_url: r.idp_sso_url.as_deref(),
            idp_certificate: r.idp_certificate.as_deref(),
            idp_certificate_issued_at: r.idp_certificate_issued_at,
            idp_certificate_expires_at: r.idp_certificate_expires_at,
            idp_metadata_url: r.idp_metadata_url.as_deref(),
            idp_metadata: r.idp_metadata.as_deref(),
            acs_url: sp.acs_url,
            sp_entity_id: sp.sp_entity_id,
            sp_metadata_url: sp.sp_metadata_url,
            organization_id: r.organization_id.as_deref(),
            attribute_mapping: &c.attribute_mapping,
            active: r.active,
            provider: &r.provider,
            user_count: 0,
            sync_user_attributes: r.sync_user_attributes,
            allow_subdomains: r.allow_subdomains,
            allow_idp_initiated: r.allow_idp_initiated,
            disable_additional_identifications: r.disable_additional_identifications,
            allow_organization_account_linking: r.allow_organization_account_linking,
            authenticatable: r.authenticatable,
            force_authn: r.force_authn,
            login_hint: LoginHintObject::of(c),
            disable_jit_provisioning: r.disable_jit_provisioning,
            enterprise_connection_id: Some(&r.id),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
