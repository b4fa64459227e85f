//! Organization roles (`org:<name>`) and the permissions each grants.

use crate::db::FromSqliteRow;
use crate::organization_permissions::PermissionRow;
use crate::organizations::like_pattern;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organization_roles`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct RoleRow {
    /// `role_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// `org:<name>`, unique per instance.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Sort fields of the role list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleOrder {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
    /// Key.
    Key,
}

const COLUMNS: &str = "id, instance_id, name, key, description, created_at, updated_at";

/// Inserts a role; with `if_missing`, a role with the same key is left alone (default-role seeding).
/// Otherwise a unique violation means the key is taken.
pub async fn insert(tx: &mut Tx, r: &RoleRow, if_missing: bool) -> StoreResult<u64> {
    let sql = format!(
        "INSERT INTO organization_roles ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7){}",
        if if_missing { " ON CONFLICT (instance_id, key) DO NOTHING" } else { "" }
    );
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&r.id)
            .bind(&r.instance_id)
            .bind(&r.name)
            .bind(&r.key)
            .bind(&r.description)
            .bind(r.created_at)
            .bind(r.updated_at)
    )
}

/// Writes a role's name, key and description. A unique violation means the key is taken.
pub async fn update(tx: &mut Tx, r: &RoleRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_roles SET name = $1, key = $2, description = $3, updated_at = $4 \
             WHERE instance_id = $5 AND id = $6"
        )
        .bind(&r.name)
        .bind(&r.key)
        .bind(&r.description)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.id)
    )
}

/// Renames a role key on the memberships and invitations that hold it (a role's key changed).
pub async fn rename_key_in_use(tx: &mut Tx, instance_id: &str, from: &str, to: &str) -> StoreResult<()> {
    for table in ["organization_memberships", "organization_invitations"] {
        let sql = format!("UPDATE {table} SET role = $1 WHERE instance_id = $2 AND role = $3");
        exec_tx!(tx, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to).bind(instance_id).bind(from))?;
    }
    Ok(())
}

/// Deletes a role (its permission grants go with it). Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_roles WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// One role of the instance by id, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 AND id = $2");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id))
}

/// One role of the instance by id.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One role of the instance by key.
pub async fn get_by_key(db: &Db, instance_id: &str, key: &str) -> StoreResult<Option<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 AND key = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(key)
        .fetch_optional(c)
        .await)?)
}

/// One role of the instance by key, read inside a write transaction.
pub async fn get_by_key_tx(tx: &mut Tx, instance_id: &str, key: &str) -> StoreResult<Option<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 AND key = $2");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(key))
}

/// Number of roles the instance has.
pub async fn count_all(db: &Db, instance_id: &str) -> StoreResult<i64> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM organization_roles WHERE instance_id = $1"
    )
    .bind(instance_id)
    .fetch_one(c)
    .await)?)
}

/// Number of roles the instance has, read inside a write transaction.
pub async fn count_all_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organization_roles WHERE instance_id = $1")
            .bind(instance_id)
    )
}

/// How many memberships and invitations hold the role key, read inside a write transaction.
pub async fn uses_tx(tx: &mut Tx, instance_id: &str, key: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM organization_memberships WHERE instance_id = $1 AND role = $2) + \
             (SELECT COUNT(*) FROM organization_invitations WHERE instance_id = $1 AND role = $2)"
        )
        .bind(instance_id)
        .bind(key)
    )
}

/// Grants a permission to a role; returns 0 when it already had it.
pub async fn add_permission(
    tx: &mut Tx,
    instance_id: &str,
    role_id: &str,
    permission_id: &str,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_role_permissions (instance_id, role_id, permission_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (role_id, permission_id) DO NOTHING"
        )
        .bind(instance_id)
        .bind(role_id)
        .bind(permission_id)
        .bind(now)
    )
}

/// Takes a permission from a role; returns 0 when it did not have it.
pub async fn remove_permission(tx: &mut Tx, instance_id: &str, role_id: &str, permission_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM organization_role_permissions WHERE instance_id = $1 AND role_id = $2 AND permission_id = $3"
        )
        .bind(instance_id)
        .bind(role_id)
        .bind(permission_id)
    )
}

/// Takes every permission from a role.
pub async fn clear_permissions(tx: &mut Tx, instance_id: &str, role_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_role_permissions WHERE instance_id = $1 AND role_id = $2")
            .bind(instance_id)
            .bind(role_id)
    )
}

/// A permission of the instance by id, read inside a write transaction.
pub async fn permission_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<PermissionRow>> {
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, PermissionRow>(
        "SELECT id, instance_id, name, key, description, type, created_at, updated_at FROM organization_permissions \
         WHERE instance_id = $1 AND id = $2"
    )
    .bind(instance_id)
    .bind(id))
}

/// A permission of the instance by key, read inside a write transaction.
pub async fn permission_by_key_tx(tx: &mut Tx, instance_id: &str, key: &str) -> StoreResult<Option<PermissionRow>> {
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, PermissionRow>(
        "SELECT id, instance_id, name, key, description, type, created_at, updated_at FROM organization_permissions \
         WHERE instance_id = $1 AND key = $2"
    )
    .bind(instance_id)
    .bind(key))
}

/// A permission granted by a role: the role's id and the permission.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct GrantRow {
    /// The role.
    pub role_id: String,
    /// The permission.
    #[sqlx(flatten)]
    pub permission: PermissionRow,
}

const GRANT_SQL: &str = "SELECT rp.role_id, p.id, p.instance_id, p.name, p.key, p.description, p.type, \
    p.created_at, p.updated_at FROM organization_role_permissions rp \
    JOIN organization_permissions p ON p.id = rp.permission_id WHERE rp.instance_id = $1";

/// Every permission grant of the instance's roles, ordered by permission key.
pub async fn grants(db: &Db, instance_id: &str) -> StoreResult<Vec<GrantRow>> {
    let sql = format!("{GRANT_SQL} ORDER BY p.key");
    Ok(on_read!(db, |c| sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .fetch_all(c)
        .await)?)
}

/// Every permission grant of the instance's roles, read inside a write transaction.
pub async fn grants_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<GrantRow>> {
    let sql = format!("{GRANT_SQL} ORDER BY p.key");
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id))
}

/// Every role of the instance, read inside a write transaction.
pub async fn all_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 ORDER BY created_at, id");
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id))
}

/// Every role of the instance.
pub async fn all(db: &Db, instance_id: &str) -> StoreResult<Vec<RoleRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_roles WHERE instance_id = $1 ORDER BY created_at, id");
    Ok(on_read!(db, |c| sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .fetch_all(c)
        .await)?)
}

fn filter(query: Option<&str>) -> &'static str {
    if query.is_some() {
        "instance_id = $1 AND (id = $2 OR LOWER(name) LIKE $3 ESCAPE '\\' OR key LIKE $3 ESCAPE '\\')"
    } else {
        "instance_id = $1"
    }
}

/// A page of the instance's roles, filtered by `query` (exact id, or part of the name or key).
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    order: RoleOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<RoleRow>> {
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        RoleOrder::CreatedAt => format!("created_at {dir}, key {dir}"),
        RoleOrder::Name => format!("name {dir}, key {dir}"),
        RoleOrder::Key => format!("key {dir}"),
    };
    let (l, o) = if query.is_some() { (4, 5) } else { (2, 3) };
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_roles WHERE {} ORDER BY {order_sql} LIMIT ${l} OFFSET ${o}",
        filter(query)
    );
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, RoleRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?)
}

/// How many roles [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, query: Option<&str>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM organization_roles WHERE {}", filter(query));
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.fetch_one(c).await
    })?)
}
