//! Instance domains: the primary domain and satellites, and the production domain change.
//!
//! URL rules (Clerk's layout, which the SDKs assume):
//! * production: the Frontend API is `https://clerk.<domain>`, the Account Portal `https://accounts.<domain>`
//!   (primary only); DNS records are reported as `cname_targets`; a `proxy_url` makes the `clerk.` CNAME optional.
//! * development: Clerk assigns one Frontend API host per instance (Tessera: the primary domain created with the
//!   instance); satellites share it, have no Account Portal and no DNS records, and their `development_origin`
//!   is the satellite's own origin. Proxies are a production feature.
//!
//! The publishable key encodes the Frontend API host, so when a production instance's primary domain changes,
//! the publishable key changes with it (Clerk: "setting the new keys in your code"); secret keys do not.

use serde::{Deserialize, Deserializer};
use tessera_store::Tx;
use tessera_store::domains::DomainRow;

use crate::ids::new_id;
use crate::instances::{Environment, Instance, publishable_key};
use crate::settings::validate;
use crate::{Ctx, Error, ErrorCode, OnUnique, Result};

/// A DNS record a production domain needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnameTarget {
    /// The record's name.
    pub host: String,
    /// Its target.
    pub value: String,
    /// Whether it must exist for the domain to be considered deployed.
    pub required: bool,
}

