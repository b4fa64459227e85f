//! Enterprise SSO sign-ins (0039): the SAML requests Tessera sent, the assertions it consumed (replay refusal) and
//! the users' enterprise accounts.

use crate::db::FromSqliteRow;
use crate::dialect::{Dialect, json_bool};
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `saml_requests`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct SamlRequestRow {
    /// The AuthnRequest `ID` (`_` + random hex).
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The enterprise connection (`ec_…`).
    pub connection_id: String,
    /// The sign-in it continues.
    pub sign_in_id: String,
    /// The sign-in's client.
    pub client_id: String,
    /// The ACS URL the request named.
    pub acs_url: String,
    /// The IdP URL the browser is sent to.
    pub external_url: String,
    /// Where the browser returns after the ACS (clerk-js's `sso-callback`).
    pub redirect_url: String,
    /// clerk-js's `redirectUrlComplete`.
    pub action_complete_redirect_url: Option<String>,
    /// The connection test run it was made for (then it continues no sign-in: its sign-in, client and redirect
    /// URL are empty).
    pub test_run_id: Option<String>,
    /// The sign-up attempt it continues (then its sign-in is empty; 0045).
    pub sign_up_id: Option<String>,
    /// When a response to it was accepted.
    pub used_at: Option<i64>,
    /// Unix ms after which no response is accepted.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
}

const REQUEST_COLUMNS: &str = "id, instance_id, connection_id, sign_in_id, client_id, acs_url, external_url, \
    redirect_url, action_complete_redirect_url, test_run_id, sign_up_id, used_at, expires_at, created_at";

/// Inserts a request.
pub async fn insert_request(tx: &mut Tx, r: &SamlRequestRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO saml_requests (id, instance_id, connection_id, sign_in_id, client_id, acs_url, external_url, \
             redirect_url, action_complete_redirect_url, test_run_id, sign_up_id, used_at, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.connection_id)
        .bind(&r.sign_in_id)
        .bind(&r.client_id)
        .bind(&r.acs_url)
        .bind(&r.external_url)
        .bind(&r.redirect_url)
        .bind(&r.action_complete_redirect_url)
        .bind(&r.test_run_id)
        .bind(&r.sign_up_id)
        .bind(r.used_at)
        .bind(r.expires_at)
        .bind(r.created_at)
    )?;
    Ok(())
}

/// The latest request of a sign-in.
pub async fn latest_request(db: &Db, instance_id: &str, sign_in_id: &str) -> StoreResult<Option<SamlRequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM saml_requests WHERE instance_id = $1 AND sign_in_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, SamlRequestRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(sign_in_id)
        .fetch_optional(c)
        .await)?)
}

/// Marks an unused request of a connection used, inside the caller's transaction; `None` when there is no such
/// request or it was used already (two responses to one request: only one wins).
pub async fn take_request(
    tx: &mut Tx,
    instance_id: &str,
    connection_id: &str,
    id: &str,
    now: i64,
) -> StoreResult<Option<SamlRequestRow>> {
    let n = exec_tx!(
        tx,
        sqlx::query(
            "UPDATE saml_requests SET used_at = $1 WHERE instance_id = $2 AND connection_id = $3 AND id = $4 \
             AND used_at IS NULL"
        )
        .bind(now)
        .bind(instance_id)
        .bind(connection_id)
        .bind(id)
    )?;
    if n == 0 {
        return Ok(None);
    }
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM saml_requests WHERE instance_id = $1 AND id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, SamlRequestRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// Records a consumed assertion id; a unique violation means it was consumed before (a replay). Expired records
/// of the connection are removed first.
pub async fn consume_assertion(
    tx: &mut Tx,
    instance_id: &str,
    connection_id: &str,
    assertion_id: &str,
    expires_at: i64,
    now: i64,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM saml_assertions WHERE instance_id = $1 AND connection_id = $2 AND expires_at < $3")
            .bind(instance_id)
            .bind(connection_id)
            .bind(now)
    )?;
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO saml_assertions (instance_id, connection_id, assertion_id, expires_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(instance_id)
        .bind(connection_id)
        .bind(assertion_id)
        .bind(expires_at)
    )?;
    Ok(())
}

