//! Enterprise connection test runs (0044): a one-time URL that runs a connection's IdP flow in test mode, and
//! what that run recorded.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_write, fetch_tx, on_read};

/// A row of `enterprise_connection_test_runs`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct TestRunRow {
    /// `ectr_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The enterprise connection.
    pub connection_id: String,
    /// Keyed digest of the URL's one-time token.
    pub token_hash: Vec<u8>,
    /// `saml` or `oauth`.
    pub connection_type: String,
    /// `pending`, `success` or `failed`.
    pub status: String,
    /// JSON object `{email_address, first_name, last_name, user_id}`, once parsed.
    pub parsed_user_info: Option<String>,
    /// JSON array of `{level, code?, short_message?, message}`.
    pub logs: String,
    /// The protocol's raw exchange (`{saml: …}` or `{oauth: …}`), sealed.
    pub artifacts: Option<Vec<u8>>,
    /// When its URL was opened (it opens once).
    pub opened_at: Option<i64>,
    /// Unix ms after which the URL no longer opens.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, connection_id, token_hash, connection_type, status, parsed_user_info, logs, \
    artifacts, opened_at, expires_at, created_at, updated_at";

/// Inserts a run.
pub async fn insert(db: &Db, r: &TestRunRow) -> StoreResult<()> {
    exec_write!(
        db,
        sqlx::query(
            "INSERT INTO enterprise_connection_test_runs (id, instance_id, connection_id, token_hash, \
             connection_type, status, parsed_user_info, logs, artifacts, opened_at, expires_at, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.connection_id)
        .bind(&r.token_hash)
        .bind(&r.connection_type)
        .bind(&r.status)
        .bind(&r.parsed_user_info)
        .bind(&r.logs)
        .bind(&r.artifacts)
        .bind(r.opened_at)
        .bind(r.expires_at)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Opens the pending, unexpired run whose URL token has this digest, inside the caller's transaction; `None` when
/// there is none (unknown, expired, or opened before).
pub async fn open(tx: &mut Tx, token_hash: &[u8], now: i64) -> StoreResult<Option<TestRunRow>> {
    let sql = format!(
        "UPDATE enterprise_connection_test_runs SET opened_at = $2, updated_at = $2 \
         WHERE token_hash = $1 AND opened_at IS NULL AND expires_at > $2 RETURNING {COLUMNS}"
    );
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, TestRunRow>(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now))
}

/// Records the outcome of a pending run; `false` when it is not pending (answered before).
pub async fn finish(db: &Db, r: &TestRunRow) -> StoreResult<bool> {
    let n = exec_write!(
        db,
        sqlx::query(
            "UPDATE enterprise_connection_test_runs SET status = $3, parsed_user_info = $4, logs = $5, \
             artifacts = $6, updated_at = $7 WHERE instance_id = $1 AND id = $2 AND status = 'pending'"
        )
        .bind(&r.instance_id)
        .bind(&r.id)
        .bind(&r.status)
        .bind(&r.parsed_user_info)
        .bind(&r.logs)
        .bind(&r.artifacts)
        .bind(r.updated_at)
    )?;
    Ok(n > 0)
}

/// A run by id.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<TestRunRow>> {
    let sql = format!("SELECT {COLUMNS} FROM enterprise_connection_test_runs WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, TestRunRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// A page of a connection's runs (newest first) with one of `statuses` (any when empty), and their total.
pub async fn list(
    db: &Db,
    instance_id: &str,
    connection_id: &str,
    statuses: &[String],
    (limit, offset): (i64, i64),
) -> StoreResult<(Vec<TestRunRow>, i64)> {
    let mut filter = String::from("instance_id = $1 AND connection_id = $2");
    if !statuses.is_empty() {
        let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 3)).collect();
        filter.push_str(&format!(" AND status IN ({})", marks.join(", ")));
    }
    let n = statuses.len() + 3;
    let page = format!(
        "SELECT {COLUMNS} FROM enterprise_connection_test_runs WHERE {filter} \
         ORDER BY created_at DESC, id DESC LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count = format!("SELECT COUNT(*) FROM enterprise_connection_test_runs WHERE {filter}");
    let rows = on_read!(db, |c| {
        let mut q =
            sqlx::query_as::<_, TestRunRow>(sqlx::AssertSqlSafe(page.clone())).bind(instance_id).bind(connection_id);
        for s in statuses {
            q = q.bind(s);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?;
    let total = on_read!(db, |c| {
        let mut q =
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.clone())).bind(instance_id).bind(connection_id);
        for s in statuses {
            q = q.bind(s);
        }
        q.fetch_one(c).await
    })?;
    Ok((rows, total))
}

/// The pending run a SAML request was made for, if it was made for one.
pub async fn of_saml_request(
    db: &Db,
    instance_id: &str,
    connection_id: &str,
    request_id: &str,
) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT test_run_id FROM saml_requests WHERE instance_id = $1 AND connection_id = $2 AND id = $3 \
         AND test_run_id IS NOT NULL"
    )
    .bind(instance_id)
    .bind(connection_id)
    .bind(request_id)
    .fetch_optional(c)
    .await)?)
}
