//! Enterprise connections: one company's SSO through its identity provider, SAML (`saml_*` providers) or OIDC
//! (`oidc_*`), for one or more e-mail domains. The deprecated SAML-connections API is a view of the SAML-type
//! connections under their `samlc_…` id.
//!
//! Rules (Clerk's, from the spec): at least one domain, lower-cased fully qualified names, a domain routes to one
//! connection of the instance; the provider is fixed at creation; an organization can be linked or re-linked but
//! not unlinked; an active connection needs its IdP configuration (SAML: entity id, SSO URL and certificate;
//! OIDC: client id, endpoints, and a secret or PKCE); enabling a connection removes the organizations' verified
//! domains of the same names (the deprecated API asks for consent first). The OIDC client secret is sealed: it is
//! presented to the IdP's token endpoint, never shown.

pub mod idp;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tessera_store::enterprise_connections::{self as store, EnterpriseConnectionRow};
pub use tessera_store::enterprise_connections::{By, ConnectionFilter};
use tessera_store::organization_domains as org_domains;

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// Providers a connection can be created with.
pub const PROVIDERS: &[&str] = &[
    "saml_custom",
    "saml_okta",
    "saml_google",
    "saml_microsoft",
    "oidc_custom",
    "oidc_github_enterprise",
    "oidc_gitlab",
];
/// Largest page of a list.
pub const MAX_LIMIT: u64 = 500;
/// Associated data of sealed OIDC client secrets.
const SECRET_PURPOSE: &str = "enterprise_connection.oidc_client_secret";

/// Whether a provider is a SAML one.
pub fn is_saml(provider: &str) -> bool {
    provider.starts_with("saml_")
}

/// 404 for a connection.
pub fn not_found() -> Error {
    Error::not_found("enterprise connection")
}

/// A custom attribute mapped from the IdP into `public_metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAttribute {
    /// Display name.
    pub name: String,
    /// Metadata key.
    pub key: String,
    /// Path in the SSO claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_path: Option<String>,
    /// GJSON path in directory (SCIM) user resources (`scim_path` is its older name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_path: Option<String>,
    /// Values are written as an array.
    #[serde(default)]
    pub multi_valued: bool,
}

/// A custom attribute as a request gives it (`scim_path` and `directory_path` are aliases).
#[derive(Debug, Clone, Default)]
pub struct CustomAttributeInput {
    /// Display name.
    pub name: Option<String>,
    /// Metadata key.
    pub key: Option<String>,
    /// Path in the SSO claims.
    pub sso_path: Option<String>,
    /// Old name of `directory_path`.
    pub scim_path: Option<String>,
    /// Path in directory user resources.
    pub directory_path: Option<String>,
    /// Values are written as an array.
    pub multi_valued: Option<bool>,
}

/// SAML attribute names of the user's fields; an empty name means Tessera's built-in recognition (NameID for the
/// id, the usual e-mail/given-name/surname attribute names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMapping {
    /// Attribute carrying the IdP's user id.
    pub user_id: String,
    /// Attribute carrying the e-mail address.
    pub email_address: String,
    /// Attribute carrying the first name.
    pub first_name: String,
    /// Attribute carrying the last name.
    pub last_name: String,
}

/// Changes to an attribute mapping; absent fields do not change, `Some("")` resets one to built-in recognition.
#[derive(Debug, Clone, Default)]
pub struct AttributeMappingInput {
    /// `user_id`.
    pub user_id: Option<String>,
    /// `email_address`.
    pub email_address: Option<String>,
    /// `first_name`.
    pub first_name: Option<String>,
    /// `last_name`.
    pub last_name: Option<String>,
}

/// The `login_hint` configuration.
#[derive(Debug, Clone, Default)]
pub struct LoginHintInput {
    /// `email_address`, `custom_attribute` or `off`.
    pub mode: Option<String>,
    /// The `public_metadata` key for `custom_attribute`.
    pub source: Option<String>,
}

