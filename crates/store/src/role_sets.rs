//! Role sets: named groups of organization roles, with a default and a creator role.

use crate::db::FromSqliteRow;
use crate::organization_roles::RoleRow;
use crate::organizations::like_pattern;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `role_sets`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct RoleSetRow {
    /// `rs_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// `role_set:<name>`, unique per instance.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// `initial` or `custom`.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Role key given to new members.
    pub default_role_key: String,
    /// Role key given to an organization's creator.
    pub creator_role_key: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Sort fields of the role set list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleSetOrder {
    /// Creation time.
    CreatedAt,
    /// Name.
    Name,
    /// Key.
    Key,
}

const COLUMNS: &str =
    "id, instance_id, name, key, description, type, default_role_key, creator_role_key, created_at, updated_at";

/// Inserts a role set. A unique violation means the key is taken.
pub async fn insert(tx: &mut Tx, r: &RoleSetRow) -> StoreResult<()> {
    let sql = format!("INSERT INTO role_sets ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    exec_tx!(
        tx,
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&r.id)
            .bind(&r.instance_id)
            .bind(&r.name)
            .bind(&r.key)
            .bind(&r.description)
            .bind(&r.kind)
            .bind(&r.default_role_key)
            .bind(&r.creator_role_key)
            .bind(r.created_at)
            .bind(r.updated_at)
    )?;
    Ok(())
}

/// Writes a role set's fields. A unique violation means the key is taken.
pub async fn update(tx: &mut Tx, r: &RoleSetRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE role_sets SET name = $1, key = $2, description = $3, type = $4, default_role_key = $5, \
             creator_role_key = $6, updated_at = $7 WHERE instance_id = $8 AND id = $9"
        )
        .bind(&r.name)
        .bind(&r.key)
        .bind(&r.description)
        .bind(&r.kind)
        .bind(&r.default_role_key)
        .bind(&r.creator_role_key)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.id)
    )
}

/// Makes every role set of the instance but `except_id` a `custom` one.
pub async fn demote_initial(tx: &mut Tx, instance_id: &str, except_id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE role_sets SET type = 'custom', updated_at = $1 WHERE instance_id = $2 AND type = 'initial' \
             AND id <> $3"
        )
        .bind(now)
        .bind(instance_id)
        .bind(except_id)
    )
}

/// Deletes a role set. Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM role_sets WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// One role set by id or key, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id_or_key: &str) -> StoreResult<Option<RoleSetRow>> {
    let sql = format!("SELECT {COLUMNS} FROM role_sets WHERE instance_id = $1 AND (id = $2 OR key = $2)");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, RoleSetRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id_or_key)
    )
}

/// One role set by id or key.
pub async fn get(db: &Db, instance_id: &str, id_or_key: &str) -> StoreResult<Option<RoleSetRow>> {
    let sql = format!("SELECT {COLUMNS} FROM role_sets WHERE instance_id = $1 AND (id = $2 OR key = $2)");
    Ok(on_read!(db, |c| sqlx::query_as::<_, RoleSetRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id_or_key)
        .fetch_optional(c)
        .await)?)
}

/// The instance's `initial` role set, read inside a write transaction.
pub async fn initial_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Option<RoleSetRow>> {
    let sql = format!("SELECT {COLUMNS} FROM role_sets WHERE instance_id = $1 AND type = 'initial'");
    fetch_tx!(tx, fetch_optional, sqlx::query_as::<_, RoleSetRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id))
}

/// The key of the instance's `initial` role set.
pub async fn initial_key(db: &Db, instance_id: &str) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT key FROM role_sets WHERE instance_id = $1 AND type = 'initial'"
    )
    .bind(instance_id)
    .fetch_optional(c)
    .await)?)
}

/// Number of role sets the instance has, read inside a write transaction.
pub async fn count_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM role_sets WHERE instance_id = $1").bind(instance_id)
    )
}

/// Puts a role in a role set; returns 0 when it already was.
pub async fn add_role(tx: &mut Tx, instance_id: &str, role_set_id: &str, role_id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO role_set_roles (instance_id, role_set_id, role_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (role_set_id, role_id) DO NOTHING"
        )
        .bind(instance_id)
        .bind(role_set_id)
        .bind(role_id)
        .bind(now)
    )
}

/// Takes a role out of a role set.
pub async fn remove_role(tx: &mut Tx, instance_id: &str, role_set_id: &str, role_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM role_set_roles WHERE instance_id = $1 AND role_set_id = $2 AND role_id = $3")
            .bind(instance_id)
            .bind(role_set_id)
            .bind(role_id)
    )
}

