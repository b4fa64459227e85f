//! The typed settings groups, with Clerk's defaults, and the PATCH bodies that change them.
//!
//! Each group is stored as one JSON document; fields missing from a stored document take the default, so a
//! field added later needs no migration.

use serde::{Deserialize, Deserializer, Serialize};

use crate::instances::Environment;

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(de: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// General instance settings (`PATCH /instance`, `PATCH /beta_features/instance_settings`). The instance's
/// `development_origin` lives on its primary domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceConfig {
    /// Test e-mail addresses and phone numbers are accepted (default: on in development).
    pub test_mode: bool,
    /// Passwords are checked against Have I Been Pwned (Clerk's default: on).
    pub hibp: bool,
    /// Support e-mail shown in Clerk's components.
    pub support_email: Option<String>,
    /// Pinned Clerk JS version.
    pub clerk_js_version: Option<String>,
    /// Extra origins allowed to call the Frontend API (browser extensions, Electron, Capacitor); `None` until set.
    pub allowed_origins: Option<Vec<String>>,
    /// URL-based session syncing in development (default: on in development, the mode Clerk uses for new apps).
    pub url_based_session_syncing: bool,
    /// `password` or `otp`; `None` means Clerk's default, `password`.
    pub preferred_sign_in_strategy_when_password_required: Option<String>,
    /// Local part of the address authentication e-mails are sent from.
    pub from_email_address: String,
    /// Progressive sign-up (deprecated by Clerk, on by default for current instances).
    pub progressive_sign_up: bool,
}

impl InstanceConfig {
    /// Clerk's defaults for an environment.
    pub fn defaults(environment: Environment) -> Self {
        let dev = environment == Environment::Development;
        Self {
            test_mode: dev,
            hibp: true,
            support_email: None,
            clerk_js_version: None,
            allowed_origins: None,
            url_based_session_syncing: dev,
            preferred_sign_in_strategy_when_password_required: None,
            from_email_address: "notifications".into(),
            progressive_sign_up: true,
        }
    }

    /// The effective preferred strategy (`password` unless overridden).
    pub fn preferred_sign_in_strategy(&self) -> &str {
        self.preferred_sign_in_strategy_when_password_required.as_deref().unwrap_or("password")
    }
}

/// Allowlist / blocklist and e-mail restrictions (`PATCH /instance/restrictions`). All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restrictions {
    /// Only allowlisted identifiers may sign up (same switch as the beta `restricted_to_allowlist`).
    pub allowlist: bool,
    /// Blocklisted identifiers may not sign up or sign in.
    pub blocklist: bool,
    /// The lists apply to sign-up only, not to sign-in.
    pub allowlist_blocklist_disabled_on_sign_in: bool,
    /// E-mail addresses with a `+` subaddress are rejected.
    pub block_email_subaddresses: bool,
    /// E-mail addresses at disposable domains are rejected.
    pub block_disposable_email_domains: bool,
    /// Dots in the local part of `gmail.com` / `googlemail.com` addresses do not make a new identifier (for
    /// uniqueness and for the allow- and block-lists). Not in the OpenAPI files; `@clerk/backend` reads it.
    pub ignore_dots_for_gmail_addresses: bool,
}

/// Protect (bot and abuse protection) switches. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protect {
    /// Protect rules are evaluated.
    pub rules_enabled: bool,
    /// Specter (device intelligence) is enabled.
    pub specter_enabled: bool,
    /// The instance opted out of the prerequisite checks (read-only through the API).
    pub checks_bypassed: bool,
}

/// SMS communication settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Communication {
    /// ISO 3166-1 alpha-2 codes of countries SMS are not sent to.
    pub blocked_country_codes: Vec<String>,
}

impl Communication {
    /// Whether SMS may be sent to a country (ISO 3166-1 alpha-2, any case).
    pub fn sms_allowed(&self, country_code: &str) -> bool {
        !self.blocked_country_codes.iter().any(|c| c.eq_ignore_ascii_case(country_code))
    }
}

