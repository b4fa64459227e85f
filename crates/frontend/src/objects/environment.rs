//! `Client.Environment`: what clerk-js and `@clerk/ui` know about an instance before anything else — which
//! attributes a sign-up takes and which factors sign in, the hosted pages' URLs, organization settings. Built from
//! the instance's stored settings on every request; the Frontend API answers it bare (not in `{response, client}`).
//!
//! Settings Tessera does not store answer as a Tessera instance behaves: multi-session clients (no single-session
//! mode), no captcha, no social or enterprise connections, no legal-consent step, no billing, no passkeys.

use serde::Serialize;
use tessera_core::domains::Domain;
use tessera_core::instances::{Environment, Instance};
use tessera_core::settings::{InstanceConfig, OrganizationSettings, Restrictions, SessionSettings, SignUpSettings};
use tessera_core::users::{identifiers, lockout, passwords};

/// Everything the environment is built from.
#[derive(Debug, Clone, Copy)]
pub struct EnvironmentSources<'a> {
    /// The instance.
    pub instance: &'a Instance,
    /// The Frontend API base URL as the browser sees it (hosted pages live under it).
    pub base_url: &'a str,
    /// General settings.
    pub config: &'a InstanceConfig,
    /// Allowlist / blocklist and e-mail restrictions.
    pub restrictions: &'a Restrictions,
    /// Sign-up requirements.
    pub sign_up: &'a SignUpSettings,
    /// Organization settings.
    pub organizations: &'a OrganizationSettings,
    /// Session settings (single- or multi-session mode).
    pub sessions: &'a SessionSettings,
    /// The instance's primary domain (the application's home, and its development origin).
    pub primary_domain: &'a Domain,
}

/// `Client.Environment`.
#[derive(Debug, Serialize)]
pub struct EnvironmentObject {
    auth_config: AuthConfigObject,
    display_config: DisplayConfigObject,
    user_settings: UserSettingsObject,
    organization_settings: OrganizationSettingsObject,
    fraud_settings: FraudSettingsObject,
    commerce_settings: CommerceSettingsObject,
    api_keys_settings: ApiKeysSettingsObject,
    protect_config: ProtectConfigObject,
    client_debug_mode: bool,
    partitioned_cookies: bool,
    maintenance_mode: bool,
}

impl EnvironmentObject {
    /// The environment of an instance.
    pub fn new(s: EnvironmentSources<'_>) -> Self {
        let attributes = AttributesObject::new(s.sign_up);
        Self {
            auth_config: AuthConfigObject::new(&s, &attributes),
            display_config: DisplayConfigObject::new(&s),
            user_settings: UserSettingsObject::new(&s, attributes),
            organization_settings: OrganizationSettingsObject::new(s.organizations),
            fraud_settings: FraudSettingsObject {
                object: "fraud_settings",
                native: FraudNativeSettings { device_attestation_mode: "disabled" },
            },
            commerce_settings: CommerceSettingsObject::disabled(),
            api_keys_settings: ApiKeysSettingsObject {
                enabled: false,
                user_api_keys_enabled: false,
                orgs_api_keys_enabled: false,
            },
            protect_config: ProtectConfigObject { loaders: Vec::new() },
            client_debug_mode: false,
            partitioned_cookies: false,
            maintenance_mode: false,
        }
    }
}

/// The suffix of an instance id, for the ids of its settings objects.
fn id_suffix(instance: &Instance) -> &str {
    instance.id.strip_prefix("ins_").unwrap_or(&instance.id)
}

// ---- auth_config ----

/// `Client.AuthConfig` (its per-attribute fields are the legacy view of `user_settings`).
#[derive(Debug, Serialize)]
struct AuthConfigObject {
    object: &'static str,
    id: String,
    first_name: &'static str,
    last_name: &'static str,
    email_address: &'static str,
    phone_number: &'static str,
    username: &'static str,
    password: &'static str,
    identification_requirements: Vec<Vec<&'static str>>,
    identification_strategies: Vec<&'static str>,
    first_factors: Vec<&'static str>,
    second_factors: Vec<&'static str>,
    email_address_verification_strategies: Vec<&'static str>,
    single_session_mode: bool,
    enhanced_email_deliverability: bool,
    test_mode: bool,
    cookieless_dev: bool,
    url_based_session_syncing: bool,
    claimed_at: Option<i64>,
    reverification: bool,
    native_settings: NativeSettingsObject,
}

