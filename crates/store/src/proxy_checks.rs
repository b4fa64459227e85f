//! Proxy checks (0020): the last check of a proxy URL for a domain, one row per (domain, proxy URL).

use crate::db::FromSqliteRow;
use crate::{StoreResult, Tx, fetch_tx};

/// A row of `proxy_checks`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct ProxyCheckRow {
    /// `proxchk_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The checked domain.
    pub domain_id: String,
    /// The checked proxy URL.
    pub proxy_url: String,
    /// Whether the last run reached a healthy Frontend API through the proxy.
    pub successful: bool,
    /// Unix ms of the last run.
    pub last_run_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Records a run: inserts the (domain, proxy URL) record, or updates its outcome and `last_run_at`; returns the
/// stored row (with the original id and `created_at` when it already existed).
pub async fn upsert(tx: &mut Tx, r: &ProxyCheckRow) -> StoreResult<ProxyCheckRow> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_as::<_, ProxyCheckRow>(
            "INSERT INTO proxy_checks (id, instance_id, domain_id, proxy_url, successful, last_run_at, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (instance_id, domain_id, proxy_url) DO UPDATE SET successful = excluded.successful, \
             last_run_at = excluded.last_run_at, updated_at = excluded.updated_at \
             RETURNING id, instance_id, domain_id, proxy_url, successful, last_run_at, created_at, updated_at"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.domain_id)
        .bind(&r.proxy_url)
        .bind(r.successful)
        .bind(r.last_run_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )
}
