//! Instances: creation (keys, keyring, primary domain), secret-key authentication and listing.

use base64::Engine as _;
use tessera_store::instances::{InstanceRow, SigningKeyRow};

use crate::ids::{new_id, random_base62};
use crate::{Ctx, Error, ErrorCode, Result, keyring};

/// Development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// `sk_test_` / `pk_test_` keys.
    Development,
    /// `sk_live_` / `pk_live_` keys.
    Production,
}

impl Environment {
    /// `development` / `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }

    fn key_infix(self) -> &'static str {
        match self {
            Self::Development => "test",
            Self::Production => "live",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "production" { Self::Production } else { Self::Development }
    }
}

/// An instance: the tenant every resource belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// `ins_…`
    pub id: String,
    /// Environment.
    pub environment: Environment,
    /// `pk_test_…` / `pk_live_…`.
    pub publishable_key: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<InstanceRow> for Instance {
    fn from(r: InstanceRow) -> Self {
        Self {
            id: r.id,
            environment: Environment::parse(&r.environment_type),
            publishable_key: r.publishable_key,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Instance {
    /// The Frontend API host encoded in the publishable key.
    pub fn frontend_host(&self) -> String {
        let b64 = self.publishable_key.splitn(3, '_').nth(2).unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).unwrap_or_default();
        String::from_utf8_lossy(&decoded).trim_end_matches('$').to_owned()
    }
}

/// The suffix of development frontend hosts. clerk-js runs its development mode (the dev browser) only for a
/// publishable-key host that ends in one of Clerk's development suffixes, `accounts.dev` among them, matched
/// without a leading dot; `tessera-accounts.dev` qualifies without being a host of Clerk's. Nothing ever needs to
/// resolve it: browsers reach Tessera through the app's `proxyUrl` (or a test's request routing), and Tessera
/// recognises the host in `Host` headers and `/fapi/{host}` proxy paths.
pub const DEVELOPMENT_HOST_SUFFIX: &str = "tessera-accounts.dev";

/// The frontend host of a new instance: `<slug>.tessera-accounts.dev` for development, `<slug>.tessera.localhost`
/// for production (production hosts follow the primary domain once one is set). Instances created before
/// development hosts had the dev suffix keep their `<slug>.tessera.localhost` keys: hosts are looked up, not parsed.
fn new_frontend_host(environment: Environment, slug: &str) -> String {
    match environment {
        Environment::Development => format!("{slug}.{DEVELOPMENT_HOST_SUFFIX}"),
        Environment::Production => format!("{slug}.tessera.localhost"),
    }
}

/// The instance whose frontend host (the host in its publishable key) is `host`, compared without case and
/// without a port. Instances are few; the host → instance map is cached for [`FRONTEND_HOST_CACHE_MS`], so a
/// primary-domain change reaches every node within that bound.
pub async fn by_frontend_host(ctx: &Ctx, host: &str) -> Result<Option<Instance>> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let now = ctx.now_ms();
    {
        let cache = ctx.frontend_host_cache.read().unwrap_or_else(|p| p.into_inner());
        if let Some((loaded_at, map)) = cache.as_ref()
            && now - loaded_at < FRONTEND_HOST_CACHE_MS
            && now >= *loaded_at
        {
            // A miss re-reads the instances unless they were read a moment ago: an instance created on another
            // node is reachable at once, and a stream of unknown hosts costs one read per interval.
            match map.get(&host) {
                Some(hit) => return Ok(Some(hit.clone())),
                None if now - loaded_at < FRONTEND_HOST_MISS_RELOAD_MS => return Ok(None),
                None => {}
            }
        }
    }
    let map: crate::cache::FastMap<String, Instance> =
        list_instances(ctx).await?.into_iter().map(|i| (i.frontend_host().to_ascii_lowercase(), i)).collect();
    let found = map.get(&host).cloned();
    *ctx.frontend_host_cache.write().unwrap_or_else(|p| p.into_inner()) = Some((now, map));
    Ok(found)
}

/// After a miss, the frontend host → instance map is read again if it is older than this.
const FRONTEND_HOST_MISS_RELOAD_MS: i64 = 250;

/// Forgets the frontend host → instance map (after this node created an instance or changed a host).
pub fn forget_frontend_hosts(ctx: &Ctx) {
    *ctx.frontend_host_cache.write().unwrap_or_else(|p| p.into_inner()) = None;
}

/// How long the frontend host → instance map is reused before it is read again.
pub const FRONTEND_HOST_CACHE_MS: i64 = 5_000;

/// A new instance and its secret key, which is shown once and stored only as a digest.
#[derive(Debug)]
pub struct CreatedInstance {
    /// The instance.
    pub instance: Instance,
    /// `sk_test_…` / `sk_live_…`.
    pub secret_key: String,
}

/// The publishable key for a Frontend API host, as the SDKs parse it: `pk_<env>_` + base64(`<host>$`).
pub fn publishable_key(environment: Environment, host: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{host}$"));
    format!("pk_{}_{encoded}", environment.key_infix())
}

/// Checks a caller-chosen secret key: the right prefix for the environment and at least 16 more alphanumerics.
fn validate_secret_key(environment: Environment, key: &str) -> Result<()> {
    let prefix = format!("sk_{}_", environment.key_infix());
    let ok = key
        .strip_prefix(&prefix)
        .is_some_and(|rest| rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(Error::param_format_invalid(
            "secret_key",
            format!(
                "A {} secret key must be `{prefix}` followed by at least 16 letters or digits.",
                environment.as_str()
            ),
        ))
    }
}

/// Creates an instance with a secret key (given or generated), an RSA signing key, a primary domain and Clerk's
/// default organization permissions and roles.
pub async fn create_instance(
    ctx: &Ctx,
    environment: Environment,
    secret_key: Option<String>,
) -> Result<CreatedInstance> {
    let secret_key = match secret_key {
        Some(k) => {
            validate_secret_key(environment, &k)?;
            k
        }
        None => format!("sk_{}_{}", environment.key_infix(), random_base62(42)),
    };
    let now = ctx.now_ms();
    let id = new_id("ins");
    let slug = id["ins_".len()..].to_ascii_lowercase();
    let host = new_frontend_host(environment, &slug[slug.len() - 12..]);
    let instance = Instance {
        id: id.clone(),
        environment,
        publishable_key: publishable_key(environment, &host),
        created_at: now,
        updated_at: now,
    };
    // Key generation and sealing happen before the transaction opens, so the writer is held only briefly.
    let key = tokio::task::spawn_blocking(keyring::generate_rsa_2048).await.map_err(Error::internal)??;
    let signing_key = SigningKeyRow {
        id: new_id("ins").replacen("ins_", "key_", 1),
        instance_id: id.clone(),
        algorithm: "RS256".into(),
        private_key_sealed: keyring::seal_private_key(ctx, &key.pkcs8),
        public_n: key.n,
        public_e: key.e,
        active: true,
        created_at: now,
        retired_at: None,
    };
    let domain = tessera_store::domains::DomainRow {
        id: new_id("dmn"),
        instance_id: id.clone(),
        name: host.clone(),
        is_satellite: false,
        is_primary: true,
        is_secondary: false,
        frontend_api_url: format!("https://{host}"),
        accounts_portal_url: Some(format!("https://accounts.{host}")),
        proxy_url: None,
        development_origin: String::new(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    tessera_store::instances::insert(
        &mut tx,
        &InstanceRow {
            id: id.clone(),
            environment_type: environment.as_str().into(),
            publishable_key: instance.publishable_key.clone(),
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    tessera_store::instances::insert_secret_key(&mut tx, &new_id("sk"), &id, &ctx.secrets.digest(&secret_key), now)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                Error::with(
                    ErrorCode::FormIdentifierExists,
                    "already exists",
                    "That secret key is already in use.",
                    Some("secret_key"),
                )
            } else {
                e.into()
            }
        })?;
    tessera_store::instances::insert_signing_key(&mut tx, &signing_key).await?;
    tessera_store::domains::insert(&mut tx, &domain).await?;
    // Clerk's default organization roles exist from the start, so reading them never has to create them.
    crate::organizations::roles::ensure_default_roles_tx(&mut tx, &id, now).await?;
    tx.commit().await?;
    forget_frontend_hosts(ctx);
    Ok(CreatedInstance { instance, secret_key })
}

/// Resolves `Authorization: Bearer <secret key>` to its instance, or 401 `clerk_key_invalid`.
pub async fn authenticate(ctx: &Ctx, secret_key: &str) -> Result<Instance> {
    if !(secret_key.starts_with("sk_test_") || secret_key.starts_with("sk_live_")) {
        return Err(Error::new(ErrorCode::ClerkKeyInvalid));
    }
    let digest = ctx.secrets.digest(secret_key);
    if let Some(hit) = ctx.instance_auth_cache.read().unwrap_or_else(|p| p.into_inner()).get(&digest) {
        return Ok(hit.clone());
    }
    let instance: Instance = tessera_store::instances::find_by_secret_hash(&ctx.db, &digest)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::ClerkKeyInvalid))?
        .into();
    let mut cache = ctx.instance_auth_cache.write().unwrap_or_else(|p| p.into_inner());
    if cache.len() > 10_000 {
        cache.clear();
    }
    cache.insert(digest, instance.clone());
    Ok(instance)
}