/// `Client.NativeSettings`.
#[derive(Debug, Serialize)]
struct NativeSettingsObject {
    object: &'static str,
    api_enabled: bool,
    trusted_device_sign_in_enabled: bool,
    trusted_device_enrollment_prompt_after_sign_in_enabled: bool,
    trusted_device_enrollment_prompt_after_sign_up_enabled: bool,
}

/// `on`, `off` or `required`, as the sign-up settings list the attribute.
fn presence(sign_up: &SignUpSettings, field: &str) -> &'static str {
    if sign_up.required_fields.iter().any(|f| f == field) {
        "required"
    } else if sign_up.optional_fields.iter().any(|f| f == field) {
        "on"
    } else {
        "off"
    }
}

impl AuthConfigObject {
    fn new(s: &EnvironmentSources<'_>, a: &AttributesObject) -> Self {
        let identifiers =
            [("email_address", &a.email_address), ("phone_number", &a.phone_number), ("username", &a.username)];
        let required: Vec<&'static str> = identifiers.iter().filter(|(_, x)| x.required).map(|(n, _)| *n).collect();
        let mut first_factors: Vec<&'static str> = Vec::new();
        for attr in [&a.email_address, &a.phone_number, &a.ticket] {
            first_factors.extend(attr.first_factors.iter().copied());
        }
        if a.password.enabled {
            first_factors.push("password");
        }
        let mut second_factors: Vec<&'static str> = Vec::new();
        for attr in [&a.phone_number, &a.authenticator_app, &a.backup_code] {
            second_factors.extend(attr.second_factors.iter().copied());
        }
        Self {
            object: "auth_config",
            id: format!("aac_{}", id_suffix(s.instance)),
            first_name: presence(s.sign_up, "first_name"),
            last_name: presence(s.sign_up, "last_name"),
            email_address: presence(s.sign_up, identifiers::EMAIL),
            phone_number: presence(s.sign_up, identifiers::PHONE),
            username: presence(s.sign_up, "username"),
            password: presence(s.sign_up, "password"),
            identification_requirements: if required.is_empty() { Vec::new() } else { vec![required] },
            identification_strategies: identifiers.iter().filter(|(_, x)| x.enabled).map(|(n, _)| *n).collect(),
            first_factors,
            second_factors,
            email_address_verification_strategies: a.email_address.verifications.clone(),
            // What the sign-in flow enforces: in single-session mode a signed-in browser gets `session_exists`.
            single_session_mode: s.sessions.single_session_mode,
            enhanced_email_deliverability: false,
            test_mode: s.config.test_mode,
            cookieless_dev: s.config.url_based_session_syncing,
            url_based_session_syncing: s.config.url_based_session_syncing,
            claimed_at: None,
            // No reverification (step-up) flow is served.
            reverification: false,
            native_settings: NativeSettingsObject {
                object: "native_settings",
                // Native apps reach their client with `Authorization` + `_is_native`.
                api_enabled: true,
                trusted_device_sign_in_enabled: false,
                trusted_device_enrollment_prompt_after_sign_in_enabled: false,
                trusted_device_enrollment_prompt_after_sign_up_enabled: false,
            },
        }
    }
}

// ---- display_config ----

/// `Client.DisplayConfig`.
#[derive(Debug, Serialize)]
struct DisplayConfigObject {
    object: &'static str,
    id: String,
    instance_environment_type: &'static str,
    application_name: String,
    theme: EmptyObject,
    preferred_sign_in_strategy: String,
    logo_image_url: Option<String>,
    favicon_image_url: Option<String>,
    home_url: String,
    sign_in_url: String,
    sign_up_url: String,
    user_profile_url: String,
    waitlist_url: String,
    oauth_consent_url: String,
    after_sign_in_url: String,
    after_sign_up_url: String,
    after_sign_out_one_url: String,
    after_sign_out_all_url: String,
    after_switch_session_url: String,
    after_join_waitlist_url: String,
    organization_profile_url: String,
    create_organization_url: String,
    after_leave_organization_url: String,
    after_create_organization_url: String,
    logo_link_url: String,
    support_email: Option<String>,
    branded: bool,
    experimental_force_oauth_first: bool,
    clerk_js_version: Option<String>,
    show_devmode_warning: bool,
    google_one_tap_client_id: Option<String>,
    help_url: Option<String>,
    privacy_policy_url: Option<String>,
    terms_url: Option<String>,
    logo_url: Option<String>,
    favicon_url: Option<String>,
    logo_image: Option<EmptyObject>,
    favicon_image: Option<EmptyObject>,
    captcha_public_key: Option<String>,
    captcha_widget_type: Option<&'static str>,
    captcha_public_key_invisible: Option<String>,
    captcha_provider: Option<&'static str>,
    captcha_oauth_bypass: Vec<String>,
    captcha_heartbeat: bool,
}

