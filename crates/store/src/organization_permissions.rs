//! Organization permissions: the system ones every instance has, and the instance's own (`org:feature:action`).

use crate::db::FromSqliteRow;
use crate::organizations::like_pattern;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organization_permissions`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct PermissionRow {
    /// `perm_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// `org:feature:action`, unique per instance.
    pub key: String,
    /// Description.
    pub description: String,
    /// `system` or `user`.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Sort fields of the permission list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionOrder {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
    /// Key.
    Key,
}

const COLUMNS: &str = "id, instance_id, name, key, description, type, created_at, updated_at";

/// Inserts a permission; with `if_missing`, a permission with the same key is left alone (system seeding).
/// Otherwise a unique violation means the key is taken.
pub async fn insert(tx: &mut Tx, p: &PermissionRow, if_missing: bool) -> StoreResult<u64> {
    let sql = format!(
        "INSERT INTO organization_permissions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8){}",
        if if_missing { " ON CONFLICT (instance_id, key) DO NOTHING" } else { "" }
    );
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&p.id)
            .bind(&p.instance_id)
            .bind(&p.name)
            .bind(&p.key)
            .bind(&p.description)
            .bind(&p.kind)
            .bind(p.created_at)
            .bind(p.updated_at)
    )
}

/// Writes a permission's name, key and description. A unique violation means the key is taken.
pub async fn update(tx: &mut Tx, p: &PermissionRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_permissions SET name = $1, key = $2, description = $3, updated_at = $4 \
             WHERE instance_id = $5 AND id = $6"
        )
        .bind(&p.name)
        .bind(&p.key)
        .bind(&p.description)
        .bind(p.updated_at)
        .bind(&p.instance_id)
        .bind(&p.id)
    )
}

/// Deletes a permission (roles lose it). Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_permissions WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
    )
}

/// One permission of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<PermissionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_permissions WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, PermissionRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Number of system permissions the instance has.
pub async fn count_system(db: &Db, instance_id: &str) -> StoreResult<i64> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM organization_permissions WHERE instance_id = $1 AND type = 'system'"
    )
    .bind(instance_id)
    .fetch_one(c)
    .await)?)
}

/// Number of system permissions the instance has, read inside a write transaction.
pub async fn count_system_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM organization_permissions WHERE instance_id = $1 AND type = 'system'"
        )
        .bind(instance_id)
    )
}

fn filter(query: Option<&str>) -> &'static str {
    if query.is_some() {
        "instance_id = $1 AND (id = $2 OR LOWER(name) LIKE $3 ESCAPE '\\' OR key LIKE $3 ESCAPE '\\')"
    } else {
        "instance_id = $1"
    }
}

/// A page of the instance's permissions, filtered by `query` (exact id, or part of the name or key).
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    order: PermissionOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<PermissionRow>> {
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        PermissionOrder::CreatedAt => format!("created_at {dir}, key {dir}"),
        PermissionOrder::Name => format!("name {dir}, key {dir}"),
        PermissionOrder::Key => format!("key {dir}"),
    };
    let (l, o) = if query.is_some() { (4, 5) } else { (2, 3) };
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_permissions WHERE {} ORDER BY {order_sql} LIMIT ${l} OFFSET ${o}",
        filter(query)
    );
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, PermissionRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?)
}

/// How many permissions [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, query: Option<&str>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM organization_permissions WHERE {}", filter(query));
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.fetch_one(c).await
    })?)
}
