//! Organization domains with their affiliation and ownership verification state. A name belongs to one
//! organization of the instance at most (unique index).
//!
//! The list SQL is assembled from fixed fragments only; caller values travel as bound parameters.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organization_domains`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct OrganizationDomainRow {
    /// `orgdmn_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The organization.
    pub organization_id: String,
    /// Lower-cased domain name.
    pub name: String,
    /// `manual_invitation`, `automatic_invitation`, `automatic_suggestion` or `enterprise_sso`.
    pub enrollment_mode: String,
    /// Affiliation verification status (`None`: never attempted).
    pub verification_status: Option<String>,
    /// Affiliation verification strategy.
    pub verification_strategy: Option<String>,
    /// The address an affiliation was verified with.
    pub affiliation_email_address: Option<String>,
    /// Affiliation verification attempts.
    pub verification_attempts: Option<i64>,
    /// Affiliation verification expiry, Unix ms.
    pub verification_expire_at: Option<i64>,
    /// Ownership verification status (`None`: never attempted).
    pub ownership_status: Option<String>,
    /// Ownership verification strategy.
    pub ownership_strategy: Option<String>,
    /// When ownership was verified, Unix ms.
    pub ownership_verified_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, organization_id, name, enrollment_mode, verification_status, \
    verification_strategy, affiliation_email_address, verification_attempts, verification_expire_at, \
    ownership_status, ownership_strategy, ownership_verified_at, created_at, updated_at";

/// Filters of the domain lists; empty vectors and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct DomainFilter {
    /// Only this organization.
    pub organization_id: Option<String>,
    /// Affiliation verified (`Some(true)`) or not.
    pub verified: Option<bool>,
    /// Enrollment modes to include.
    pub modes: Vec<String>,
    /// Enrollment modes to exclude.
    pub excluded_modes: Vec<String>,
    /// Part of the (lower-cased) name.
    pub name_query: Option<String>,
    /// Exact names.
    pub names: Vec<String>,
    /// Sort by name instead of the creation time.
    pub order_by_name: bool,
    /// Descending order.
    pub descending: bool,
}

fn push(binds: &mut Vec<String>, value: String) -> String {
    binds.push(value);
    format!("${}", binds.len())
}

fn push_all(binds: &mut Vec<String>, values: &[String]) -> String {
    values.iter().map(|v| push(binds, v.clone())).collect::<Vec<_>>().join(", ")
}

fn where_clause(instance_id: &str, f: &DomainFilter) -> (String, Vec<String>) {
    let mut binds = vec![instance_id.to_owned()];
    let mut sql = String::from("instance_id = $1");
    if let Some(org) = &f.organization_id {
        let p = push(&mut binds, org.clone());
        sql.push_str(&format!(" AND organization_id = {p}"));
    }
    match f.verified {
        Some(true) => sql.push_str(" AND verification_status = 'verified'"),
        Some(false) => sql.push_str(" AND (verification_status IS NULL OR verification_status <> 'verified')"),
        None => {}
    }
    if !f.modes.is_empty() {
        let list = push_all(&mut binds, &f.modes);
        sql.push_str(&format!(" AND enrollment_mode IN ({list})"));
    }
    if !f.excluded_modes.is_empty() {
        let list = push_all(&mut binds, &f.excluded_modes);
        sql.push_str(&format!(" AND enrollment_mode NOT IN ({list})"));
    }
    if let Some(q) = &f.name_query {
        let p = push(&mut binds, crate::organizations::like_pattern(q));
        sql.push_str(&format!(" AND name LIKE {p} ESCAPE '\\'"));
    }
    if !f.names.is_empty() {
        let list = push_all(&mut binds, &f.names);
        sql.push_str(&format!(" AND name IN ({list})"));
    }
    (sql, binds)
}

/// A filtered, ordered page of domains and the total matching.
pub async fn list(
    db: &Db,
    instance_id: &str,
    f: &DomainFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<OrganizationDomainRow>, i64)> {
    let (cond, binds) = where_clause(instance_id, f);
    let dir = if f.descending { "DESC" } else { "ASC" };
    let order = if f.order_by_name { format!("name {dir}, id {dir}") } else { format!("created_at {dir}, id {dir}") };
    let n = binds.len();
    let select = format!(
        "SELECT {COLUMNS} FROM organization_domains WHERE {cond} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM organization_domains WHERE {cond}");
    crate::db::read_page(db, &select, &count, &binds, limit, offset).await
}