/// A domain of an instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// `dmn_…`
    pub id: String,
    /// Host name (with port in development).
    pub name: String,
    /// Satellite (not the primary).
    pub is_satellite: bool,
    /// The primary domain.
    pub is_primary: bool,
    /// A secondary app's domain (subdomain significant).
    pub is_secondary: bool,
    /// Frontend API URL.
    pub frontend_api_url: String,
    /// Account Portal URL (`None` for satellites).
    pub accounts_portal_url: Option<String>,
    /// Proxy in front of the Frontend API.
    pub proxy_url: Option<String>,
    /// Development origin (empty when none).
    pub development_origin: String,
    /// DNS records (`None` in development).
    pub cname_targets: Option<Vec<CnameTarget>>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl Domain {
    fn from_row(row: DomainRow, instance: &Instance) -> Self {
        let cname_targets = (instance.environment == Environment::Production).then(|| cname_targets(&row, instance));
        Self {
            id: row.id,
            name: row.name,
            is_satellite: row.is_satellite,
            is_primary: row.is_primary,
            is_secondary: row.is_secondary,
            frontend_api_url: row.frontend_api_url,
            accounts_portal_url: row.accounts_portal_url,
            proxy_url: row.proxy_url,
            development_origin: row.development_origin,
            cname_targets,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Clerk's DNS record set for a production domain.
fn cname_targets(row: &DomainRow, instance: &Instance) -> Vec<CnameTarget> {
    let slug = instance.id.to_ascii_lowercase();
    let slug = &slug[slug.len().saturating_sub(12)..];
    let name = &row.name;
    let target = |host: String, value: String, required: bool| CnameTarget { host, value, required };
    let mut out = vec![target(format!("clerk.{name}"), "frontend-api.clerk.services".into(), row.proxy_url.is_none())];
    if row.is_primary {
        out.push(target(format!("accounts.{name}"), "accounts.clerk.services".into(), true));
        out.push(target(format!("clkmail.{name}"), format!("mail.{slug}.clerk.services"), true));
        out.push(target(format!("clk._domainkey.{name}"), format!("dkim1.{slug}.clerk.services"), true));
        out.push(target(format!("clk2._domainkey.{name}"), format!("dkim2.{slug}.clerk.services"), true));
    }
    out
}

/// Checks a domain name: no scheme or path; a port only in development; in production a public FQDN.
fn domain_name(environment: Environment, param: &str, value: &str) -> Result<String> {
    let value = value.trim().to_ascii_lowercase();
    let invalid = |why: &str| Error::param_format_invalid(param, format!("{param} {why}"));
    if value.contains("://") {
        return Err(invalid("cannot contain a protocol scheme."));
    }
    if value.is_empty() || value.bytes().any(|b| b"/?#@ \t".contains(&b)) {
        return Err(invalid("must be a host name, e.g. `example.com`."));
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (value.as_str(), None),
    };
    if let Some(port) = port {
        if environment == Environment::Production {
            return Err(invalid("cannot contain a port for production instances."));
        }
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(invalid("has an invalid port."));
        }
    }
    let host_ok = match environment {
        Environment::Development => validate::host_name(host).is_some() || host.parse::<std::net::Ipv4Addr>().is_ok(),
        Environment::Production => {
            validate::host_name(host).is_some_and(|h| h.contains('.') && !validate::is_local_host(&h))
                && host
                    .rsplit('.')
                    .next()
                    .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
        }
    };
    if !host_ok {
        return Err(match environment {
            Environment::Production => invalid("must be a valid fully qualified domain name, e.g. `example.com`."),
            Environment::Development => invalid("must be a host name, optionally with a port, e.g. `localhost:3000`."),
        });
    }
    Ok(value.trim_end_matches('.').to_owned())
}

/// The registrable domain (eTLD+1) of a host, for non-secondary production domains: `www.example.com` →
/// `example.com`, `app.example.co.uk` → `example.co.uk`. Without a public-suffix list, two-letter country TLDs
/// with a common second-level label (`co`, `com`, `org`, `ac`…) count as a two-label suffix.
fn registrable_domain(host: &str) -> String {
    const SECOND_LEVEL: &[&str] =
        &["ac", "co", "com", "edu", "gob", "gov", "go", "ltd", "mil", "ne", "net", "or", "org", "plc", "sch"];
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let multi = n >= 3 && labels[n - 1].len() == 2 && SECOND_LEVEL.contains(&labels[n - 2]);
    let keep = if multi { 3 } else { 2 };
    labels[n.saturating_sub(keep)..].join(".")
}

/// A proxy URL: production only, `https`, normalized without a trailing slash.
fn proxy_url(instance: &Instance, value: &str) -> Result<String> {
    if instance.environment == Environment::Development {
        return Err(Error::param_value_invalid("proxy_url", "proxy_url can only be set for production instances."));
    }
    let url = validate::web_url("proxy_url", value)?;
    if url.scheme() != "https" || url.query().is_some() {
        return Err(Error::param_format_invalid("proxy_url", "proxy_url must be an https URL without a query."));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The origin a development satellite's app is served from.
fn development_origin_for(name: &str) -> String {
    let host = name.rsplit_once(':').map_or(name, |(h, _)| h);
    let scheme = if validate::is_local_host(host) { "http" } else { "https" };
    format!("{scheme}://{name}")
}

/// Sets a production primary domain's name and the URLs and publishable key that follow from it.
async fn rename_production_primary(
    tx: &mut Tx,
    instance: &Instance,
    row: &mut DomainRow,
    name: String,
    now: i64,
) -> Result<()> {
    row.frontend_api_url = format!("https://clerk.{name}");
    row.accounts_portal_url = Some(format!("https://accounts.{name}"));
    let pk = publishable_key(instance.environment, &format!("clerk.{name}"));
    row.name = name;
    tessera_store::settings::set_publishable_key(tx, &instance.id, &pk, now).await?;
    Ok(())
}

/// Cached authenticated instances carry the publishable key; drop them after it changes. (Other server nodes
/// keep theirs until restart; only the publishable key can be stale there, never authentication.)
fn forget_cached_instances(ctx: &Ctx) {
    ctx.instance_auth_cache.write().unwrap_or_else(|p| p.into_inner()).clear();
}

/// `POST /domains` body. The spec does not forbid extra properties here, so unknown ones are ignored.
#[derive(Debug, Deserialize)]
pub struct NewDomain {
    /// Host name (with port in development).
    pub name: String,
    /// Must be `true`.
    pub is_satellite: bool,
    /// Production only.
    pub proxy_url: Option<String>,
}

fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(de: D) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// `PATCH /domains/{id}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainPatch {
    /// New name (`null`: unchanged).
    pub name: Option<String>,
    /// New proxy (`null`: back to DNS).
    #[serde(default, deserialize_with = "nullable")]
    pub proxy_url: Option<Option<String>>,
    /// Secondary app (`null`: unchanged).
    pub is_secondary: Option<bool>,
}

/// `POST /instance/change_domain` (and deprecated `PUT /beta_features/domain`) body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeDomain {
    /// New home URL, e.g. `https://www.example.com`.
    pub home_url: Option<String>,
    /// Keep the subdomain as part of the domain.
    pub is_secondary: Option<bool>,
}

/// All domains of the instance, primary first.
pub async fn list_domains(ctx: &Ctx, instance: &Instance) -> Result<Vec<Domain>> {
    let rows = tessera_store::domains::list(&ctx.db, &instance.id).await?;
    Ok(rows.into_iter().map(|r| Domain::from_row(r, instance)).collect())
}

/// The instance's primary domain.
pub async fn primary_domain(ctx: &Ctx, instance: &Instance) -> Result<Domain> {
    let row =
        tessera_store::domains::primary(&ctx.db, &instance.id).await?.ok_or_else(|| Error::not_found("domain"))?;
    Ok(Domain::from_row(row, instance))
}

/// Where the application lives, when Tessera knows it: the development origin clerk-js last reported
/// (development), or the primary domain (production, once it is not the Frontend API host itself).
pub fn application_url(instance: &Instance, primary: &Domain) -> Option<String> {
    match instance.environment {
        Environment::Development if !primary.development_origin.is_empty() => Some(primary.development_origin.clone()),
        Environment::Production if !primary.name.eq_ignore_ascii_case(&instance.frontend_host()) => {
            Some(format!("https://{}", primary.name))
        }
        _ => None,
    }
}

/// `POST /domains`: adds a satellite domain.
pub async fn add_domain(ctx: &Ctx, instance: &Instance, input: NewDomain) -> Result<Domain> {
    if !input.is_satellite {
        return Err(Error::param_value_invalid(
            "is_satellite",
            "An instance has exactly one primary domain: is_satellite must be true.",
        ));
    }
    let name = domain_name(instance.environment, "name", &input.name)?;
    let proxy = input.proxy_url.as_deref().map(|p| proxy_url(instance, p)).transpose()?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let (frontend_api_url, development_origin) = match instance.environment {
        Environment::Production => (format!("https://clerk.{name}"), String::new()),
        Environment::Development => {
            let primary = tessera_store::domains::primary_tx(&mut tx, &instance.id)
                .await?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("instance {} has no primary domain", instance.id)))?;
            (primary.frontend_api_url, development_origin_for(&name))
        }
    };
    let row = DomainRow {
        id: new_id("dmn"),
        instance_id: instance.id.clone(),
        name,
        is_satellite: true,
        is_primary: false,
        is_secondary: false,
        frontend_api_url,
        accounts_portal_url: None,
        proxy_url: proxy,
        development_origin,
        created_at: now,
        updated_at: now,
    };
    tessera_store::domains::insert(&mut tx, &row).await.on_unique(|| Error::identifier_exists("name"))?;
    tx.commit().await?;
    Ok(Domain::from_row(row, instance))
}

