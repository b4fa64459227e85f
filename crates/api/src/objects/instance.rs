//! Instance objects: `instance`, `instance_restrictions`, `instance_protect`, `instance_communication`,
//! `oauth_application_settings`, `organization_settings`, `instance_settings`, and Tessera's `session_settings`.

use serde::Serialize;
use serde_json::{Value, json};
use tessera_core::instances::Instance;
use tessera_core::settings::{
    AuthConfig, Communication, InstanceConfig, OAuthApplicationSettings, OrganizationSettings, Protect, Restrictions,
    SessionSettings,
};

/// `Instance`. `workspace_id` is always null: a Tessera instance belongs to no Clerk workspace.
pub fn instance(instance: &Instance, config: &InstanceConfig) -> Value {
    json!({
        "object": "instance",
        "id": instance.id,
        "environment_type": instance.environment.as_str(),
        "allowed_origins": config.allowed_origins,
        "workspace_id": null,
    })
}

/// `InstanceRestrictions`.
pub fn restrictions(r: &Restrictions) -> Value {
    json!({
        "object": "instance_restrictions",
        "allowlist": r.allowlist,
        "blocklist": r.blocklist,
        "allowlist_blocklist_disabled_on_sign_in": r.allowlist_blocklist_disabled_on_sign_in,
        "block_email_subaddresses": r.block_email_subaddresses,
        "block_disposable_email_domains": r.block_disposable_email_domains,
        // Beyond the spec: `@clerk/backend`'s `InstanceRestrictions` reads it.
        "ignore_dots_for_gmail_addresses": r.ignore_dots_for_gmail_addresses,
    })
}

/// `InstanceProtect`.
pub fn protect(p: &Protect) -> Value {
    json!({
        "object": "instance_protect",
        "rules_enabled": p.rules_enabled,
        "specter_enabled": p.specter_enabled,
        "checks_bypassed": p.checks_bypassed,
    })
}

/// `InstanceCommunication`.
pub fn communication(c: &Communication) -> Value {
    json!({ "object": "instance_communication", "blocked_country_codes": c.blocked_country_codes })
}

/// `OAuthApplicationSettings` (`default_scopes` shows the effective scopes, Clerk's defaults when not set).
pub fn oauth_application_settings(s: &OAuthApplicationSettings) -> Value {
    json!({
        "object": "oauth_application_settings",
        "dynamic_oauth_client_registration": s.dynamic_oauth_client_registration,
        "default_scopes": s.effective_default_scopes(),
        "oauth_jwt_access_tokens": s.oauth_jwt_access_tokens,
        "client_id_metadata_documents_advertised": s.client_id_metadata_documents_advertised,
        "client_id_metadata_documents_only_allow_pre_registered_clients":
            s.client_id_metadata_documents_only_allow_pre_registered_clients,
        "client_id_metadata_documents_block_implicitly_allowed_clients":
            s.client_id_metadata_documents_block_implicitly_allowed_clients,
    })
}

/// `OrganizationSettings` (`max_allowed_permissions` is omitted: Clerk made it a no-op).
pub fn organization_settings(s: &OrganizationSettings) -> Value {
    json!({
        "object": "organization_settings",
        "enabled": s.enabled,
        "max_allowed_memberships": s.max_allowed_memberships,
        "max_allowed_roles": s.max_allowed_roles,
        "max_role_sets_allowed": s.max_role_sets_allowed,
        "max_allowed_domains": s.max_allowed_domains,
        "creator_role": s.creator_role,
        "admin_delete_enabled": s.admin_delete_enabled,
        "domains_enabled": s.domains_enabled,
        "slug_disabled": s.slug_disabled,
        "domains_enrollment_modes": s.domains_enrollment_modes,
        "domains_default_role": s.domains_default_role,
        "initial_role_set_key": s.initial_role_set_key,
    })
}

/// The `instance_settings` object of `PATCH /beta_features/instance_settings`.
pub fn instance_settings(c: &AuthConfig) -> Value {
    json!({
        "object": "instance_settings",
        "id": c.instance_id,
        "restricted_to_allowlist": c.restricted_to_allowlist,
        "from_email_address": c.from_email_address,
        "progressive_sign_up": c.progressive_sign_up,
        "enhanced_email_deliverability": c.enhanced_email_deliverability,
    })
}

/// Tessera's `session_settings` object (`GET`/`PATCH /v1/instance/session_settings`; not in Clerk's spec).
#[derive(Debug, Serialize)]
pub struct SessionSettingsObject {
    object: &'static str,
    max_lifetime_seconds: Option<i64>,
    inactivity_timeout_seconds: Option<i64>,
    token_lifetime_seconds: i64,
    single_session_mode: bool,
}

impl From<&SessionSettings> for SessionSettingsObject {
    fn from(s: &SessionSettings) -> Self {
        Self {
            object: "session_settings",
            max_lifetime_seconds: s.max_lifetime_seconds,
            inactivity_timeout_seconds: s.inactivity_timeout_seconds,
            token_lifetime_seconds: s.token_lifetime_seconds,
            single_session_mode: s.single_session_mode,
        }
    }
}