/// `{}`: the theme (none is stored; `@clerk/ui` uses its defaults), and objects Tessera never fills.
#[derive(Debug, Serialize)]
struct EmptyObject {}

/// Where the application lives ([`tessera_core::domains::application_url`]); otherwise the hosted
/// `default-redirect` page, as Clerk's development instances answer before they know their app.
fn home_url(s: &EnvironmentSources<'_>, base: &str) -> String {
    tessera_core::domains::application_url(s.instance, s.primary_domain)
        .unwrap_or_else(|| format!("{base}/default-redirect"))
}

impl DisplayConfigObject {
    fn new(s: &EnvironmentSources<'_>) -> Self {
        let base = s.base_url.trim_end_matches('/');
        let page = |path: &str| format!("{base}{path}");
        let home = home_url(s, base);
        Self {
            object: "display_config",
            id: format!("display_config_{}", id_suffix(s.instance)),
            instance_environment_type: s.instance.environment.as_str(),
            // Tessera stores no application name: the primary domain names the application.
            application_name: s.primary_domain.name.clone(),
            theme: EmptyObject {},
            preferred_sign_in_strategy: s.config.preferred_sign_in_strategy().to_owned(),
            logo_image_url: None,
            favicon_image_url: None,
            sign_in_url: page("/sign-in"),
            sign_up_url: page("/sign-up"),
            user_profile_url: page("/user"),
            waitlist_url: page("/waitlist"),
            oauth_consent_url: page("/oauth-consent"),
            after_sign_in_url: home.clone(),
            after_sign_up_url: home.clone(),
            after_sign_out_one_url: page("/sign-in/choose"),
            after_sign_out_all_url: page("/sign-in"),
            after_switch_session_url: home.clone(),
            after_join_waitlist_url: home.clone(),
            organization_profile_url: page("/organization"),
            create_organization_url: page("/create-organization"),
            after_leave_organization_url: home.clone(),
            after_create_organization_url: home.clone(),
            logo_link_url: home.clone(),
            home_url: home,
            support_email: s.config.support_email.clone(),
            branded: false,
            experimental_force_oauth_first: false,
            clerk_js_version: s.config.clerk_js_version.clone(),
            show_devmode_warning: s.instance.environment == Environment::Development,
            google_one_tap_client_id: None,
            help_url: None,
            privacy_policy_url: None,
            terms_url: None,
            logo_url: None,
            favicon_url: None,
            logo_image: None,
            favicon_image: None,
            captcha_public_key: None,
            captcha_widget_type: None,
            captcha_public_key_invisible: None,
            captcha_provider: None,
            captcha_oauth_bypass: Vec::new(),
            captcha_heartbeat: false,
        }
    }
}

// ---- user_settings ----

/// `Client.UserSettings`.
#[derive(Debug, Serialize)]
struct UserSettingsObject {
    attributes: AttributesObject,
    social: EmptyObject,
    saml: Enabled,
    enterprise_sso: Enabled,
    sign_in: SignInSettingsObject,
    sign_up: SignUpSettingsObject,
    restrictions: RestrictionsObject,
    password_settings: PasswordSettingsObject,
    username_settings: UsernameSettingsObject,
    actions: ActionsObject,
    attack_protection: AttackProtectionObject,
    passkey_settings: PasskeySettingsObject,
}

