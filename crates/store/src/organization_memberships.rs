//! Organization memberships: a user's role in an organization, with its metadata.

use crate::db::FromSqliteRow;
use crate::{StoreResult, Tx, exec_tx, fetch_tx};

/// A row of `organization_memberships`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct MembershipRow {
    /// `orgmem_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The organization.
    pub organization_id: String,
    /// The member.
    pub user_id: String,
    /// Role key.
    pub role: String,
    /// JSON object.
    pub public_metadata: String,
    /// JSON object.
    pub private_metadata: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Inserts a membership. A unique violation means the user is already a member.
pub async fn insert(tx: &mut Tx, m: &MembershipRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_memberships (id, instance_id, organization_id, user_id, role, public_metadata, \
             private_metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&m.id)
        .bind(&m.instance_id)
        .bind(&m.organization_id)
        .bind(&m.user_id)
        .bind(&m.role)
        .bind(&m.public_metadata)
        .bind(&m.private_metadata)
        .bind(m.created_at)
        .bind(m.updated_at)
    )?;
    Ok(())
}

/// Number of members of an organization, read inside a write transaction (after locking the organization).
pub async fn count_tx(tx: &mut Tx, instance_id: &str, organization_id: &str) -> StoreResult<i64> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2"
        )
        .bind(instance_id)
        .bind(organization_id)
    )
}

/// Writes a membership's role and metadata.
pub async fn update(tx: &mut Tx, m: &MembershipRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_memberships SET role = $1, public_metadata = $2, private_metadata = $3, \
             updated_at = $4 WHERE instance_id = $5 AND id = $6"
        )
        .bind(&m.role)
        .bind(&m.public_metadata)
        .bind(&m.private_metadata)
        .bind(m.updated_at)
        .bind(&m.instance_id)
        .bind(&m.id)
    )
}

/// Deletes a membership. Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_memberships WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
    )
}

/// The role key of a user's membership in an organization, read from `db`.
pub async fn role_of(
    db: &crate::Db,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<Option<String>> {
    Ok(crate::on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT role FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"
    )
    .bind(instance_id)
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(c)
    .await)?)
}
