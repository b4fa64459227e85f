//! Instance settings: typed groups stored per instance, the PATCH operations of the Instance Settings and Beta
//! Features tags, and getters other resource groups use to obey them (e.g. [`restrictions`] for sign-up
//! allow/block lists, [`organization_settings`] for organization limits and roles).

pub mod types;
pub mod validate;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_store::Tx;

pub use types::*;

use crate::instances::{Environment, Instance};
use crate::{Ctx, Error, Result};

/// A settings group: its storage name and its defaults.
pub trait Group: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The `grp` column value.
    const NAME: &'static str;
    /// Clerk's defaults for an instance of this environment.
    fn defaults(environment: Environment) -> Self;
}

impl Group for InstanceConfig {
    const NAME: &'static str = "instance";
    fn defaults(environment: Environment) -> Self {
        InstanceConfig::defaults(environment)
    }
}

macro_rules! default_group {
    ($t:ty, $name:literal) => {
        impl Group for $t {
            const NAME: &'static str = $name;
            fn defaults(_: Environment) -> Self {
                <$t>::default()
            }
        }
    };
}
default_group!(Restrictions, "restrictions");
default_group!(Protect, "protect");
default_group!(Communication, "communication");
default_group!(OAuthApplicationSettings, "oauth_application_settings");
default_group!(OrganizationSettings, "organization_settings");
default_group!(SignUpSettings, "sign_up_settings");
default_group!(SessionSettings, "session_settings");

/// Decodes a stored document over the defaults: fields it lacks keep their default.
fn decode<T: Group>(environment: Environment, stored: Option<String>) -> Result<T> {
    let defaults = T::defaults(environment);
    let Some(stored) = stored else { return Ok(defaults) };
    let mut merged = serde_json::to_value(&defaults).map_err(Error::internal)?;
    let stored: serde_json::Value = serde_json::from_str(&stored).map_err(Error::internal)?;
    if let (Some(merged), serde_json::Value::Object(stored)) = (merged.as_object_mut(), stored) {
        for (key, value) in stored {
            if merged.contains_key(&key) {
                merged.insert(key, value);
            }
        }
    }
    serde_json::from_value(merged).map_err(Error::internal)
}

async fn environment_of(ctx: &Ctx, instance_id: &str) -> Result<Environment> {
    let row = tessera_store::instances::get(&ctx.db, instance_id).await?.ok_or_else(|| Error::not_found("instance"))?;
    Ok(if row.environment_type == "production" { Environment::Production } else { Environment::Development })
}

/// Reads a group of an instance whose environment is known: from the cache of configuration while nothing
/// committed since may have changed it (see [`crate::cache`]), else from the database (and kept).
pub async fn load<T: Group>(ctx: &Ctx, instance_id: &str, environment: Environment) -> Result<T> {
    let key = crate::cache::ConfigKey::new(instance_id, T::NAME, environment);
    crate::cache::configuration(ctx, key, async || {
        decode(environment, tessera_store::settings::get(&ctx.db, instance_id, T::NAME).await?)
    })
    .await
}

async fn load_tx<T: Group>(tx: &mut Tx, instance_id: &str, environment: Environment) -> Result<T> {
    decode(environment, tessera_store::settings::get_tx(tx, instance_id, T::NAME).await?)
}

async fn save_tx<T: Group>(tx: &mut Tx, instance_id: &str, value: &T, now: i64) -> Result<()> {
    let json = serde_json::to_string(value).map_err(Error::internal)?;
    tessera_store::settings::put(tx, instance_id, T::NAME, &json, now).await?;
    Ok(())
}

/// Opens a settings transaction: locks the instance row so concurrent updates of one instance serialize.
async fn begin(ctx: &Ctx, instance_id: &str) -> Result<(Tx, i64)> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if !tessera_store::settings::lock_instance(&mut tx, instance_id, now).await? {
        return Err(Error::not_found("instance"));
    }
    Ok((tx, now))
}

/// Read-modify-write of one group in its own transaction.
async fn modify<T: Group>(ctx: &Ctx, instance: &Instance, apply: impl FnOnce(&mut T)) -> Result<T> {
    let (mut tx, now) = begin(ctx, &instance.id).await?;
    let mut value: T = load_tx(&mut tx, &instance.id, instance.environment).await?;
    apply(&mut value);
    save_tx(&mut tx, &instance.id, &value, now).await?;
    tx.commit().await?;
    Ok(value)
}