/// `UserSettings.Attributes`.
#[derive(Debug, Serialize)]
struct AttributesObject {
    email_address: AttributeObject,
    phone_number: AttributeObject,
    username: AttributeObject,
    web3_wallet: AttributeObject,
    first_name: AttributeObject,
    last_name: AttributeObject,
    password: AttributeObject,
    authenticator_app: AttributeObject,
    ticket: AttributeObject,
    backup_code: AttributeObject,
    passkey: AttributeObject,
}

/// `UserSettings.Attribute`.
#[derive(Debug, Clone, Default, Serialize)]
struct AttributeObject {
    enabled: bool,
    required: bool,
    used_for_first_factor: bool,
    first_factors: Vec<&'static str>,
    used_for_second_factor: bool,
    second_factors: Vec<&'static str>,
    verifications: Vec<&'static str>,
    verify_at_sign_up: bool,
    immutable: bool,
}

impl AttributeObject {
    /// A sign-up attribute: enabled when the sign-up settings list it, required when they require it.
    fn of(sign_up: &SignUpSettings, field: &str) -> Self {
        Self { enabled: sign_up.allows(field), required: presence(sign_up, field) == "required", ..Self::default() }
    }

    /// An identifier that signs in with a one-time code (`email_code` / `phone_code`) and is verified by one at
    /// sign-up.
    fn code_identifier(sign_up: &SignUpSettings, field: &str, strategy: &'static str) -> Self {
        let a = Self::of(sign_up, field);
        if !a.enabled {
            return a;
        }
        Self {
            used_for_first_factor: true,
            first_factors: vec![strategy],
            verifications: vec![strategy],
            verify_at_sign_up: true,
            ..a
        }
    }

    /// A second factor users may have (set up through the Backend API).
    fn second_factor(strategy: &'static str) -> Self {
        Self { enabled: true, used_for_second_factor: true, second_factors: vec![strategy], ..Self::default() }
    }
}

impl AttributesObject {
    fn new(sign_up: &SignUpSettings) -> Self {
        let username = AttributeObject::of(sign_up, "username");
        Self {
            email_address: AttributeObject::code_identifier(sign_up, identifiers::EMAIL, "email_code"),
            phone_number: AttributeObject::code_identifier(sign_up, identifiers::PHONE, "phone_code"),
            // A username identifies the user; the factor is the password (or a code sent to another identifier).
            username: AttributeObject { used_for_first_factor: username.enabled, ..username },
            // No Web3 sign-in is served.
            web3_wallet: AttributeObject::default(),
            first_name: AttributeObject::of(sign_up, "first_name"),
            last_name: AttributeObject::of(sign_up, "last_name"),
            password: AttributeObject::of(sign_up, "password"),
            authenticator_app: AttributeObject::second_factor("totp"),
            // Sign-in tokens and invitations (Backend API) are redeemed with `strategy=ticket`.
            ticket: AttributeObject {
                enabled: true,
                used_for_first_factor: true,
                first_factors: vec!["ticket"],
                ..AttributeObject::default()
            },
            backup_code: AttributeObject::second_factor("backup_code"),
            passkey: AttributeObject::default(),
        }
    }
}

/// `{enabled}` (restrictions, `saml`, `enterprise_sso`, …).
#[derive(Debug, Serialize)]
struct Enabled {
    enabled: bool,
}

/// `UserSettings.SignIn`.
#[derive(Debug, Serialize)]
struct SignInSettingsObject {
    second_factor: Required,
}

/// `{required}`.
#[derive(Debug, Serialize)]
struct Required {
    required: bool,
}

/// `UserSettings.SignUp`.
#[derive(Debug, Serialize)]
struct SignUpSettingsObject {
    captcha_enabled: bool,
    captcha_widget_type: &'static str,
    custom_action_required: bool,
    progressive: bool,
    mode: &'static str,
    legal_consent_enabled: bool,
}

/// `UserSettings.Restrictions`.
#[derive(Debug, Serialize)]
struct RestrictionsObject {
    allowlist: Enabled,
    blocklist: Enabled,
    allowlist_blocklist_disabled_on_sign_in: Enabled,
    block_email_subaddresses: Enabled,
    block_disposable_email_domains: Enabled,
}