/// `PATCH /domains/{id}`: renames a domain, sets or removes its proxy, marks it secondary.
pub async fn update_domain(ctx: &Ctx, instance: &Instance, id: &str, patch: DomainPatch) -> Result<Domain> {
    let name = patch.name.as_deref().map(|n| domain_name(instance.environment, "name", n)).transpose()?;
    let proxy = match patch.proxy_url {
        Some(Some(p)) => Some(Some(proxy_url(instance, &p)?)),
        other => other,
    };
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    // The instance row lock orders this against other changes of the primary domain and publishable key.
    tessera_store::settings::lock_instance(&mut tx, &instance.id, now).await?;
    let mut row =
        tessera_store::domains::get_tx(&mut tx, &instance.id, id).await?.ok_or_else(|| Error::not_found("domain"))?;
    let mut key_changed = false;
    if let Some(name) = name.filter(|n| *n != row.name) {
        match (instance.environment, row.is_primary) {
            (Environment::Production, true) => {
                rename_production_primary(&mut tx, instance, &mut row, name, now).await?;
                key_changed = true;
            }
            (Environment::Production, false) => {
                row.frontend_api_url = format!("https://clerk.{name}");
                row.name = name;
            }
            // The development Frontend API host is assigned to the instance and does not follow the name.
            (Environment::Development, true) => row.name = name,
            (Environment::Development, false) => {
                row.development_origin = development_origin_for(&name);
                row.name = name;
            }
        }
    }
    if let Some(proxy) = proxy {
        row.proxy_url = proxy;
    }
    if let Some(secondary) = patch.is_secondary {
        row.is_secondary = secondary;
    }
    row.updated_at = now;
    tessera_store::domains::update(&mut tx, &row).await.on_unique(|| Error::identifier_exists("name"))?;
    tx.commit().await?;
    if key_changed {
        forget_cached_instances(ctx);
    }
    Ok(Domain::from_row(row, instance))
}