/// The scopes Clerk grants OAuth applications by default.
pub const DEFAULT_OAUTH_SCOPES: &[&str] = &["email", "profile"];

/// OAuth application (Clerk as identity provider) settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthApplicationSettings {
    /// RFC 7591 dynamic client registration.
    pub dynamic_oauth_client_registration: bool,
    /// Default scopes; `None` = Clerk's defaults ([`DEFAULT_OAUTH_SCOPES`]).
    pub default_scopes: Option<Vec<String>>,
    /// JWT access tokens instead of opaque ones.
    pub oauth_jwt_access_tokens: bool,
    /// Client ID Metadata Documents are advertised.
    pub client_id_metadata_documents_advertised: bool,
    /// Unknown CIMD clients are rejected.
    pub client_id_metadata_documents_only_allow_pre_registered_clients: bool,
    /// Implicitly allowed CIMD clients are rejected.
    pub client_id_metadata_documents_block_implicitly_allowed_clients: bool,
}

impl OAuthApplicationSettings {
    /// The effective default scopes.
    pub fn effective_default_scopes(&self) -> Vec<String> {
        self.default_scopes.clone().unwrap_or_else(|| DEFAULT_OAUTH_SCOPES.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// Verified-domain enrollment modes an organization domain may use.
pub const ENROLLMENT_MODES: &[&str] = &["automatic_invitation", "automatic_suggestion"];

/// Organization settings, with Clerk's defaults (organizations off, 5 members, `org:admin` creator role,
/// `org:member` domain role, deletable organizations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSettings {
    /// Organizations are enabled.
    pub enabled: bool,
    /// Default membership limit of new organizations; `0` means unlimited (Clerk's "unlimited" setting).
    pub max_allowed_memberships: i64,
    /// Most custom roles an instance may define.
    pub max_allowed_roles: i64,
    /// Most role sets an instance may define.
    pub max_role_sets_allowed: i64,
    /// Most verified domains per organization.
    pub max_allowed_domains: i64,
    /// Role key given to an organization's creator.
    pub creator_role: String,
    /// Admins may delete their organization from the Frontend API.
    pub admin_delete_enabled: bool,
    /// Verified domains are enabled.
    pub domains_enabled: bool,
    /// Organization slugs are disabled.
    pub slug_disabled: bool,
    /// Enabled enrollment modes for verified domains ([`ENROLLMENT_MODES`]).
    pub domains_enrollment_modes: Vec<String>,
    /// Role key used for domain invitations and suggestions.
    pub domains_default_role: String,
    /// Role set key new organizations get (`None` until role sets exist).
    pub initial_role_set_key: Option<String>,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            max_allowed_memberships: 5,
            max_allowed_roles: 10,
            max_role_sets_allowed: 10,
            max_allowed_domains: 10,
            creator_role: "org:admin".into(),
            admin_delete_enabled: true,
            domains_enabled: false,
            slug_disabled: false,
            domains_enrollment_modes: Vec::new(),
            domains_default_role: "org:member".into(),
            initial_role_set_key: None,
        }
    }
}

impl OrganizationSettings {
    /// The default membership limit of new organizations (`None` = unlimited).
    pub fn membership_limit(&self) -> Option<u64> {
        u64::try_from(self.max_allowed_memberships).ok().filter(|n| *n > 0)
    }
}

/// Longest session lifetime, inactivity timeout and token lifetime accepted (ten years, in seconds).
pub const MAX_DURATION_S: i64 = 315_360_000;
/// Shortest session lifetime and inactivity timeout accepted, in seconds.
pub const MIN_SESSION_DURATION_S: i64 = 60;
/// Shortest session-token lifetime accepted, in seconds (clerk-js refreshes a token some seconds before it
/// expires, so shorter ones would be refreshed on every poll).
pub const MIN_TOKEN_LIFETIME_S: i64 = 5;