/// SAML settings of a change; absent fields do not change, an empty string clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct SamlChanges {
    /// IdP entity id.
    pub idp_entity_id: Option<String>,
    /// IdP SSO URL.
    pub idp_sso_url: Option<String>,
    /// IdP certificate (PEM or base64 DER).
    pub idp_certificate: Option<String>,
    /// Metadata URL (the handler fetches it into `fetched_metadata`).
    pub idp_metadata_url: Option<String>,
    /// The metadata document fetched from `idp_metadata_url`.
    pub fetched_metadata: Option<String>,
    /// Inline metadata XML.
    pub idp_metadata: Option<String>,
    /// Attribute names.
    pub attribute_mapping: Option<AttributeMappingInput>,
    /// Subdomains of the domains match too.
    pub allow_subdomains: Option<bool>,
    /// IdP-initiated sign-ins accepted.
    pub allow_idp_initiated: Option<bool>,
    /// ForceAuthn.
    pub force_authn: Option<bool>,
    /// Login hint.
    pub login_hint: Option<LoginHintInput>,
}

/// OIDC settings of a change; absent fields do not change, an empty string clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct OidcChanges {
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret (sealed at rest).
    pub client_secret: Option<String>,
    /// Discovery URL.
    pub discovery_url: Option<String>,
    /// Authorization endpoint.
    pub auth_url: Option<String>,
    /// Token endpoint.
    pub token_url: Option<String>,
    /// Userinfo endpoint.
    pub user_info_url: Option<String>,
    /// PKCE required.
    pub requires_pkce: Option<bool>,
}

/// What to do with organizations' verified domains of the same names when the connection is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifiedDomains {
    /// Remove them (the enterprise-connections API).
    Remove,
    /// Remove them only with consent, otherwise refuse (the deprecated SAML API's `consent_verified_domains_deletion`).
    RemoveWithConsent(bool),
}

/// A creation or change; absent fields do not change (creation starts from the defaults).
#[derive(Debug, Clone)]
pub struct Changes {
    /// Display name.
    pub name: Option<String>,
    /// Domains; an empty list changes nothing.
    pub domains: Option<Vec<String>>,
    /// Active.
    pub active: Option<bool>,
    /// Sync attributes on each sign-in.
    pub sync_user_attributes: Option<bool>,
    /// No additional identifications.
    pub disable_additional_identifications: Option<bool>,
    /// Account linking through organization membership.
    pub allow_organization_account_linking: Option<bool>,
    /// Refuse unknown users.
    pub disable_jit_provisioning: Option<bool>,
    /// Signs users in.
    pub authenticatable: Option<bool>,
    /// Organization to link (an empty string changes nothing: there is no unlinking).
    pub organization_id: Option<String>,
    /// Replaces the custom attributes.
    pub custom_attributes: Option<Vec<CustomAttributeInput>>,
    /// SAML settings (ignored for OIDC providers).
    pub saml: Option<SamlChanges>,
    /// OIDC settings (ignored for SAML providers).
    pub oidc: Option<OidcChanges>,
    /// Enabling and verified organization domains.
    pub verified_domains: VerifiedDomains,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            name: None,
            domains: None,
            active: None,
            sync_user_attributes: None,
            disable_additional_identifications: None,
            allow_organization_account_linking: None,
            disable_jit_provisioning: None,
            authenticatable: None,
            organization_id: None,
            custom_attributes: None,
            saml: None,
            oidc: None,
            verified_domains: VerifiedDomains::Remove,
        }
    }
}

/// A connection as the APIs show it.
#[derive(Debug, Clone)]
pub struct EnterpriseConnection {
    /// The row (the sealed client secret is never shown).
    pub row: EnterpriseConnectionRow,
    /// Its domains, in order.
    pub domains: Vec<String>,
    /// Its custom attributes.
    pub custom_attributes: Vec<CustomAttribute>,
    /// SAML attribute names.
    pub attribute_mapping: AttributeMapping,
}