/// Inserts a domain. A unique violation means the name is taken in the instance.
pub async fn insert(tx: &mut Tx, d: &OrganizationDomainRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_domains (id, instance_id, organization_id, name, enrollment_mode, \
             verification_status, verification_strategy, affiliation_email_address, verification_attempts, \
             verification_expire_at, ownership_status, ownership_strategy, ownership_verified_at, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        )
        .bind(&d.id)
        .bind(&d.instance_id)
        .bind(&d.organization_id)
        .bind(&d.name)
        .bind(&d.enrollment_mode)
        .bind(&d.verification_status)
        .bind(&d.verification_strategy)
        .bind(&d.affiliation_email_address)
        .bind(d.verification_attempts)
        .bind(d.verification_expire_at)
        .bind(&d.ownership_status)
        .bind(&d.ownership_strategy)
        .bind(d.ownership_verified_at)
        .bind(d.created_at)
        .bind(d.updated_at)
    )?;
    Ok(())
}

/// Writes a domain's mutable state (enrollment mode, both verifications).
pub async fn update(tx: &mut Tx, d: &OrganizationDomainRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_domains SET enrollment_mode = $1, verification_status = $2, \
             verification_strategy = $3, affiliation_email_address = $4, verification_attempts = $5, \
             verification_expire_at = $6, ownership_status = $7, ownership_strategy = $8, \
             ownership_verified_at = $9, updated_at = $10 WHERE instance_id = $11 AND id = $12"
        )
        .bind(&d.enrollment_mode)
        .bind(&d.verification_status)
        .bind(&d.verification_strategy)
        .bind(&d.affiliation_email_address)
        .bind(d.verification_attempts)
        .bind(d.verification_expire_at)
        .bind(&d.ownership_status)
        .bind(&d.ownership_strategy)
        .bind(d.ownership_verified_at)
        .bind(d.updated_at)
        .bind(&d.instance_id)
        .bind(&d.id)
    )
}

/// Deletes a domain.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_domains WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// One domain of an organization.
pub async fn get(
    db: &Db,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> StoreResult<Option<OrganizationDomainRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_domains WHERE instance_id = $1 AND organization_id = $2 AND id = $3"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, OrganizationDomainRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(organization_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One domain of an organization, locked for update.
pub async fn lock(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> StoreResult<Option<OrganizationDomainRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_domains WHERE instance_id = $1 AND organization_id = $2 AND id = $3{suffix}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OrganizationDomainRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(organization_id)
            .bind(id)
    )
}

/// Number of domains of an organization (inside the transaction that locked the organization).
pub async fn count_tx(tx: &mut Tx, instance_id: &str, organization_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM organization_domains WHERE instance_id = $1 AND organization_id = $2"
        )
        .bind(instance_id)
        .bind(organization_id)
    )
}

/// The instance's affiliation-verified domains with one of these names, inside a write transaction (an enterprise
/// connection being enabled for the same names removes them).
pub async fn verified_by_names_tx(
    tx: &mut Tx,
    instance_id: &str,
    names: &[String],
) -> StoreResult<Vec<OrganizationDomainRow>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let list = (0..names.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_domains WHERE instance_id = $1 AND verification_status = 'verified' \
         AND name IN ({list}) ORDER BY created_at, id"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, OrganizationDomainRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind_all(names)
    )
}

/// Records the digest of the affiliation code sent for a domain (0024), replacing any earlier one.
pub async fn set_affiliation_code(tx: &mut Tx, instance_id: &str, id: &str, digest: &[u8]) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE organization_domains SET affiliation_code_digest = $1 WHERE instance_id = $2 AND id = $3")
            .bind(digest)
            .bind(instance_id)
            .bind(id)
    )
}

/// The digest of the affiliation code last sent for a domain, if any.
pub async fn affiliation_code(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<Vec<u8>>> {
    let row: Option<Option<Vec<u8>>> = fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar(
            "SELECT affiliation_code_digest FROM organization_domains WHERE instance_id = $1 AND id = $2"
        )
        .bind(instance_id)
        .bind(id)
    )?;
    Ok(row.flatten())
}