/// The connection (`ec_…`) a domain routes to, with whether subdomains of it match too.
pub async fn connection_for_domain(db: &Db, instance_id: &str, domain: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT connection_id FROM enterprise_connection_domains WHERE instance_id = $1 AND domain = $2"
    )
    .bind(instance_id)
    .bind(domain)
    .fetch_optional(c)
    .await)?)
}

/// A row of `enterprise_accounts`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct EnterpriseAccountRow {
    /// `eac_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The user.
    pub user_id: String,
    /// The enterprise connection.
    pub connection_id: String,
    /// The subject at the IdP.
    pub provider_user_id: String,
    /// E-mail address the IdP asserted.
    pub email_address: String,
    /// First name the IdP asserted.
    pub first_name: Option<String>,
    /// Last name the IdP asserted.
    pub last_name: Option<String>,
    /// JSON object (custom attributes).
    pub public_metadata: String,
    /// Unix ms of the last sign-in through it.
    pub last_authenticated_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const ACCOUNT_COLUMNS: &str = "id, instance_id, user_id, connection_id, provider_user_id, email_address, first_name, \
    last_name, public_metadata, last_authenticated_at, created_at, updated_at";

/// The account of a subject at a connection, read inside a write transaction.
pub async fn account_by_subject_tx(
    tx: &mut Tx,
    instance_id: &str,
    connection_id: &str,
    subject: &str,
) -> StoreResult<Option<EnterpriseAccountRow>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM enterprise_accounts WHERE instance_id = $1 AND connection_id = $2 \
         AND provider_user_id = $3"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, EnterpriseAccountRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(connection_id)
            .bind(subject)
    )
}

/// Inserts or rewrites an account (by id).
pub async fn upsert_account(tx: &mut Tx, r: &EnterpriseAccountRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO enterprise_accounts (id, instance_id, user_id, connection_id, provider_user_id, \
             email_address, first_name, last_name, public_metadata, last_authenticated_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO UPDATE SET email_address = $6, first_name = $7, last_name = $8, \
             public_metadata = $9, last_authenticated_at = $10, updated_at = $12"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.user_id)
        .bind(&r.connection_id)
        .bind(&r.provider_user_id)
        .bind(&r.email_address)
        .bind(&r.first_name)
        .bind(&r.last_name)
        .bind(&r.public_metadata)
        .bind(r.last_authenticated_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// The enterprise accounts of some users, oldest first.
pub async fn accounts_of_users(
    db: &Db,
    instance_id: &str,
    user_ids: &[String],
) -> StoreResult<Vec<EnterpriseAccountRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..user_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM enterprise_accounts WHERE instance_id = $1 AND user_id IN ({}) \
         ORDER BY created_at, id",
        placeholders.join(", ")
    );
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, EnterpriseAccountRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        for id in user_ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?)
}