impl EnterpriseConnection {
    fn from_row(row: EnterpriseConnectionRow, domains: Vec<String>) -> Result<Self> {
        let custom_attributes = serde_json::from_str(&row.custom_attributes).map_err(Error::internal)?;
        let attribute_mapping = serde_json::from_str(&row.attribute_mapping).map_err(Error::internal)?;
        Ok(Self { row, domains, custom_attributes, attribute_mapping })
    }

    /// Whether this is a SAML connection.
    pub fn is_saml(&self) -> bool {
        self.row.saml_connection_id.is_some()
    }

    /// The OIDC client secret, unsealed (it is presented to the IdP's token endpoint, never shown).
    pub(crate) fn oidc_client_secret(&self, ctx: &Ctx) -> Result<Option<String>> {
        self.row
            .oidc_client_secret
            .as_deref()
            .map(|s| ctx.secrets.open_string(SECRET_PURPOSE, s))
            .transpose()
            .map_err(Error::internal)
    }
}

/// Validates one domain: lower-cased, at least two labels of letters, digits and inner dashes.
pub fn validate_domain(param: &str, value: &str) -> Result<String> {
    let name = value.trim().trim_end_matches('.').to_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_lowercase()));
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return Err(Error::param_format_invalid(
            param,
            format!("{value:?} is not a fully qualified domain name, e.g. example.com."),
        ));
    }
    Ok(name)
}

fn domains(param: &str, values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let d = validate_domain(param, v)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

fn custom_attributes(values: Vec<CustomAttributeInput>) -> Result<Vec<CustomAttribute>> {
    const P: &str = "custom_attributes";
    let mut out: Vec<CustomAttribute> = Vec::new();
    for a in values {
        let name = a.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| Error::param_missing("custom_attributes.name"))?;
        let key = a.key.filter(|k| !k.is_empty()).ok_or_else(|| Error::param_missing("custom_attributes.key"))?;
        let mut chars = key.chars();
        let key_ok =
            chars.next().is_some_and(|c| c != '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !key_ok {
            return Err(Error::param_format_invalid(
                P,
                format!("custom attribute key {key:?} must match ^[^_][A-Za-z0-9_-]*$."),
            ));
        }
        if out.iter().any(|o| o.key == key) {
            return Err(Error::param_value_invalid(P, format!("custom attribute key {key:?} is given twice.")));
        }
        let directory_path = match (a.scim_path.filter(|s| !s.is_empty()), a.directory_path.filter(|s| !s.is_empty())) {
            (Some(s), Some(d)) if s != d => {
                return Err(Error::param_value_invalid(
                    P,
                    "scim_path and directory_path must be equal when both are given.",
                ));
            }
            (s, d) => d.or(s),
        };
        out.push(CustomAttribute {
            name,
            key,
            sso_path: a.sso_path.filter(|s| !s.is_empty()),
            directory_path,
            multi_valued: a.multi_valued.unwrap_or(false),
        });
    }
    Ok(out)
}

/// `Some("")` clears, `Some(v)` sets (checked by `check`), `None` keeps.
fn set_opt(target: &mut Option<String>, value: Option<String>, check: impl Fn(&str) -> Result<String>) -> Result<()> {
    match value {
        None => {}
        Some(v) if v.trim().is_empty() => *target = None,
        Some(v) => *target = Some(check(&v)?),
    }
    Ok(())
}

fn plain(v: &str) -> Result<String> {
    Ok(v.trim().to_owned())
}

