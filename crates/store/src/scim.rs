//! SCIM provisioning (0040): the users a directory provisioned (their SCIM resource as last written), the
//! directory's groups and their members, and the `deprovisioned` flag of users.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `directory_users`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct DirectoryUserRow {
    /// Owning instance.
    pub instance_id: String,
    /// The directory.
    pub directory_id: String,
    /// The user (also the SCIM id).
    pub user_id: String,
    /// `userName`, lower-cased.
    pub user_name_normalized: String,
    /// SCIM `externalId`.
    pub external_id: Option<String>,
    /// SCIM `active`.
    pub active: bool,
    /// JSON: the resource's attributes as last written.
    pub resource: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const USER_COLUMNS: &str =
    "instance_id, directory_id, user_id, user_name_normalized, external_id, active, resource, created_at, updated_at";

/// A row of `directory_groups`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct DirectoryGroupRow {
    /// `dgrp_…` (the SCIM id).
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The directory.
    pub directory_id: String,
    /// `displayName` as given.
    pub display_name: String,
    /// `displayName`, lower-cased.
    pub display_name_normalized: String,
    /// SCIM `externalId`.
    pub external_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const GROUP_COLUMNS: &str =
    "id, instance_id, directory_id, display_name, display_name_normalized, external_id, created_at, updated_at";

/// Inserts a provisioned user. A unique violation means the userName is taken in the directory.
pub async fn insert_user(tx: &mut Tx, r: &DirectoryUserRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO directory_users (instance_id, directory_id, user_id, user_name_normalized, external_id, \
             active, resource, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&r.instance_id)
        .bind(&r.directory_id)
        .bind(&r.user_id)
        .bind(&r.user_name_normalized)
        .bind(&r.external_id)
        .bind(r.active)
        .bind(&r.resource)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Writes a provisioned user's resource. A unique violation means the new userName is taken.
pub async fn update_user(tx: &mut Tx, r: &DirectoryUserRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE directory_users SET user_name_normalized = $1, external_id = $2, active = $3, resource = $4, \
             updated_at = $5 WHERE instance_id = $6 AND directory_id = $7 AND user_id = $8"
        )
        .bind(&r.user_name_normalized)
        .bind(&r.external_id)
        .bind(r.active)
        .bind(&r.resource)
        .bind(r.updated_at)
        .bind(&r.instance_id)
        .bind(&r.directory_id)
        .bind(&r.user_id)
    )
}

/// Removes a user from a directory (the user stays; its group memberships in the directory go).
pub async fn delete_user(tx: &mut Tx, instance_id: &str, directory_id: &str, user_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM directory_group_members WHERE instance_id = $1 AND directory_id = $2 AND user_id = $3"
        )
        .bind(instance_id)
        .bind(directory_id)
        .bind(user_id)
    )?;
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM directory_users WHERE instance_id = $1 AND directory_id = $2 AND user_id = $3")
            .bind(instance_id)
            .bind(directory_id)
            .bind(user_id)
    )
}

/// One provisioned user of a directory, inside a write transaction.
pub async fn user_tx(
    tx: &mut Tx,
    instance_id: &str,
    directory_id: &str,
    user_id: &str,
) -> StoreResult<Option<DirectoryUserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM directory_users WHERE instance_id = $1 AND directory_id = $2 AND user_id = $3"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DirectoryUserRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(directory_id)
            .bind(user_id)
    )
}

/// One provisioned user of a directory.
pub async fn user(
    db: &Db,
    instance_id: &str,
    directory_id: &str,
    user_id: &str,
) -> StoreResult<Option<DirectoryUserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM directory_users WHERE instance_id = $1 AND directory_id = $2 AND user_id = $3"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, DirectoryUserRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(directory_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)?)
}

/// Every user of a directory, oldest first (SCIM filters are evaluated over them in core).
pub async fn users(db: &Db, instance_id: &str, directory_id: &str) -> StoreResult<Vec<DirectoryUserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM directory_users WHERE instance_id = $1 AND directory_id = $2 \
         ORDER BY created_at, user_id"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, DirectoryUserRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(directory_id)
        .fetch_all(c)
        .await)?)
}

/// Every user of a directory, inside a write transaction.
pub async fn users_tx(tx: &mut Tx, instance_id: &str, directory_id: &str) -> StoreResult<Vec<DirectoryUserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM directory_users WHERE instance_id = $1 AND directory_id = $2 \
         ORDER BY created_at, user_id"
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, DirectoryUserRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(directory_id)
    )
}

/// Sets a user's `deprovisioned` flag.
pub async fn set_deprovisioned(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    value: bool,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE users SET deprovisioned = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(value)
            .bind(now)
            .bind(instance_id)
            .bind(user_id)
    )
}

