//! Enterprise connections (0033): one row per SAML or OIDC connection, its domains in their own table (a domain
//! belongs to one connection of the instance at most). The deprecated SAML-connections API reads the same rows by
//! `saml_connection_id`.
//!
//! The list SQL is assembled from fixed fragments only; caller values travel as bound parameters.

use std::collections::HashMap;

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `enterprise_connections`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct EnterpriseConnectionRow {
    /// `ec_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// `saml_custom`, `saml_okta`, …, `oidc_custom`, …
    pub provider: String,
    /// Whether sign-ins may use it.
    pub active: bool,
    /// The linked organization.
    pub organization_id: Option<String>,
    /// Refresh the user's attributes on each sign-in.
    pub sync_user_attributes: bool,
    /// Users of this connection cannot add other identifications.
    pub disable_additional_identifications: bool,
    /// Account linking through organization membership.
    pub allow_organization_account_linking: bool,
    /// Unknown users are refused instead of created.
    pub disable_jit_provisioning: bool,
    /// Whether the connection signs users in (as opposed to provisioning only).
    pub authenticatable: bool,
    /// JSON array of custom attributes.
    pub custom_attributes: String,
    /// `samlc_…` for SAML providers.
    pub saml_connection_id: Option<String>,
    /// IdP entity id.
    pub idp_entity_id: Option<String>,
    /// IdP single-sign-on URL.
    pub idp_sso_url: Option<String>,
    /// IdP signing certificate, PEM.
    pub idp_certificate: Option<String>,
    /// Certificate NotBefore, Unix ms.
    pub idp_certificate_issued_at: Option<i64>,
    /// Certificate NotAfter, Unix ms.
    pub idp_certificate_expires_at: Option<i64>,
    /// Where the IdP metadata was fetched from.
    pub idp_metadata_url: Option<String>,
    /// The IdP metadata XML.
    pub idp_metadata: Option<String>,
    /// JSON `{user_id, email_address, first_name, last_name}`.
    pub attribute_mapping: String,
    /// E-mail subdomains match too.
    pub allow_subdomains: bool,
    /// IdP-initiated sign-ins accepted.
    pub allow_idp_initiated: bool,
    /// ForceAuthn in requests.
    pub force_authn: bool,
    /// `email_address`, `custom_attribute` or `off`.
    pub login_hint_mode: String,
    /// Metadata key for `custom_attribute`.
    pub login_hint_source: Option<String>,
    /// `oac_…` for OIDC providers.
    pub oauth_config_id: Option<String>,
    /// OIDC client id.
    pub oidc_client_id: Option<String>,
    /// OIDC client secret, sealed.
    pub oidc_client_secret: Option<Vec<u8>>,
    /// OIDC discovery URL.
    pub oidc_discovery_url: Option<String>,
    /// OIDC authorization endpoint.
    pub oidc_auth_url: Option<String>,
    /// OIDC token endpoint.
    pub oidc_token_url: Option<String>,
    /// OIDC userinfo endpoint.
    pub oidc_user_info_url: Option<String>,
    /// PKCE required.
    pub oidc_requires_pkce: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, name, provider, active, organization_id, sync_user_attributes, \
    disable_additional_identifications, allow_organization_account_linking, disable_jit_provisioning, \
    authenticatable, custom_attributes, saml_connection_id, idp_entity_id, idp_sso_url, idp_certificate, \
    idp_certificate_issued_at, idp_certificate_expires_at, idp_metadata_url, idp_metadata, attribute_mapping, \
    allow_subdomains, allow_idp_initiated, force_authn, login_hint_mode, login_hint_source, oauth_config_id, \
    oidc_client_id, oidc_client_secret, oidc_discovery_url, oidc_auth_url, oidc_token_url, oidc_user_info_url, \
    oidc_requires_pkce, created_at, updated_at";

/// Executes `sql` in `tx` with every column of `r` bound in [`COLUMNS`] order (`$1` the id, `$2` the instance).
macro_rules! exec_with_columns {
    ($tx:expr, $sql:expr, $r:expr) => {
        exec_tx!(
            $tx,
            sqlx::query($sql)
                .bind(&$r.id)
                .bind(&$r.instance_id)
                .bind(&$r.name)
                .bind(&$r.provider)
                .bind($r.active)
                .bind(&$r.organization_id)
                .bind($r.sync_user_attributes)
                .bind($r.disable_additional_identifications)
                .bind($r.allow_organization_account_linking)
                .bind($r.disable_jit_provisioning)
                .bind($r.authenticatable)
                .bind(&$r.custom_attributes)
                .bind(&$r.saml_connection_id)
                .bind(&$r.idp_entity_id)
                .bind(&$r.idp_sso_url)
                .bind(&$r.idp_certificate)
                .bind($r.idp_certificate_issued_at)
                .bind($r.idp_certificate_expires_at)
                .bind(&$r.idp_metadata_url)
                .bind(&$r.idp_metadata)
                .bind(&$r.attribute_mapping)
                .bind($r.allow_subdomains)
                .bind($r.allow_idp_initiated)
                .bind($r.force_authn)
                .bind(&$r.login_hint_mode)
                .bind(&$r.login_hint_source)
                .bind(&$r.oauth_config_id)
                .bind(&$r.oidc_client_id)
                .bind(&$r.oidc_client_secret)
                .bind(&$r.oidc_discovery_url)
                .bind(&$r.oidc_auth_url)
                .bind(&$r.oidc_token_url)
                .bind(&$r.oidc_user_info_url)
                .bind($r.oidc_requires_pkce)
                .bind($r.created_at)
                .bind($r.updated_at)
        )
    };
}

/// Inserts a connection (its domains separately, with [`set_domains`]).
pub async fn insert(tx: &mut Tx, r: &EnterpriseConnectionRow) -> StoreResult<()> {
    let placeholders = (1..=36).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO enterprise_connections ({COLUMNS}) VALUES ({placeholders})");
    exec_with_columns!(tx, sqlx::AssertSqlSafe(sql), r)?;
    Ok(())
}

/// Writes every mutable column of a connection.
pub async fn update(tx: &mut Tx, r: &EnterpriseConnectionRow) -> StoreResult<u64> {
    let sets = COLUMNS
        .split(", ")
        .skip(2)
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE enterprise_connections SET {sets} WHERE id = $1 AND instance_id = $2");
    Ok(exec_with_columns!(tx, sqlx::AssertSqlSafe(sql), r)?)
}

/// Deletes a connection (its domains go with it).
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM enterprise_connections WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// Which id a lookup uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The enterprise connection id (`ec_…`).
    Id,
    /// The SAML connection id (`samlc_…`).
    SamlId,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Id => "id",
            By::SamlId => "saml_connection_id",
        }
    }
}