fn apply_saml(row: &mut EnterpriseConnectionRow, mapping: &mut AttributeMapping, s: SamlChanges) -> Result<()> {
    set_opt(&mut row.idp_entity_id, s.idp_entity_id, plain)?;
    set_opt(&mut row.idp_sso_url, s.idp_sso_url, |v| idp::check_url("idp_sso_url", v))?;
    match s.idp_certificate {
        None => {}
        Some(c) if c.trim().is_empty() => {
            row.idp_certificate = None;
            row.idp_certificate_issued_at = None;
            row.idp_certificate_expires_at = None;
        }
        Some(c) => {
            let cert = idp::parse_certificate("idp_certificate", &c)?;
            row.idp_certificate = Some(cert.pem);
            row.idp_certificate_issued_at = Some(cert.not_before_ms);
            row.idp_certificate_expires_at = Some(cert.not_after_ms);
        }
    }
    set_opt(&mut row.idp_metadata_url, s.idp_metadata_url, |v| idp::check_url("idp_metadata_url", v))?;
    // Metadata takes priority over the individual fields: inline first, then the document fetched from the URL.
    let metadata = match (s.idp_metadata, s.fetched_metadata) {
        (Some(m), _) if m.trim().is_empty() => {
            row.idp_metadata = None;
            None
        }
        (Some(m), _) => Some(("idp_metadata", m)),
        (None, Some(f)) => Some(("idp_metadata_url", f)),
        (None, None) => None,
    };
    if let Some((param, xml)) = metadata {
        let md = idp::parse_metadata(param, &xml)?;
        row.idp_entity_id = Some(md.entity_id);
        row.idp_sso_url = Some(md.sso_url);
        row.idp_certificate = Some(md.certificate.pem);
        row.idp_certificate_issued_at = Some(md.certificate.not_before_ms);
        row.idp_certificate_expires_at = Some(md.certificate.not_after_ms);
        row.idp_metadata = Some(xml);
    }
    if let Some(m) = s.attribute_mapping {
        for (field, value) in [
            (&mut mapping.user_id, m.user_id),
            (&mut mapping.email_address, m.email_address),
            (&mut mapping.first_name, m.first_name),
            (&mut mapping.last_name, m.last_name),
        ] {
            if let Some(v) = value {
                *field = v.trim().to_owned();
            }
        }
    }
    if let Some(v) = s.allow_subdomains {
        row.allow_subdomains = v;
    }
    if let Some(v) = s.allow_idp_initiated {
        row.allow_idp_initiated = v;
    }
    if let Some(v) = s.force_authn {
        row.force_authn = v;
    }
    if let Some(h) = s.login_hint {
        let mode = h.mode.ok_or_else(|| Error::param_missing("login_hint.mode"))?;
        if !["email_address", "custom_attribute", "off"].contains(&mode.as_str()) {
            return Err(Error::param_value_invalid(
                "login_hint",
                "login_hint.mode must be one of email_address, custom_attribute, off.",
            ));
        }
        let source = h.source.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if mode == "custom_attribute" && source.is_none() {
            return Err(Error::param_missing("login_hint.source"));
        }
        row.login_hint_source = if mode == "custom_attribute" { source } else { None };
        row.login_hint_mode = mode;
    }
    Ok(())
}

fn apply_oidc(ctx: &Ctx, row: &mut EnterpriseConnectionRow, o: OidcChanges) -> Result<()> {
    set_opt(&mut row.oidc_client_id, o.client_id, plain)?;
    match o.client_secret {
        None => {}
        Some(s) if s.is_empty() => row.oidc_client_secret = None,
        Some(s) => row.oidc_client_secret = Some(ctx.secrets.seal(SECRET_PURPOSE, s.as_bytes())),
    }
    set_opt(&mut row.oidc_discovery_url, o.discovery_url, |v| idp::check_url("discovery_url", v))?;
    set_opt(&mut row.oidc_auth_url, o.auth_url, |v| idp::check_url("auth_url", v))?;
    set_opt(&mut row.oidc_token_url, o.token_url, |v| idp::check_url("token_url", v))?;
    set_opt(&mut row.oidc_user_info_url, o.user_info_url, |v| idp::check_url("user_info_url", v))?;
    if let Some(v) = o.requires_pkce {
        row.oidc_requires_pkce = v;
    }
    Ok(())
}