/// Inserts a group.
pub async fn insert_group(tx: &mut Tx, g: &DirectoryGroupRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO directory_groups (id, instance_id, directory_id, display_name, display_name_normalized, \
             external_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&g.id)
        .bind(&g.instance_id)
        .bind(&g.directory_id)
        .bind(&g.display_name)
        .bind(&g.display_name_normalized)
        .bind(&g.external_id)
        .bind(g.created_at)
        .bind(g.updated_at)
    )?;
    Ok(())
}

/// Writes a group's attributes.
pub async fn update_group(tx: &mut Tx, g: &DirectoryGroupRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE directory_groups SET display_name = $1, display_name_normalized = $2, external_id = $3, \
             updated_at = $4 WHERE instance_id = $5 AND directory_id = $6 AND id = $7"
        )
        .bind(&g.display_name)
        .bind(&g.display_name_normalized)
        .bind(&g.external_id)
        .bind(g.updated_at)
        .bind(&g.instance_id)
        .bind(&g.directory_id)
        .bind(&g.id)
    )
}

/// Deletes a group (its members go with it).
pub async fn delete_group(tx: &mut Tx, instance_id: &str, directory_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM directory_groups WHERE instance_id = $1 AND directory_id = $2 AND id = $3")
            .bind(instance_id)
            .bind(directory_id)
            .bind(id)
    )
}

/// One group of a directory, inside a write transaction.
pub async fn group_tx(
    tx: &mut Tx,
    instance_id: &str,
    directory_id: &str,
    id: &str,
) -> StoreResult<Option<DirectoryGroupRow>> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE instance_id = $1 AND directory_id = $2 AND id = $3"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DirectoryGroupRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(directory_id).bind(id)
    )
}

/// The group a role mapping names: by SCIM id, else by externalId.
pub async fn group_by_ref_tx(
    tx: &mut Tx,
    instance_id: &str,
    directory_id: &str,
    reference: &str,
) -> StoreResult<Option<DirectoryGroupRow>> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE instance_id = $1 AND directory_id = $2 \
         AND (id = $3 OR external_id = $3) ORDER BY created_at LIMIT 1"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, DirectoryGroupRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(directory_id)
            .bind(reference)
    )
}

/// Every group of a directory, oldest first.
pub async fn groups(db: &Db, instance_id: &str, directory_id: &str) -> StoreResult<Vec<DirectoryGroupRow>> {
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE instance_id = $1 AND directory_id = $2 \
         ORDER BY created_at, id"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, DirectoryGroupRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(directory_id)
        .fetch_all(c)
        .await)?)
}

/// `(group_id, user_id)` of every membership in a directory.
pub async fn members(db: &Db, instance_id: &str, directory_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT group_id, user_id FROM directory_group_members WHERE instance_id = $1 AND directory_id = $2 \
         ORDER BY group_id, user_id"
    )
    .bind(instance_id)
    .bind(directory_id)
    .fetch_all(c)
    .await)?)
}

/// The members of one group, inside a write transaction.
pub async fn group_members_tx(tx: &mut Tx, instance_id: &str, group_id: &str) -> StoreResult<Vec<String>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT user_id FROM directory_group_members WHERE instance_id = $1 AND group_id = $2 ORDER BY user_id"
        )
        .bind(instance_id)
        .bind(group_id)
    )
}

/// The groups a user is in within a directory (with their external ids), inside a write transaction.
pub async fn groups_of_user_tx(
    tx: &mut Tx,
    instance_id: &str,
    directory_id: &str,
    user_id: &str,
) -> StoreResult<Vec<(String, Option<String>)>> {
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT g.id, g.external_id FROM directory_group_members m JOIN directory_groups g ON g.id = m.group_id \
             WHERE m.instance_id = $1 AND m.directory_id = $2 AND m.user_id = $3"
        )
        .bind(instance_id)
        .bind(directory_id)
        .bind(user_id)
    )
}

/// Adds a member (no-op when already one).
pub async fn add_member(
    tx: &mut Tx,
    instance_id: &str,
    directory_id: &str,
    group_id: &str,
    user_id: &str,
) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO directory_group_members (instance_id, directory_id, group_id, user_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        )
        .bind(instance_id)
        .bind(directory_id)
        .bind(group_id)
        .bind(user_id)
    )?;
    Ok(())
}

/// Removes a member. Returns the rows deleted.
pub async fn remove_member(tx: &mut Tx, instance_id: &str, group_id: &str, user_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM directory_group_members WHERE instance_id = $1 AND group_id = $2 AND user_id = $3")
            .bind(instance_id)
            .bind(group_id)
            .bind(user_id)
    )
}