/// A role of a role set.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct SetRoleRow {
    /// The role set.
    pub role_set_id: String,
    /// The role.
    #[sqlx(flatten)]
    pub role: RoleRow,
    /// Members holding the role in organizations using the set.
    pub members_count: i64,
}

const SET_ROLE_SQL: &str = "SELECT s.role_set_id, r.id, r.instance_id, r.name, r.key, r.description, r.created_at, \
    r.updated_at, (SELECT COUNT(*) FROM organization_memberships m \
    JOIN organizations o ON o.id = m.organization_id JOIN role_sets rs ON rs.id = s.role_set_id \
    WHERE m.instance_id = s.instance_id AND o.role_set_key = rs.key AND m.role = r.key) AS members_count \
    FROM role_set_roles s JOIN organization_roles r ON r.id = s.role_id WHERE s.instance_id = $1 \
    ORDER BY s.created_at, r.key";

/// Every role of every role set of the instance.
pub async fn set_roles(db: &Db, instance_id: &str) -> StoreResult<Vec<SetRoleRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, SetRoleRow>(SET_ROLE_SQL).bind(instance_id).fetch_all(c).await)?)
}

/// Every role of every role set of the instance, read inside a write transaction.
pub async fn set_roles_tx(tx: &mut Tx, instance_id: &str) -> StoreResult<Vec<SetRoleRow>> {
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, SetRoleRow>(SET_ROLE_SQL).bind(instance_id))
}

/// Number of role sets a role belongs to, read inside a write transaction.
pub async fn sets_with_role_tx(tx: &mut Tx, instance_id: &str, role_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM role_set_roles WHERE instance_id = $1 AND role_id = $2")
            .bind(instance_id)
            .bind(role_id)
    )
}

/// Renames a role key where role sets name it as their default or creator role.
pub async fn rename_role_key(tx: &mut Tx, instance_id: &str, from: &str, to: &str) -> StoreResult<()> {
    for column in ["default_role_key", "creator_role_key"] {
        let sql = format!("UPDATE role_sets SET {column} = $1 WHERE instance_id = $2 AND {column} = $3");
        exec_tx!(tx, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to).bind(instance_id).bind(from))?;
    }
    Ok(())
}

/// Moves the organizations using role set key `from` to `to`.
pub async fn move_organizations(tx: &mut Tx, instance_id: &str, from: &str, to: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE organizations SET role_set_key = $1 WHERE instance_id = $2 AND role_set_key = $3")
            .bind(to)
            .bind(instance_id)
            .bind(from)
    )
}

/// The distinct role keys held by members (and pending invitations) of organizations using the role set key.
pub async fn roles_in_use_tx(tx: &mut Tx, instance_id: &str, role_set_key: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT m.role FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id \
             WHERE m.instance_id = $1 AND o.role_set_key = $2 ORDER BY m.role"
        )
        .bind(instance_id)
        .bind(role_set_key)
    )
}

/// Gives members holding role `from` in organizations using the role set key the role `to`; returns how many.
pub async fn reassign_members(
    tx: &mut Tx,
    instance_id: &str,
    role_set_key: &str,
    from: &str,
    to: &str,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_memberships SET role = $1, updated_at = $2 WHERE instance_id = $3 AND role = $4 \
             AND organization_id IN (SELECT o.id FROM organizations o WHERE o.instance_id = $3 AND o.role_set_key = $5)"
        )
        .bind(to)
        .bind(now)
        .bind(instance_id)
        .bind(from)
        .bind(role_set_key)
    )
}

fn filter(query: Option<&str>) -> &'static str {
    if query.is_some() {
        "instance_id = $1 AND (id = $2 OR LOWER(name) LIKE $3 ESCAPE '\\' OR key LIKE $3 ESCAPE '\\')"
    } else {
        "instance_id = $1"
    }
}

/// A page of the instance's role sets, filtered by `query` (exact id, or part of the name or key).
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    order: RoleSetOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<RoleSetRow>> {
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        RoleSetOrder::CreatedAt => format!("created_at {dir}, key {dir}"),
        RoleSetOrder::Name => format!("name {dir}, key {dir}"),
        RoleSetOrder::Key => format!("key {dir}"),
    };
    let (l, o) = if query.is_some() { (4, 5) } else { (2, 3) };
    let sql =
        format!("SELECT {COLUMNS} FROM role_sets WHERE {} ORDER BY {order_sql} LIMIT ${l} OFFSET ${o}", filter(query));
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, RoleSetRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?)
}

/// How many role sets [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, query: Option<&str>) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM role_sets WHERE {}", filter(query));
    let pattern = query.map(like_pattern);
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        if let (Some(query), Some(pattern)) = (query, &pattern) {
            q = q.bind(query).bind(pattern);
        }
        q.fetch_one(c).await
    })?)
}