impl UserEnterpriseAccount {
    /// The connection's domains, in their order.
    pub fn domains(&self) -> Vec<String> {
        let parsed;
        let v = match &self.connection_domains {
            serde_json::Value::String(text) => {
                parsed = serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
                &parsed
            }
            v => v,
        };
        v.as_array().map(|a| a.iter().filter_map(|d| d.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    }
}

/// An enterprise account as the user object shows it: the account and its connection (decoded from the JSON
/// array of [`crate::users::UserWithIdentifications`]).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct UserEnterpriseAccount {
    /// `eac_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The user.
    pub user_id: String,
    /// The connection (`ec_…`).
    pub connection_id: String,
    /// The subject at the IdP.
    pub provider_user_id: String,
    /// E-mail address.
    pub email_address: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// JSON object text.
    pub public_metadata: String,
    /// Unix ms.
    pub last_authenticated_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// The connection's provider.
    pub connection_provider: String,
    /// The connection's name.
    pub connection_name: String,
    /// The connection's `samlc_…` id (SAML connections).
    pub connection_saml_id: Option<String>,
    /// The connection is active.
    #[serde(deserialize_with = "json_bool")]
    pub connection_active: bool,
    /// Flag of the connection.
    #[serde(deserialize_with = "json_bool")]
    pub connection_sync_user_attributes: bool,
    /// Flag of the connection.
    #[serde(deserialize_with = "json_bool")]
    pub connection_allow_subdomains: bool,
    /// Flag of the connection.
    #[serde(deserialize_with = "json_bool")]
    pub connection_allow_idp_initiated: bool,
    /// Flag of the connection.
    #[serde(deserialize_with = "json_bool")]
    pub connection_disable_additional_identifications: bool,
    /// The connection's domains: a JSON array, or its text (SQLite may hand a nested aggregate over as text).
    #[serde(default)]
    pub connection_domains: serde_json::Value,
    /// Unix ms.
    pub connection_created_at: i64,
    /// Unix ms.
    pub connection_updated_at: i64,
}

/// A scalar subquery for users aliased `u`: the JSON array (text, `[]` when none) of their enterprise accounts
/// with their connections' fields ([`UserEnterpriseAccount`]), driven by the `(instance_id, user_id, …)` index.
pub fn user_accounts_json(dialect: Dialect) -> String {
    let object = account_object(dialect);
    let from = "FROM enterprise_accounts a JOIN enterprise_connections c ON c.id = a.connection_id \
                WHERE a.instance_id = u.instance_id AND a.user_id = u.id";
    match dialect {
        Dialect::Sqlite => format!("(SELECT json_group_array({object} ORDER BY a.created_at, a.id) {from})"),
        Dialect::Postgres => {
            format!("(SELECT COALESCE(json_agg({object} ORDER BY a.created_at, a.id), '[]'::json)::text {from})")
        }
    }
}

/// One enterprise account `a` with its connection `c` as a JSON object ([`UserEnterpriseAccount`]).
fn account_object(dialect: Dialect) -> String {
    let fields = [
        ("id", "a.id"),
        ("instance_id", "a.instance_id"),
        ("user_id", "a.user_id"),
        ("connection_id", "a.connection_id"),
        ("provider_user_id", "a.provider_user_id"),
        ("email_address", "a.email_address"),
        ("first_name", "a.first_name"),
        ("last_name", "a.last_name"),
        ("public_metadata", "a.public_metadata"),
        ("last_authenticated_at", "a.last_authenticated_at"),
        ("created_at", "a.created_at"),
        ("updated_at", "a.updated_at"),
        ("connection_provider", "c.provider"),
        ("connection_name", "c.name"),
        ("connection_saml_id", "c.saml_connection_id"),
        ("connection_active", "c.active"),
        ("connection_sync_user_attributes", "c.sync_user_attributes"),
        ("connection_allow_subdomains", "c.allow_subdomains"),
        ("connection_allow_idp_initiated", "c.allow_idp_initiated"),
        ("connection_disable_additional_identifications", "c.disable_additional_identifications"),
        ("connection_created_at", "c.created_at"),
        ("connection_updated_at", "c.updated_at"),
    ];
    let pairs = fields.iter().map(|(k, v)| format!("'{k}', {v}")).collect::<Vec<_>>().join(", ");
    match dialect {
        Dialect::Sqlite => format!(
            "json_object({pairs}, 'connection_domains', (SELECT json_group_array(domain) FROM (SELECT domain FROM \
             enterprise_connection_domains WHERE connection_id = c.id ORDER BY position)))"
        ),
        Dialect::Postgres => format!(
            "json_build_object({pairs}, 'connection_domains', (SELECT COALESCE(json_agg(d.domain ORDER BY \
             d.position), '[]'::json)::text FROM enterprise_connection_domains d WHERE d.connection_id = c.id))"
        ),
    }
}

/// The enterprise accounts of the users `?2…` of instance `?1` (SQLite), as `(user_id, JSON object)` rows in the
/// order [`user_accounts_json`] aggregates them.
pub(crate) fn sqlite_user_accounts(users: usize) -> String {
    format!(
        "SELECT a.user_id, {} FROM enterprise_accounts a JOIN enterprise_connections c ON c.id = a.connection_id \
         WHERE a.instance_id = ?1 AND a.user_id IN ({}) ORDER BY a.created_at, a.id",
        account_object(Dialect::Sqlite),
        crate::direct_reads::placeholders(2, users)
    )
}