/// Why an active connection is not usable, if it is not.
fn missing_configuration(row: &EnterpriseConnectionRow) -> Option<&'static str> {
    if row.saml_connection_id.is_some() {
        if row.idp_entity_id.is_none() || row.idp_sso_url.is_none() || row.idp_certificate.is_none() {
            return Some(
                "An active SAML connection needs the IdP's entity ID, SSO URL and certificate (or its metadata).",
            );
        }
    } else {
        let endpoints =
            row.oidc_discovery_url.is_some() || (row.oidc_auth_url.is_some() && row.oidc_token_url.is_some());
        if row.oidc_client_id.is_none() || !endpoints {
            return Some("An active OIDC connection needs a client ID and a discovery URL (or auth and token URLs).");
        }
        if row.oidc_client_secret.is_none() && !row.oidc_requires_pkce {
            return Some("An OIDC connection without a client secret must require PKCE.");
        }
    }
    None
}

fn domain_taken() -> Error {
    Error::with(
        ErrorCode::Conflict,
        "domain already in use",
        "One of the domains already belongs to another enterprise connection of this instance.",
        Some("domains"),
    )
}

/// Applies `c` to `row` (inside `tx`), validates the result, writes it with its domains and, when the connection
/// becomes active, removes organizations' verified domains of the same names.
async fn apply_and_save(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    mut row: EnterpriseConnectionRow,
    mut domain_list: Vec<String>,
    mut mapping: AttributeMapping,
    c: Changes,
    is_new: bool,
) -> Result<EnterpriseConnection> {
    let was_active = !is_new && row.active;
    if let Some(name) = c.name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::param_missing("name"));
        }
        row.name = name;
    }
    if let Some(d) = c.domains.filter(|d| !d.is_empty()) {
        domain_list = domains("domains", &d)?;
    }
    if domain_list.is_empty() {
        return Err(Error::param_missing("domains"));
    }
    for (field, value) in [
        (&mut row.active, c.active),
        (&mut row.sync_user_attributes, c.sync_user_attributes),
        (&mut row.disable_additional_identifications, c.disable_additional_identifications),
        (&mut row.allow_organization_account_linking, c.allow_organization_account_linking),
        (&mut row.disable_jit_provisioning, c.disable_jit_provisioning),
        (&mut row.authenticatable, c.authenticatable),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    if let Some(org) = c.organization_id.map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()) {
        let found = tessera_store::organizations::lock(tx, &row.instance_id, &org).await?;
        row.organization_id = Some(found.ok_or_else(crate::organizations::not_found)?.id);
    }
    if let Some(attrs) = c.custom_attributes {
        row.custom_attributes = serde_json::to_string(&custom_attributes(attrs)?).map_err(Error::internal)?;
    }
    if row.saml_connection_id.is_some() {
        if let Some(s) = c.saml {
            apply_saml(&mut row, &mut mapping, s)?;
        }
    } else if let Some(o) = c.oidc {
        apply_oidc(ctx, &mut row, o)?;
    }
    row.attribute_mapping = serde_json::to_string(&mapping).map_err(Error::internal)?;
    if row.active
        && let Some(why) = missing_configuration(&row)
    {
        return Err(Error::param_value_invalid("active", why));
    }
    row.updated_at = ctx.now_ms();
    if is_new {
        store::insert(tx, &row).await?;
    } else {
        store::update(tx, &row).await?;
    }
    store::set_domains(tx, &row.instance_id, &row.id, &domain_list)
        .await
        .map_err(|e| if e.is_unique_violation() { domain_taken() } else { e.into() })?;
    if row.active && !was_active {
        let verified = org_domains::verified_by_names_tx(tx, &row.instance_id, &domain_list).await?;
        if !verified.is_empty() {
            if c.verified_domains == VerifiedDomains::RemoveWithConsent(false) {
                return Err(Error::with(
                    ErrorCode::Conflict,
                    "verified domains exist",
                    "Organizations have verified domains with the same names; send consent_verified_domains_deletion \
                     to remove them and enable the connection.",
                    Some("consent_verified_domains_deletion"),
                ));
            }
            for d in verified {
                org_domains::delete(tx, &row.instance_id, &d.id).await?;
                let deleted = serde_json::json!({ "object": "organization_domain", "id": d.id, "deleted": true });
                events::emit(ctx, tx, &row.instance_id, EventType::OrganizationDomainDeleted, &deleted).await?;
            }
        }
    }
    EnterpriseConnection::from_row(row, domain_list)
}