/// Session settings (Clerk's "Sessions" page of its dashboard; the Backend API spec has no operation for them, so
/// Tessera sets them through `PATCH /v1/instance/session_settings`). Clerk's defaults: sessions live at most 7
/// days, no inactivity timeout, 60-second session tokens, one session per browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSettings {
    /// A session expires this long after it began, whatever its activity (`None`: no maximum lifetime).
    pub max_lifetime_seconds: Option<i64>,
    /// A session is abandoned after this long without activity (`None`: no inactivity timeout). At least one of
    /// the two is set, as Clerk requires.
    pub inactivity_timeout_seconds: Option<i64>,
    /// Lifetime of the session tokens minted for browsers and by `POST /sessions/{id}/tokens` without
    /// `expires_in_seconds`.
    pub token_lifetime_seconds: i64,
    /// One session per browser (Clerk's default); off, a browser may hold several and switch between them.
    pub single_session_mode: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            max_lifetime_seconds: Some(7 * 24 * 3600),
            inactivity_timeout_seconds: None,
            token_lifetime_seconds: 60,
            single_session_mode: true,
        }
    }
}

/// `PATCH /v1/instance/session_settings` (Tessera's). Absent fields are unchanged; `null` turns a lifetime off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettingsPatch {
    /// Maximum lifetime in seconds (`null`: off).
    #[serde(default, deserialize_with = "nullable")]
    pub max_lifetime_seconds: Option<Option<i64>>,
    /// Inactivity timeout in seconds (`null`: off).
    #[serde(default, deserialize_with = "nullable")]
    pub inactivity_timeout_seconds: Option<Option<i64>>,
    /// Session-token lifetime in seconds.
    pub token_lifetime_seconds: Option<i64>,
    /// One session per browser.
    pub single_session_mode: Option<bool>,
}

/// The sign-up attributes Tessera's sign-up attempts know, in the order Clerk lists them.
pub const SIGN_UP_FIELDS: &[&str] =
    &["email_address", "phone_number", "username", "password", "first_name", "last_name"];

/// Sign-up requirements (Clerk's "User & authentication" settings, as a sign-up attempt shows them): which
/// attributes a sign-up must give, which it may give, and whether the app's custom action must have run before
/// the attempt becomes a user. Clerk's defaults for a new application: email address and password required;
/// names, username and phone number optional; no custom action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpSettings {
    /// Attributes every sign-up must give (a subset of [`SIGN_UP_FIELDS`]).
    pub required_fields: Vec<String>,
    /// Attributes a sign-up may give (a subset of [`SIGN_UP_FIELDS`], disjoint from `required_fields`).
    pub optional_fields: Vec<String>,
    /// A sign-up converts only once `custom_action` is set on it (UpdateSignUp).
    pub custom_action_required: bool,
    /// The user must accept the legal terms (Clerk's "Require express consent to legal documents"): a sign-up
    /// lists `legal_accepted` among its required and, until accepted, missing fields.
    #[serde(default)]
    pub legal_consent_required: bool,
}

impl Default for SignUpSettings {
    fn default() -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Self {
            required_fields: strings(&["email_address", "password"]),
            optional_fields: strings(&["first_name", "last_name", "username", "phone_number"]),
            custom_action_required: false,
            legal_consent_required: false,
        }
    }
}

impl SignUpSettings {
    /// Whether a sign-up may give this attribute at all.
    pub fn allows(&self, field: &str) -> bool {
        self.required_fields.iter().chain(&self.optional_fields).any(|f| f == field)
    }
}

/// `PATCH /instance`. Nullable strings: `null` clears them; nullable booleans: `null` leaves them unchanged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstancePatch {
    /// Test mode.
    pub test_mode: Option<bool>,
    /// HIBP.
    pub hibp: Option<bool>,
    /// Support e-mail (`null` or `""` clears).
    #[serde(default, deserialize_with = "nullable")]
    pub support_email: Option<Option<String>>,
    /// Clerk JS version (`null` or `""` clears).
    #[serde(default, deserialize_with = "nullable")]
    pub clerk_js_version: Option<Option<String>>,
    /// Development origin of the primary domain (`null` or `""` clears).
    #[serde(default, deserialize_with = "nullable")]
    pub development_origin: Option<Option<String>>,
    /// Allowed origins (whole-list replacement).
    pub allowed_origins: Option<Vec<String>>,
    /// Deprecated alias of `url_based_session_syncing`.
    pub cookieless_dev: Option<bool>,
    /// URL-based session syncing.
    pub url_based_session_syncing: Option<bool>,
    /// `password`, `otp`, or `""`/`null` to clear.
    #[serde(default, deserialize_with = "nullable")]
    pub preferred_sign_in_strategy_when_password_required: Option<Option<String>>,
}