/// `DELETE /domains/{id}`: deletes a satellite; the primary domain cannot be deleted (403).
pub async fn delete_domain(ctx: &Ctx, instance: &Instance, id: &str) -> Result<String> {
    let mut tx = ctx.db.begin().await?;
    let row =
        tessera_store::domains::get_tx(&mut tx, &instance.id, id).await?.ok_or_else(|| Error::not_found("domain"))?;
    if row.is_primary {
        return Err(Error::new(ErrorCode::PrimaryDomainCannotBeDeleted));
    }
    tessera_store::domains::delete(&mut tx, &instance.id, id).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// `POST /instance/change_domain`: moves a production instance to a new home URL. The primary domain becomes
/// the URL's registrable domain (or the full host for a secondary app); Frontend API, Account Portal and the
/// publishable key follow. Development instances keep their Clerk-assigned domain (400).
pub async fn change_production_domain(ctx: &Ctx, instance: &Instance, input: ChangeDomain) -> Result<()> {
    if instance.environment != Environment::Production {
        return Err(Error::new(ErrorCode::ProductionInstanceRequired));
    }
    let home_url = input.home_url.filter(|u| !u.trim().is_empty()).ok_or_else(|| Error::param_missing("home_url"))?;
    let url = validate::web_url("home_url", &home_url)?;
    if url.port().is_some() {
        return Err(Error::param_format_invalid(
            "home_url",
            "home_url cannot contain a port for production instances.",
        ));
    }
    let host = domain_name(Environment::Production, "home_url", url.host_str().unwrap_or_default())?;
    let is_secondary = input.is_secondary.unwrap_or(false);
    let name = if is_secondary { host } else { registrable_domain(&host) };
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    tessera_store::settings::lock_instance(&mut tx, &instance.id, now).await?;
    let mut row = tessera_store::domains::primary_tx(&mut tx, &instance.id)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("instance {} has no primary domain", instance.id)))?;
    rename_production_primary(&mut tx, instance, &mut row, name, now).await?;
    row.is_secondary = is_secondary;
    row.updated_at = now;
    tessera_store::domains::update(&mut tx, &row).await.on_unique(|| Error::identifier_exists("home_url"))?;
    tx.commit().await?;
    crate::instances::forget_frontend_hosts(ctx);
    forget_cached_instances(ctx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_environment() {
        let dev = Environment::Development;
        let prod = Environment::Production;
        assert_eq!(domain_name(dev, "n", "localhost:3000").unwrap(), "localhost:3000");
        assert_eq!(domain_name(prod, "n", "Example.COM").unwrap(), "example.com");
        assert!(domain_name(prod, "n", "localhost").is_err());
        assert!(domain_name(prod, "n", "example.com:443").is_err());
        assert!(domain_name(prod, "n", "https://example.com").is_err());
        assert!(domain_name(dev, "n", "localhost:0").is_err());
        assert!(domain_name(prod, "n", "exa_mple.com").is_err());
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("www.example.com"), "example.com");
        assert_eq!(registrable_domain("example.com"), "example.com");
        assert_eq!(registrable_domain("app.shop.example.co.uk"), "example.co.uk");
        assert_eq!(development_origin_for("localhost:3001"), "http://localhost:3001");
        assert_eq!(development_origin_for("dev.example.com"), "https://dev.example.com");
    }
}