// ---- Getters for other resource groups ----

/// The instance's general settings (test mode, HIBP, allowed origins, sender address…).
pub async fn instance_config(ctx: &Ctx, instance_id: &str) -> Result<InstanceConfig> {
    let environment = environment_of(ctx, instance_id).await?;
    load(ctx, instance_id, environment).await
}

/// The instance's general settings, read inside a write transaction.
pub async fn instance_config_tx(tx: &mut Tx, instance_id: &str, environment: Environment) -> Result<InstanceConfig> {
    load_tx(tx, instance_id, environment).await
}

/// The instance's allowlist/blocklist and e-mail restrictions.
pub async fn restrictions(ctx: &Ctx, instance_id: &str) -> Result<Restrictions> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's restrictions, read inside a write transaction.
pub async fn restrictions_tx(tx: &mut Tx, instance_id: &str) -> Result<Restrictions> {
    load_tx(tx, instance_id, Environment::Development).await
}

/// The instance's organization settings (membership limit, creator and domain roles, enrollment modes…).
pub async fn organization_settings(ctx: &Ctx, instance_id: &str) -> Result<OrganizationSettings> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's organization settings, read inside a write transaction.
pub async fn organization_settings_tx(tx: &mut Tx, instance_id: &str) -> Result<OrganizationSettings> {
    load_tx(tx, instance_id, Environment::Development).await
}

/// Writes the instance's organization settings inside the caller's transaction (which should hold the instance
/// lock, `tessera_store::settings::lock_instance`).
pub async fn save_organization_settings_tx(
    tx: &mut Tx,
    instance_id: &str,
    settings: &OrganizationSettings,
    now: i64,
) -> Result<()> {
    save_tx(tx, instance_id, settings, now).await
}

/// The instance's Protect switches.
pub async fn protect(ctx: &Ctx, instance_id: &str) -> Result<Protect> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's SMS settings (country blocklist).
pub async fn communication(ctx: &Ctx, instance_id: &str) -> Result<Communication> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's OAuth application settings.
pub async fn oauth_application_settings(ctx: &Ctx, instance_id: &str) -> Result<OAuthApplicationSettings> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's sign-up requirements.
pub async fn sign_up_settings(ctx: &Ctx, instance_id: &str) -> Result<SignUpSettings> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's sign-up requirements, read inside a write transaction.
pub async fn sign_up_settings_tx(tx: &mut Tx, instance_id: &str) -> Result<SignUpSettings> {
    load_tx(tx, instance_id, Environment::Development).await
}

/// The instance's session lifetimes, token lifetime and multi-session mode.
pub async fn session_settings(ctx: &Ctx, instance_id: &str) -> Result<SessionSettings> {
    load(ctx, instance_id, Environment::Development).await
}

/// The instance's session settings, read inside a write transaction.
pub async fn session_settings_tx(tx: &mut Tx, instance_id: &str) -> Result<SessionSettings> {
    load_tx(tx, instance_id, Environment::Development).await
}

/// Replaces the sign-up requirements (Clerk sets them in its dashboard; the Backend API has no operation for
/// them). Unknown attributes, an attribute both required and optional, and requirements without any identifier
/// (email address, phone number or username) are refused.
pub async fn store_sign_up_settings(
    ctx: &Ctx,
    instance: &Instance,
    settings: SignUpSettings,
) -> Result<SignUpSettings> {
    for (param, list) in
        [("required_fields", &settings.required_fields), ("optional_fields", &settings.optional_fields)]
    {
        if let Some(f) = list.iter().find(|f| !SIGN_UP_FIELDS.contains(&f.as_str())) {
            return Err(Error::param_value_invalid(
                param,
                format!("`{f}` is not a sign-up attribute ({}).", SIGN_UP_FIELDS.join(", ")),
            ));
        }
    }
    if let Some(f) = settings.required_fields.iter().find(|f| settings.optional_fields.contains(f)) {
        return Err(Error::param_value_invalid("optional_fields", format!("`{f}` is already required.")));
    }
    if !settings.required_fields.iter().any(|f| matches!(f.as_str(), "email_address" | "phone_number" | "username")) {
        return Err(Error::param_value_invalid(
            "required_fields",
            "A sign-up must require at least one identifier: email_address, phone_number or username.",
        ));
    }
    modify::<SignUpSettings>(ctx, instance, |s| *s = settings).await
}