/// `PATCH /instance/restrictions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionsPatch {
    /// Allowlist.
    pub allowlist: Option<bool>,
    /// Blocklist.
    pub blocklist: Option<bool>,
    /// Lists ignored on sign-in.
    pub allowlist_blocklist_disabled_on_sign_in: Option<bool>,
    /// Block subaddresses.
    pub block_email_subaddresses: Option<bool>,
    /// Block disposable domains.
    pub block_disposable_email_domains: Option<bool>,
    /// Ignore dots in gmail addresses.
    pub ignore_dots_for_gmail_addresses: Option<bool>,
}

/// `PATCH /instance/protect` (`checks_bypassed` is read-only).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectPatch {
    /// Rules.
    pub rules_enabled: Option<bool>,
    /// Specter.
    pub specter_enabled: Option<bool>,
}

/// `PATCH /instance/communication`. Absent or `null` is a no-op; a list replaces the whole blocklist.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunicationPatch {
    /// The new blocklist.
    pub blocked_country_codes: Option<Vec<String>>,
}

/// `PATCH /instance/oauth_application_settings`. `default_scopes: null` resets to Clerk's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthApplicationSettingsPatch {
    /// Dynamic client registration.
    pub dynamic_oauth_client_registration: Option<bool>,
    /// Default scopes (`null` resets).
    #[serde(default, deserialize_with = "nullable")]
    pub default_scopes: Option<Option<Vec<String>>>,
    /// JWT access tokens.
    pub oauth_jwt_access_tokens: Option<bool>,
    /// CIMD advertised.
    pub client_id_metadata_documents_advertised: Option<bool>,
    /// CIMD pre-registered only.
    pub client_id_metadata_documents_only_allow_pre_registered_clients: Option<bool>,
    /// CIMD block implicitly allowed.
    pub client_id_metadata_documents_block_implicitly_allowed_clients: Option<bool>,
}

/// `PATCH /instance/organization_settings`. Roles are given by id (or key); the response shows keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSettingsPatch {
    /// Organizations enabled.
    pub enabled: Option<bool>,
    /// Default membership limit (`0` = unlimited).
    pub max_allowed_memberships: Option<i64>,
    /// Admin delete.
    pub admin_delete_enabled: Option<bool>,
    /// Verified domains.
    pub domains_enabled: Option<bool>,
    /// Slugs disabled.
    pub slug_disabled: Option<bool>,
    /// Enrollment modes (whole-list replacement).
    pub domains_enrollment_modes: Option<Vec<String>>,
    /// Creator role.
    pub creator_role_id: Option<String>,
    /// Domain default role.
    pub domains_default_role_id: Option<String>,
}

/// `PATCH /beta_features/instance_settings`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfigPatch {
    /// Sign-up restricted to the allowlist (the `allowlist` restriction).
    pub restricted_to_allowlist: Option<bool>,
    /// Sender local part (`null` or `""` resets to `notifications`).
    #[serde(default, deserialize_with = "nullable")]
    pub from_email_address: Option<Option<String>>,
    /// Progressive sign-up.
    pub progressive_sign_up: Option<bool>,
    /// Test mode.
    pub test_mode: Option<bool>,
}

/// What `PATCH /beta_features/instance_settings` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// The instance id.
    pub instance_id: String,
    /// Sign-up restricted to the allowlist.
    pub restricted_to_allowlist: bool,
    /// Sender local part.
    pub from_email_address: String,
    /// Progressive sign-up.
    pub progressive_sign_up: bool,
    /// Deprecated, always off: Tessera sends no e-mail through a shared Clerk sender.
    pub enhanced_email_deliverability: bool,
}