/// Creates a connection of `provider`.
pub async fn create(ctx: &Ctx, instance_id: &str, provider: &str, c: Changes) -> Result<EnterpriseConnection> {
    if !PROVIDERS.contains(&provider) {
        return Err(Error::param_value_invalid(
            "provider",
            format!("provider must be one of {}.", PROVIDERS.join(", ")),
        ));
    }
    if c.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(Error::param_missing("name"));
    }
    let now = ctx.now_ms();
    let saml = is_saml(provider);
    let row = EnterpriseConnectionRow {
        id: new_id("ec"),
        instance_id: instance_id.to_owned(),
        provider: provider.to_owned(),
        authenticatable: true,
        custom_attributes: "[]".into(),
        saml_connection_id: saml.then(|| new_id("samlc")),
        oauth_config_id: (!saml).then(|| new_id("oac")),
        login_hint_mode: "email_address".into(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    let mut tx = ctx.db.begin().await?;
    let created = apply_and_save(ctx, &mut tx, row, Vec::new(), AttributeMapping::default(), c, true).await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes a connection found by `by`.
pub async fn update(ctx: &Ctx, instance_id: &str, by: By, id: &str, c: Changes) -> Result<EnterpriseConnection> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, by, id).await?.ok_or_else(not_found)?;
    let domain_list = store::domains_tx(&mut tx, instance_id, &row.id).await?;
    let mapping = serde_json::from_str(&row.attribute_mapping).map_err(Error::internal)?;
    let updated = apply_and_save(ctx, &mut tx, row, domain_list, mapping, c, false).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes a connection found by `by`; returns its id under that name.
pub async fn delete(ctx: &Ctx, instance_id: &str, by: By, id: &str) -> Result<String> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, by, id).await?.ok_or_else(not_found)?;
    store::delete(&mut tx, instance_id, &row.id).await?;
    tx.commit().await?;
    Ok(id.to_owned())
}

/// One connection found by `by`.
pub async fn get(ctx: &Ctx, instance_id: &str, by: By, id: &str) -> Result<EnterpriseConnection> {
    let row = store::get(&ctx.db, instance_id, by, id).await?.ok_or_else(not_found)?;
    let mut domains = store::domains_of(&ctx.db, instance_id, std::slice::from_ref(&row.id)).await?;
    let d = domains.remove(&row.id).unwrap_or_default();
    EnterpriseConnection::from_row(row, d)
}

/// A page of connections and the total.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    filter: &ConnectionFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<EnterpriseConnection>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, filter, limit, offset).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut domains: HashMap<String, Vec<String>> = store::domains_of(&ctx.db, instance_id, &ids).await?;
    let out = rows
        .into_iter()
        .map(|r| {
            let d = domains.remove(&r.id).unwrap_or_default();
            EnterpriseConnection::from_row(r, d)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_attributes() {
        assert_eq!(validate_domain("domains", " Example.COM. ").unwrap(), "example.com");
        assert!(validate_domain("domains", "localhost").is_err());
        assert!(validate_domain("domains", "a_b.com").is_err());
        let ok = CustomAttributeInput {
            name: Some("Dept".into()),
            key: Some("dept".into()),
            scim_path: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(custom_attributes(vec![ok.clone()]).unwrap()[0].directory_path.as_deref(), Some("x"));
        let clash = CustomAttributeInput { directory_path: Some("y".into()), ..ok.clone() };
        assert!(custom_attributes(vec![clash]).is_err());
        let bad_key = CustomAttributeInput { key: Some("_x".into()), ..ok };
        assert!(custom_attributes(vec![bad_key]).is_err());
    }
}
