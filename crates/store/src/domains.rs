//! Domains of an instance (the primary one is created with the instance).

use crate::{StoreResult, Tx, exec_tx};

/// A row of `domains`.
#[derive(Debug, Clone, sqlx::FromRow)]
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
