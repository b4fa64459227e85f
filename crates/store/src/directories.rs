//! Directories (0033): SCIM provisioning endpoints of an enterprise connection, and their group → role mappings.
//! Only the keyed digest of a directory's API key is stored.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `directories`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct DirectoryRow {
    /// `dir_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The enterprise connection (`None` once it is deleted).
    pub enterprise_connection_id: Option<String>,
    /// Display name.
    pub name: String,
    /// The identity provider (`okta`, `microsoft`, `custom`…).
    pub provider: String,
    /// Provisioning accepted.
    pub enabled: bool,
    /// Groups assign organization roles.
    pub group_role_mapping_enabled: bool,
    /// JSON object: user attribute → SCIM path.
    pub attribute_mapping: String,
    /// Keyed digest of the API key.
    pub api_key_hash: Vec<u8>,
    /// Keyed digest of the key a rotation replaced (0040), valid until `previous_api_key_expires_at`.
    pub previous_api_key_hash: Option<Vec<u8>>,
    /// End of the previous key's grace period, Unix ms.
    pub previous_api_key_expires_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, enterprise_connection_id, name, provider, enabled, \
    group_role_mapping_enabled, attribute_mapping, api_key_hash, previous_api_key_hash, previous_api_key_expires_at, \
    created_at, updated_at";

/// A row of `directory_group_role_mappings`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct GroupRoleMappingRow {
    /// `dgrm_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The directory.
    pub directory_id: String,
    /// The IdP's group id.
    pub group_id: String,
    /// The group's display name.
    pub group_display_name: Option<String>,
    /// The organization role (`role_…`).
    pub role_id: String,
    /// Lower wins when a user is in several mapped groups.
    pub precedence: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Inserts a directory.
pub async fn insert(tx: &mut Tx, r: &DirectoryRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO directories (id, instance_id, enterprise_connection_id, name, provider, enabled, \
             group_role_mapping_enabled, attribute_mapping, api_key_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.enterprise_connection_id)
        .bind(&r.name)
        .bind(&r.provider)
        .bind(r.enabled)
        .bind(r.group_role_mapping_enabled)
        .bind(&r.attribute_mapping)
        .bind(&r.api_key_hash)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Writes a directory's mutable columns.
pub async fn update(tx: &mut Tx, r: &DirectoryRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE directories SET name = $1, provider = $2, enabled = $3, group_role_mapping_enabled = $4, \
             attribute_mapping = $5, api_key_hash = $6, previous_api_key_hash = $7, previous_api_key_expires_at = $8, \
             updated_at = $9 WHERE instance_id = $10 AND id = $11"
        )
        .bind(&r.name)
        .bind(&r.provider)
        .bind(r.enabled)
        .bind(r.group_role_mapping_enabled)
        .bind(&r.attribute_mapping)
        .bind(&r.api_key_hash)
        .bind(&r.previous_api_key_hash)
        .bind(r.previous_api_key_expires_at)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.id)
    )
}

/// Deletes a directory (its mappings go with it).
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM directories WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// One directory of the instance.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<DirectoryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM directories WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, DirectoryRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// The directory whose current or previous API key has this digest (any instance: the key names its directory).
pub async fn by_api_key(db: &Db, hash: &[u8]) -> StoreResult<Option<DirectoryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM directories WHERE api_key_hash = $1 OR previous_api_key_hash = $1");
    Ok(on_read!(db, |c| sqlx::query_as::<_, DirectoryRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(hash)
        .fetch_optional(c)
        .await)?)
}

/// One directory, read inside a write transaction (locked on PostgreSQL).
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<DirectoryRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM directories WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DirectoryRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// A page of the instance's directories, newest first, and the total.
pub async fn list(db: &Db, instance_id: &str, limit: i64, offset: i64) -> StoreResult<(Vec<DirectoryRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM directories WHERE instance_id = $1 ORDER BY created_at DESC, id DESC \
         LIMIT $2 OFFSET $3"
    );
    let rows = on_read!(db, |c| sqlx::query_as::<_, DirectoryRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total =
        on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM directories WHERE instance_id = $1")
            .bind(instance_id)
            .fetch_one(c)
            .await)?;
    Ok((rows, total))
}

/// The directories of the connections linked to `organization_id` (`None`: to no organization), oldest first.
/// A directory whose connection was deleted belongs to no organization's set.
pub async fn of_organization(
    db: &Db,
    instance_id: &str,
    organization_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<DirectoryRow>> {
    let org = if organization_id.is_some() { "organization_id = $2" } else { "organization_id IS NULL" };
    let limit_at = if organization_id.is_some() { "$3" } else { "$2" };
    let sql = format!(
        "SELECT {COLUMNS} FROM directories WHERE instance_id = $1 AND enterprise_connection_id IN \
         (SELECT id FROM enterprise_connections WHERE instance_id = $1 AND {org}) \
         ORDER BY created_at, id LIMIT {limit_at}"
    );
    Ok(on_read!(db, |c| {
        let q = sqlx::query_as::<_, DirectoryRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        let q = match organization_id {
            Some(o) => q.bind(o),
            None => q,
        };
        q.bind(limit).fetch_all(c).await
    })?)
}

/// Inserts a group → role mapping. A unique violation means the group is already mapped in this directory.
pub async fn insert_mapping(tx: &mut Tx, m: &GroupRoleMappingRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO directory_group_role_mappings (id, instance_id, directory_id, group_id, \
             group_display_name, role_id, precedence, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&m.id)
        .bind(&m.instance_id)
        .bind(&m.directory_id)
        .bind(&m.group_id)
        .bind(&m.group_display_name)
        .bind(&m.role_id)
        .bind(m.precedence)
        .bind(m.created_at)
        .bind(m.updated_at)
    )?;
    Ok(())
}

const MAPPING_SQL: &str = "SELECT id, instance_id, directory_id, group_id, group_display_name, role_id, precedence, \
    created_at, updated_at FROM directory_group_role_mappings WHERE instance_id = $1 AND directory_id = $2 \
    ORDER BY precedence, created_at, id";

/// A directory's group → role mappings by precedence.
pub async fn mappings(db: &Db, instance_id: &str, directory_id: &str) -> StoreResult<Vec<GroupRoleMappingRow>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, GroupRoleMappingRow>(MAPPING_SQL)
        .bind(instance_id)
        .bind(directory_id)
        .fetch_all(c)
        .await)?)
}

/// A directory's group → role mappings by precedence, inside a write transaction.
pub async fn mappings_tx(tx: &mut Tx, instance_id: &str, directory_id: &str) -> StoreResult<Vec<GroupRoleMappingRow>> {
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, GroupRoleMappingRow>(MAPPING_SQL).bind(instance_id).bind(directory_id))
}

/// Deletes one mapping of a directory. Returns the rows deleted.
pub async fn delete_mapping(tx: &mut Tx, instance_id: &str, directory_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM directory_group_role_mappings WHERE instance_id = $1 AND directory_id = $2 AND id = $3"
        )
        .bind(instance_id)
        .bind(directory_id)
        .bind(id)
    )
}

/// Deletes every mapping of a directory.
pub async fn delete_mappings(tx: &mut Tx, instance_id: &str, directory_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM directory_group_role_mappings WHERE instance_id = $1 AND directory_id = $2")
            .bind(instance_id)
            .bind(directory_id)
    )
}

/// Whether the instance has an organization role with this id (inside a write transaction).
pub async fn role_exists_tx(tx: &mut Tx, instance_id: &str, role_id: &str) -> StoreResult<bool> {
    Ok(fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organization_roles WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(role_id)
    )? > 0)
}