/// One instance by id.
pub async fn get(ctx: &Ctx, id: &str) -> Result<Option<Instance>> {
    Ok(tessera_store::instances::get(&ctx.db, id).await?.map(Instance::from))
}

/// All instances.
pub async fn list_instances(ctx: &Ctx) -> Result<Vec<Instance>> {
    Ok(tessera_store::instances::list(&ctx.db).await?.into_iter().map(Instance::from).collect())
}

/// Number of instances.
pub async fn count_instances(ctx: &Ctx) -> Result<i64> {
    Ok(tessera_store::instances::count(&ctx.db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishable_key_encodes_host_with_dollar() {
        let pk = publishable_key(Environment::Development, "abc.tessera.localhost");
        assert!(pk.starts_with("pk_test_"));
        let decoded = base64::engine::general_purpose::STANDARD.decode(&pk[8..]).unwrap();
        assert_eq!(decoded, b"abc.tessera.localhost$");
    }

    #[test]
    fn secret_key_shape_is_checked() {
        assert!(validate_secret_key(Environment::Development, "sk_test_0123456789abcdefXYZ").is_ok());
        assert!(validate_secret_key(Environment::Development, "sk_live_0123456789abcdefXYZ").is_err());
        assert!(validate_secret_key(Environment::Development, "sk_test_short").is_err());
        assert!(validate_secret_key(Environment::Development, "sk_test_0123456789abcdef-+").is_err());
    }
}