/// `UserSettings.PasswordSettings`: Tessera's password policy (a length range, and the breached-password list when
/// HIBP is on; no character classes).
#[derive(Debug, Serialize)]
struct PasswordSettingsObject {
    disable_hibp: bool,
    disable_password_reverification: bool,
    min_length: usize,
    max_length: usize,
    require_special_char: bool,
    require_numbers: bool,
    require_uppercase: bool,
    require_lowercase: bool,
    show_zxcvbn: bool,
    min_zxcvbn_strength: u8,
    enforce_hibp_on_sign_in: bool,
    allowed_special_characters: &'static str,
}

/// `UserSettings.UsernameSettings`: Tessera's username rules (letters, digits, `_`, `-`, `.`; digits alone are
/// allowed, a `+` and digits are not).
#[derive(Debug, Serialize)]
struct UsernameSettingsObject {
    min_length: Option<usize>,
    max_length: Option<usize>,
    allow_extended_special_characters: bool,
    allow_numeric_usernames: bool,
}

/// `UserSettings.ActionsSettings`.
#[derive(Debug, Serialize)]
struct ActionsObject {
    delete_self: bool,
    create_organization: bool,
    create_organizations_limit: Option<bool>,
}

/// `UserSettings.AttackProtectionSettings`.
#[derive(Debug, Serialize)]
struct AttackProtectionObject {
    user_lockout: UserLockoutObject,
    pii: Enabled,
    email_link: EmailLinkObject,
    enumeration_protection: Enabled,
}

/// `UserSettings.AttackProtectionSettings.UserLockout`.
#[derive(Debug, Serialize)]
struct UserLockoutObject {
    enabled: bool,
    max_attempts: i64,
    duration_in_minutes: i64,
}

/// `UserSettings.AttackProtectionSettings.EmailLink`.
#[derive(Debug, Serialize)]
struct EmailLinkObject {
    require_same_client: bool,
}

/// `UserSettings.PasskeySettings` (passkeys are off).
#[derive(Debug, Serialize)]
struct PasskeySettingsObject {
    allow_autofill: bool,
    show_sign_in_button: bool,
    satisfies_second_factor: bool,
}

/// The special characters a password may contain (all ASCII punctuation; none is required).
const SPECIAL_CHARACTERS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

impl UserSettingsObject {
    fn new(s: &EnvironmentSources<'_>, attributes: AttributesObject) -> Self {
        let r = s.restrictions;
        let on = |enabled: bool| Enabled { enabled };
        Self {
            attributes,
            social: EmptyObject {},
            saml: on(false),
            enterprise_sso: on(false),
            sign_in: SignInSettingsObject { second_factor: Required { required: false } },
            sign_up: SignUpSettingsObject {
                captcha_enabled: false,
                captcha_widget_type: "smart",
                custom_action_required: s.sign_up.custom_action_required,
                progressive: s.config.progressive_sign_up,
                // The allowlist restricts who may sign up, not the mode (Clerk's `restricted` is invitation-only,
                // `waitlist` needs a waitlist page; Tessera stores neither).
                mode: "public",
                // `<SignUp/>` shows the consent checkbox; sign-ups list `legal_accepted` as missing until given.
                legal_consent_enabled: s.sign_up.legal_consent_required,
            },
            restrictions: RestrictionsObject {
                allowlist: on(r.allowlist),
                blocklist: on(r.blocklist),
                allowlist_blocklist_disabled_on_sign_in: on(r.allowlist_blocklist_disabled_on_sign_in),
                block_email_subaddresses: on(r.block_email_subaddresses),
                block_disposable_email_domains: on(r.block_disposable_email_domains),
            },
            password_settings: PasswordSettingsObject {
                disable_hibp: !s.config.hibp,
                disable_password_reverification: false,
                min_length: passwords::MIN_LENGTH,
                max_length: passwords::MAX_POLICY_BYTES,
                require_special_char: false,
                require_numbers: false,
                require_uppercase: false,
                require_lowercase: false,
                show_zxcvbn: false,
                min_zxcvbn_strength: 0,
                enforce_hibp_on_sign_in: false,
                allowed_special_characters: SPECIAL_CHARACTERS,
            },
            username_settings: UsernameSettingsObject {
                min_length: Some(identifiers::USERNAME_MIN),
                max_length: Some(identifiers::USERNAME_MAX),
                allow_extended_special_characters: false,
                allow_numeric_usernames: true,
            },
            actions: ActionsObject {
                delete_self: true,
                create_organization: s.organizations.enabled,
                create_organizations_limit: None,
            },
            attack_protection: AttackProtectionObject {
                user_lockout: UserLockoutObject {
                    enabled: true,
                    max_attempts: lockout::MAX_ATTEMPTS,
                    duration_in_minutes: lockout::LOCKOUT_SECONDS / 60,
                },
                pii: on(false),
                email_link: EmailLinkObject { require_same_client: false },
                enumeration_protection: on(false),
            },
            passkey_settings: PasskeySettingsObject {
                allow_autofill: false,
                show_sign_in_button: false,
                satisfies_second_factor: false,
            },
        }
    }
}