/// Replaces the organization settings wholesale, for the groups that own the values the API cannot set (e.g.
/// `initial_role_set_key` once role sets exist, or a role key renamed by the roles group).
pub async fn store_organization_settings(ctx: &Ctx, instance: &Instance, settings: OrganizationSettings) -> Result<()> {
    modify::<OrganizationSettings>(ctx, instance, |s| *s = settings).await.map(|_| ())
}

// ---- Operations ----

/// `PATCH /instance`. Validates everything first, then applies only the fields present.
pub async fn update_instance(ctx: &Ctx, instance: &Instance, patch: InstancePatch) -> Result<()> {
    let clear_or = |v: Option<Option<String>>| v.map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    let support_email = match clear_or(patch.support_email) {
        Some(Some(e)) => Some(Some(validate::email("support_email", &e)?)),
        other => other,
    };
    let clerk_js_version = match clear_or(patch.clerk_js_version) {
        Some(Some(v)) => Some(Some(validate::clerk_js_version("clerk_js_version", &v)?)),
        other => other,
    };
    let development_origin = match clear_or(patch.development_origin) {
        Some(Some(o)) => {
            let origin = validate::origin("development_origin", &o)?;
            if !origin.starts_with("http://") && !origin.starts_with("https://") {
                return Err(Error::param_format_invalid(
                    "development_origin",
                    "development_origin must be an http(s) origin.",
                ));
            }
            Some(origin)
        }
        Some(None) => Some(String::new()),
        None => None,
    };
    if development_origin.is_some() && instance.environment == Environment::Production {
        return Err(Error::param_value_invalid(
            "development_origin",
            "development_origin can only be set on development instances.",
        ));
    }
    let allowed_origins = match patch.allowed_origins {
        Some(list) => {
            let mut out: Vec<String> = Vec::with_capacity(list.len());
            for o in &list {
                let o = validate::origin("allowed_origins", o)?;
                if !out.contains(&o) {
                    out.push(o);
                }
            }
            Some(out)
        }
        None => None,
    };
    let strategy = match patch.preferred_sign_in_strategy_when_password_required {
        Some(Some(s)) if s == "password" || s == "otp" => Some(Some(s)),
        Some(Some(s)) if s.is_empty() => Some(None),
        Some(Some(_)) => {
            return Err(Error::param_value_invalid(
                "preferred_sign_in_strategy_when_password_required",
                "preferred_sign_in_strategy_when_password_required must be one of `password`, `otp` or an empty string.",
            ));
        }
        Some(None) => Some(None),
        None => None,
    };

    let (mut tx, now) = begin(ctx, &instance.id).await?;
    let mut config: InstanceConfig = load_tx(&mut tx, &instance.id, instance.environment).await?;
    if let Some(v) = patch.test_mode {
        config.test_mode = v;
    }
    if let Some(v) = patch.hibp {
        config.hibp = v;
    }
    if let Some(v) = support_email {
        config.support_email = v;
    }
    if let Some(v) = clerk_js_version {
        config.clerk_js_version = v;
    }
    if let Some(v) = allowed_origins {
        config.allowed_origins = Some(v);
    }
    // The deprecated alias first, so that the current name wins when both are sent.
    if let Some(v) = patch.cookieless_dev {
        config.url_based_session_syncing = v;
    }
    if let Some(v) = patch.url_based_session_syncing {
        config.url_based_session_syncing = v;
    }
    if let Some(v) = strategy {
        config.preferred_sign_in_strategy_when_password_required = v;
    }
    save_tx(&mut tx, &instance.id, &config, now).await?;
    if let Some(origin) = development_origin {
        let mut primary = tessera_store::domains::primary_tx(&mut tx, &instance.id)
            .await?
            .ok_or_else(|| Error::internal(anyhow::anyhow!("instance {} has no primary domain", instance.id)))?;
        primary.development_origin = origin;
        primary.updated_at = now;
        tessera_store::domains::update(&mut tx, &primary).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `PATCH /instance/restrictions`.
pub async fn update_restrictions(ctx: &Ctx, instance: &Instance, patch: RestrictionsPatch) -> Result<Restrictions> {
    modify(ctx, instance, |r: &mut Restrictions| {
        set(&mut r.allowlist, patch.allowlist);
        set(&mut r.blocklist, patch.blocklist);
        set(&mut r.allowlist_blocklist_disabled_on_sign_in, patch.allowlist_blocklist_disabled_on_sign_in);
        set(&mut r.block_email_subaddresses, patch.block_email_subaddresses);
        set(&mut r.block_disposable_email_domains, patch.block_disposable_email_domains);
        set(&mut r.ignore_dots_for_gmail_addresses, patch.ignore_dots_for_gmail_addresses);
    })
    .await
}

/// `PATCH /instance/protect`.
pub async fn update_protect(ctx: &Ctx, instance: &Instance, patch: ProtectPatch) -> Result<Protect> {
    modify(ctx, instance, |p: &mut Protect| {
        set(&mut p.rules_enabled, patch.rules_enabled);
        set(&mut p.specter_enabled, patch.specter_enabled);
    })
    .await
}

/// `PATCH /instance/communication`: replaces the SMS country blocklist (absent or `null`: no change).
pub async fn update_communication(ctx: &Ctx, instance: &Instance, patch: CommunicationPatch) -> Result<Communication> {
    let codes = match patch.blocked_country_codes {
        Some(codes) => Some(validate::country_codes("blocked_country_codes", codes)?),
        None => None,
    };
    modify(ctx, instance, |c: &mut Communication| {
        if let Some(codes) = codes {
            c.blocked_country_codes = codes;
        }
    })
    .await
}

/// `PATCH /instance/oauth_application_settings`.
pub async fn update_oauth_application_settings(
    ctx: &Ctx,
    instance: &Instance,
    patch: OAuthApplicationSettingsPatch,
) -> Result<OAuthApplicationSettings> {
    let scopes = match patch.default_scopes {
        Some(Some(scopes)) => {
            let mut out: Vec<String> = Vec::with_capacity(scopes.len());
            for scope in scopes {
                let ok = !scope.is_empty()
                    && scope.len() <= 128
                    && scope.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
                if !ok {
                    return Err(Error::param_format_invalid(
                        "default_scopes",
                        format!("`{scope}` is not a valid OAuth scope (RFC 6749 scope tokens have no spaces)."),
                    ));
                }
                if out.contains(&scope) {
                    return Err(Error::param_value_invalid("default_scopes", format!("`{scope}` is listed twice.")));
                }
                out.push(scope);
            }
            Some(Some(out))
        }
        other => other,
    };
    modify(ctx, instance, |s: &mut OAuthApplicationSettings| {
        set(&mut s.dynamic_oauth_client_registration, patch.dynamic_oauth_client_registration);
        set(&mut s.oauth_jwt_access_tokens, patch.oauth_jwt_access_tokens);
        set(&mut s.client_id_metadata_documents_advertised, patch.client_id_metadata_documents_advertised);
        set(
            &mut s.client_id_metadata_documents_only_allow_pre_registered_clients,
            patch.client_id_metadata_documents_only_allow_pre_registered_clients,
        );
        set(
            &mut s.client_id_metadata_documents_block_implicitly_allowed_clients,
            patch.client_id_metadata_documents_block_implicitly_allowed_clients,
        );
        if let Some(scopes) = scopes {
            s.default_scopes = scopes;
        }
    })
    .await
}

/// Organization roles every instance has from the start (Clerk's defaults).
pub const BUILTIN_ORGANIZATION_ROLES: &[&str] = &["org:admin", "org:member"];

/// Resolves the role a `creator_role_id` / `domains_default_role_id` names (by id or key) to its key, inside the
/// settings transaction; a role this instance does not have is a 404, as the spec declares.
async fn resolve_role_key_tx(tx: &mut Tx, instance_id: &str, param: &str, id_or_key: &str) -> Result<String> {
    Ok(crate::organizations::roles::resolve_role_reference_tx(tx, instance_id, param, id_or_key).await?.key)
}

/// `PATCH /instance/organization_settings`.
pub async fn update_organization_settings(
    ctx: &Ctx,
    instance: &Instance,
    patch: OrganizationSettingsPatch,
) -> Result<OrganizationSettings> {
    if let Some(n) = patch.max_allowed_memberships
        && n < 0
    {
        return Err(Error::param_value_invalid(
            "max_allowed_memberships",
            "max_allowed_memberships must be 0 (unlimited) or a positive number.",
        ));
    }
    let modes = match patch.domains_enrollment_modes {
        Some(modes) => {
            let mut out: Vec<String> = Vec::new();
            for mode in modes {
                if !ENROLLMENT_MODES.contains(&mode.as_str()) {
                    return Err(Error::param_value_invalid(
                        "domains_enrollment_modes",
                        format!("`{mode}` is not a supported enrollment mode ({}).", ENROLLMENT_MODES.join(", ")),
                    ));
                }
                if !out.contains(&mode) {
                    out.push(mode);
                }
            }
            Some(out)
        }
        None => None,
    };
    // The roles are resolved under the instance lock that role updates and deletes take too, so a role deleted
    // concurrently is either seen as gone (404) or refused deletion because the settings now name it.
    let (mut tx, now) = begin(ctx, &instance.id).await?;
    // Enabling organizations (or any change of their settings) makes sure the default roles and the primary role
    // set exist.
    crate::organizations::roles::ensure_default_roles_tx(&mut tx, &instance.id, now).await?;
    let creator = match patch.creator_role_id.as_deref() {
        Some(r) => Some(resolve_role_key_tx(&mut tx, &instance.id, "creator_role_id", r).await?),
        None => None,
    };
    let domain_role = match patch.domains_default_role_id.as_deref() {
        Some(r) => Some(resolve_role_key_tx(&mut tx, &instance.id, "domains_default_role_id", r).await?),
        None => None,
    };
    if let Some(key) = creator.as_deref() {
        crate::organizations::role_sets::follow_creator_role_tx(&mut tx, &instance.id, key, now).await?;
    }
    let mut s: OrganizationSettings = load_tx(&mut tx, &instance.id, instance.environment).await?;
    set(&mut s.enabled, patch.enabled);
    set(&mut s.max_allowed_memberships, patch.max_allowed_memberships);
    set(&mut s.admin_delete_enabled, patch.admin_delete_enabled);
    set(&mut s.domains_enabled, patch.domains_enabled);
    set(&mut s.slug_disabled, patch.slug_disabled);
    set(&mut s.domains_enrollment_modes, modes);
    set(&mut s.creator_role, creator);
    set(&mut s.domains_default_role, domain_role);
    save_tx(&mut tx, &instance.id, &s, now).await?;
    s.initial_role_set_key = tessera_store::role_sets::initial_tx(&mut tx, &instance.id).await?.map(|r| r.key);
    tx.commit().await?;
    Ok(s)
}

/// The organization settings as `GET /instance/organization_settings` shows them: `initial_role_set_key` names
/// the role set new organizations get (the role sets decide it, not the stored document).
pub async fn organization_settings_with_role_set(ctx: &Ctx, instance_id: &str) -> Result<OrganizationSettings> {
    let mut s = organization_settings(ctx, instance_id).await?;
    s.initial_role_set_key = tessera_store::role_sets::initial_key(&ctx.db, instance_id).await?;
    Ok(s)
}

/// `PATCH /v1/instance/session_settings` (Tessera's): validates every field, then applies the ones present.
/// Lifetimes are whole seconds within [`MIN_SESSION_DURATION_S`]..=[`MAX_DURATION_S`] (tokens from
/// [`MIN_TOKEN_LIFETIME_S`]); turning off both the maximum lifetime and the inactivity timeout is refused, as
/// Clerk refuses it. Sessions keep the expiry they were given; the new values apply to sessions opened (and, for
/// inactivity, activity recorded) from now on.
pub async fn update_session_settings(
    ctx: &Ctx,
    instance: &Instance,
    patch: SessionSettingsPatch,
) -> Result<SessionSettings> {
    let bounded = |param: &str, v: i64, min: i64| {
        if (min..=MAX_DURATION_S).contains(&v) {
            Ok(v)
        } else {
            Err(Error::param_value_invalid(param, format!("{param} must be between {min} and {MAX_DURATION_S}.")))
        }
    };
    if let Some(Some(v)) = patch.max_lifetime_seconds {
        bounded("max_lifetime_seconds", v, MIN_SESSION_DURATION_S)?;
    }
    if let Some(Some(v)) = patch.inactivity_timeout_seconds {
        bounded("inactivity_timeout_seconds", v, MIN_SESSION_DURATION_S)?;
    }
    if let Some(v) = patch.token_lifetime_seconds {
        bounded("token_lifetime_seconds", v, MIN_TOKEN_LIFETIME_S)?;
    }
    let (mut tx, now) = begin(ctx, &instance.id).await?;
    let mut s: SessionSettings = load_tx(&mut tx, &instance.id, instance.environment).await?;
    set(&mut s.max_lifetime_seconds, patch.max_lifetime_seconds);
    set(&mut s.inactivity_timeout_seconds, patch.inactivity_timeout_seconds);
    set(&mut s.token_lifetime_seconds, patch.token_lifetime_seconds);
    set(&mut s.single_session_mode, patch.single_session_mode);
    if s.max_lifetime_seconds.is_none() && s.inactivity_timeout_seconds.is_none() {
        return Err(Error::param_value_invalid(
            "max_lifetime_seconds",
            "The maximum lifetime and the inactivity timeout cannot both be off.",
        ));
    }
    save_tx(&mut tx, &instance.id, &s, now).await?;
    tx.commit().await?;
    Ok(s)
}

/// `PATCH /beta_features/instance_settings`. `restricted_to_allowlist` is the `allowlist` restriction and
/// `test_mode` the instance's test mode: one switch each, whichever endpoint sets it.
pub async fn update_auth_config(ctx: &Ctx, instance: &Instance, patch: AuthConfigPatch) -> Result<AuthConfig> {
    let from = match patch.from_email_address {
        Some(Some(v)) if !v.trim().is_empty() => {
            let v = v.trim();
            if v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::param_format_invalid(
                    "from_email_address",
                    "from_email_address must be the local part of an address (letters and digits only, e.g. `foo` for foo@example.com).",
                ));
            }
            Some(v.to_owned())
        }
        Some(_) => Some(InstanceConfig::defaults(instance.environment).from_email_address),
        None => None,
    };
    let (mut tx, now) = begin(ctx, &instance.id).await?;
    let mut config: InstanceConfig = load_tx(&mut tx, &instance.id, instance.environment).await?;
    let mut restrictions: Restrictions = load_tx(&mut tx, &instance.id, instance.environment).await?;
    set(&mut config.from_email_address, from);
    set(&mut config.progressive_sign_up, patch.progressive_sign_up);
    set(&mut config.test_mode, patch.test_mode);
    save_tx(&mut tx, &instance.id, &config, now).await?;
    if let Some(v) = patch.restricted_to_allowlist {
        restrictions.allowlist = v;
        save_tx(&mut tx, &instance.id, &restrictions, now).await?;
    }
    tx.commit().await?;
    Ok(AuthConfig {
        instance_id: instance.id.clone(),
        restricted_to_allowlist: restrictions.allowlist,
        from_email_address: config.from_email_address,
        progressive_sign_up: config.progressive_sign_up,
        enhanced_email_deliverability: false,
    })
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_documents_overlay_defaults() {
        let c: InstanceConfig = decode(Environment::Production, Some(r#"{"hibp":false,"gone":1}"#.into())).unwrap();
        assert!(!c.hibp);
        assert!(!c.test_mode, "production default");
        assert_eq!(c.from_email_address, "notifications");
        let o: OrganizationSettings = decode(Environment::Development, None).unwrap();
        assert_eq!(o.membership_limit(), Some(5));
    }

    // Role references (`creator_role_id`, `domains_default_role_id`) now resolve against the instance's stored
    // roles (by id or key); the API tests in `instance_settings.rs` and `organizations/roles.rs` cover them.
}
