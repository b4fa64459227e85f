//! Domains of an instance: the primary one (created with the instance) and satellites.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `domains`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct DomainRow {
    /// Domain id.
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Host name, with port for development instances.
    pub name: String,
    /// Satellite domain.
    pub is_satellite: bool,
    /// The instance's primary domain (cannot be deleted).
    pub is_primary: bool,
    /// Secondary app on the same root domain.
    pub is_secondary: bool,
    /// Frontend API URL.
    pub frontend_api_url: String,
    /// Account portal URL (null for satellites).
    pub accounts_portal_url: Option<String>,
    /// Proxy URL.
    pub proxy_url: Option<String>,
    /// Development origin.
    pub development_origin: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// `SELECT <all columns> FROM domains ` followed by the rest of the statement, as one literal.
macro_rules! select_domains {
    ($rest:literal) => {
        concat!(
            "SELECT id, instance_id, name, is_satellite, is_primary, is_secondary, frontend_api_url, \
             accounts_portal_url, proxy_url, development_origin, created_at, updated_at FROM domains ",
            $rest
        )
    };
}

/// Inserts a domain.
pub async fn insert(tx: &mut Tx, row: &DomainRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO domains (id, instance_id, name, is_satellite, is_primary, is_secondary, frontend_api_url, \
             accounts_portal_url, proxy_url, development_origin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.name)
        .bind(row.is_satellite)
        .bind(row.is_primary)
        .bind(row.is_secondary)
        .bind(&row.frontend_api_url)
        .bind(&row.accounts_portal_url)
        .bind(&row.proxy_url)
        .bind(&row.development_origin)
        .bind(row.created_at)
        .bind(row.updated_at)
    )?;
    Ok(())
}

/// Rewrites every mutable column of a domain (matched by id and instance).
pub async fn update(tx: &mut Tx, row: &DomainRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE domains SET name = $3, is_satellite = $4, is_secondary = $5, frontend_api_url = $6, \
             accounts_portal_url = $7, proxy_url = $8, development_origin = $9, updated_at = $10 \
             WHERE id = $1 AND instance_id = $2"
        )
        .bind(&row.id)
        .bind(&row.instance_id)
        .bind(&row.name)
        .bind(row.is_satellite)
        .bind(row.is_secondary)
        .bind(&row.frontend_api_url)
        .bind(&row.accounts_portal_url)
        .bind(&row.proxy_url)
        .bind(&row.development_origin)
        .bind(row.updated_at)
    )
}

/// Deletes a domain; returns whether a row was deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<bool> {
    let n =
        exec_tx!(tx, sqlx::query("DELETE FROM domains WHERE id = $1 AND instance_id = $2").bind(id).bind(instance_id))?;
    Ok(n == 1)
}

/// The instance's domains: the primary first, then satellites oldest first.
pub async fn list(db: &Db, instance_id: &str) -> StoreResult<Vec<DomainRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, DomainRow>(select_domains!(
        "WHERE instance_id = $1 ORDER BY is_primary DESC, created_at, id"
    ))
    .bind(instance_id)
    .fetch_all(c)
    .await)?)
}

/// The instance's domains (primary first), read inside a transaction.
pub async fn list_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<DomainRow>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, DomainRow>(select_domains!(
            "WHERE instance_id = $1 ORDER BY is_primary DESC, created_at, id"
        ))
        .bind(instance_id)
    )
}

/// One domain of the instance, read inside a transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<DomainRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DomainRow>(select_domains!("WHERE id = $1 AND instance_id = $2"))
            .bind(id)
            .bind(instance_id)
    )
}

/// The instance's primary domain, read inside a transaction.
pub async fn primary_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Option<DomainRow>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DomainRow>(select_domains!(
            "WHERE instance_id = $1 AND is_primary ORDER BY created_at LIMIT 1"
        ))
        .bind(instance_id)
    )
}

/// The instance's primary domain.
pub async fn primary(db: &Db, instance_id: &str) -> StoreResult<Option<DomainRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, DomainRow>(select_domains!(
        "WHERE instance_id = $1 AND is_primary ORDER BY created_at LIMIT 1"
    ))
    .bind(instance_id)
    .fetch_optional(c)
    .await)?)
}