/// One connection of the instance.
pub async fn get(db: &Db, instance_id: &str, by: By, id: &str) -> StoreResult<Option<EnterpriseConnectionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM enterprise_connections WHERE instance_id = $1 AND {} = $2", by.column());
    Ok(on_read!(db, |c| sqlx::query_as::<_, EnterpriseConnectionRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One connection of the instance, read inside a write transaction (locked on PostgreSQL).
pub async fn lock(tx: &mut Tx, instance_id: &str, by: By, id: &str) -> StoreResult<Option<EnterpriseConnectionRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM enterprise_connections WHERE instance_id = $1 AND {} = $2{suffix}", by.column());
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, EnterpriseConnectionRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// Filters of the connection lists; `None` and empty vectors do not filter.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    /// SAML providers only (the deprecated SAML API).
    pub saml_only: bool,
    /// Linked to one of these organizations.
    pub organization_ids: Vec<String>,
    /// Not linked to any of these organizations.
    pub excluded_organization_ids: Vec<String>,
    /// Active or not.
    pub active: Option<bool>,
    /// LIKE pattern on the lower-cased name (already escaped).
    pub name_like: Option<String>,
    /// Sort by name instead of creation time.
    pub order_by_name: bool,
    /// Descending order.
    pub descending: bool,
}

/// A filtered, ordered page of connections and the total matching.
pub async fn list(
    db: &Db,
    instance_id: &str,
    f: &ConnectionFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<EnterpriseConnectionRow>, i64)> {
    let mut binds = vec![instance_id.to_owned()];
    let mut cond = String::from("instance_id = $1");
    let push = |binds: &mut Vec<String>, v: &str| {
        binds.push(v.to_owned());
        format!("${}", binds.len())
    };
    if f.saml_only {
        cond.push_str(" AND saml_connection_id IS NOT NULL");
    }
    if !f.organization_ids.is_empty() {
        let list = f.organization_ids.iter().map(|o| push(&mut binds, o)).collect::<Vec<_>>().join(", ");
        cond.push_str(&format!(" AND organization_id IN ({list})"));
    }
    if !f.excluded_organization_ids.is_empty() {
        let list = f.excluded_organization_ids.iter().map(|o| push(&mut binds, o)).collect::<Vec<_>>().join(", ");
        cond.push_str(&format!(" AND (organization_id IS NULL OR organization_id NOT IN ({list}))"));
    }
    match f.active {
        Some(true) => cond.push_str(" AND active = TRUE"),
        Some(false) => cond.push_str(" AND active = FALSE"),
        None => {}
    }
    if let Some(like) = &f.name_like {
        let p = push(&mut binds, like);
        cond.push_str(&format!(" AND LOWER(name) LIKE {p} ESCAPE '\\'"));
    }
    let dir = if f.descending { "DESC" } else { "ASC" };
    let order = if f.order_by_name { format!("name {dir}, id {dir}") } else { format!("created_at {dir}, id {dir}") };
    let n = binds.len();
    let select = format!(
        "SELECT {COLUMNS} FROM enterprise_connections WHERE {cond} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM enterprise_connections WHERE {cond}");
    crate::db::read_page(db, &select, &count, &binds, limit, offset).await
}

/// Replaces a connection's domains. A unique violation means a domain belongs to another connection.
pub async fn set_domains(tx: &mut Tx, instance_id: &str, connection_id: &str, domains: &[String]) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM enterprise_connection_domains WHERE instance_id = $1 AND connection_id = $2")
            .bind(instance_id)
            .bind(connection_id)
    )?;
    for (i, d) in domains.iter().enumerate() {
        exec_tx!(
            tx,
            sqlx::query(
                "INSERT INTO enterprise_connection_domains (instance_id, connection_id, domain, position) \
                 VALUES ($1, $2, $3, $4)"
            )
            .bind(instance_id)
            .bind(connection_id)
            .bind(d)
            .bind(i as i64)
        )?;
    }
    Ok(())
}

/// The domains of these connections, in their order, by connection id.
pub async fn domains_of(db: &Db, instance_id: &str, ids: &[String]) -> StoreResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list = (0..ids.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT connection_id, domain FROM enterprise_connection_domains WHERE instance_id = $1 \
         AND connection_id IN ({list}) ORDER BY connection_id, position"
    );
    let rows: Vec<(String, String)> = on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        for id in ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(c).await
    })?;
    for (id, domain) in rows {
        out.entry(id).or_default().push(domain);
    }
    Ok(out)
}

/// The domains of one connection, read inside a write transaction.
pub async fn domains_tx(tx: &mut Tx, instance_id: &str, connection_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT domain FROM enterprise_connection_domains WHERE instance_id = $1 AND connection_id = $2 \
             ORDER BY position"
        )
        .bind(instance_id)
        .bind(connection_id)
    )
}