// ---- organization_settings and the rest ----

/// `Client.OrganizationSettings`.
#[derive(Debug, Serialize)]
struct OrganizationSettingsObject {
    enabled: bool,
    max_allowed_memberships: i64,
    actions: AdminDeleteObject,
    domains: DomainsSettingsObject,
    slug: SlugSettingsObject,
    creator_role: String,
}

/// `OrganizationSettings.ActionsSettings`.
#[derive(Debug, Serialize)]
struct AdminDeleteObject {
    admin_delete: bool,
}

/// `OrganizationSettings.DomainsSettings`.
#[derive(Debug, Serialize)]
struct DomainsSettingsObject {
    enabled: bool,
    enrollment_modes: Vec<String>,
    default_role: String,
}

/// `OrganizationSettings.SlugSettings`.
#[derive(Debug, Serialize)]
struct SlugSettingsObject {
    disabled: bool,
}

impl OrganizationSettingsObject {
    fn new(o: &OrganizationSettings) -> Self {
        // Any verified domain may be left to manual invitations (the Backend API accepts that mode on every
        // domain); the stored settings list only the automatic modes.
        let mut enrollment_modes = vec!["manual_invitation".to_owned()];
        enrollment_modes.extend(o.domains_enrollment_modes.iter().filter(|m| *m != "manual_invitation").cloned());
        Self {
            enabled: o.enabled,
            max_allowed_memberships: o.max_allowed_memberships,
            actions: AdminDeleteObject { admin_delete: o.admin_delete_enabled },
            domains: DomainsSettingsObject {
                enabled: o.domains_enabled,
                enrollment_modes,
                default_role: o.domains_default_role.clone(),
            },
            slug: SlugSettingsObject { disabled: o.slug_disabled },
            creator_role: o.creator_role.clone(),
        }
    }
}

/// `Client.FraudSettings`.
#[derive(Debug, Serialize)]
struct FraudSettingsObject {
    object: &'static str,
    native: FraudNativeSettings,
}

/// `FraudSettings.NativeSettings`.
#[derive(Debug, Serialize)]
struct FraudNativeSettings {
    device_attestation_mode: &'static str,
}

/// `Client.CommerceSettings`: billing is off. clerk-js reads `billing.user` and `billing.organization` unguarded,
/// so both are always present.
#[derive(Debug, Serialize)]
struct CommerceSettingsObject {
    billing: BillingObject,
}

/// `Client.CommerceSettings.billing`.
#[derive(Debug, Serialize)]
struct BillingObject {
    stripe_publishable_key: Option<String>,
    free_trial_requires_payment_method: bool,
    user: BillingPayer,
    organization: BillingPayer,
}

/// Billing of users or of organizations.
#[derive(Debug, Serialize)]
struct BillingPayer {
    enabled: bool,
    has_paid_plans: bool,
}

impl CommerceSettingsObject {
    fn disabled() -> Self {
        let off = || BillingPayer { enabled: false, has_paid_plans: false };
        Self {
            billing: BillingObject {
                stripe_publishable_key: None,
                free_trial_requires_payment_method: false,
                user: off(),
                organization: off(),
            },
        }
    }
}

/// `Client.ApiKeysSettings`: the Frontend API serves no API-key operations.
#[derive(Debug, Serialize)]
struct ApiKeysSettingsObject {
    enabled: bool,
    user_api_keys_enabled: bool,
    orgs_api_keys_enabled: bool,
}

/// `Client.ProtectConfig`: no Protect loader scripts.
#[derive(Debug, Serialize)]
struct ProtectConfigObject {
    loaders: Vec<EmptyObject>,
}
