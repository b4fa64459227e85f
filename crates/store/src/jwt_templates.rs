//! JWT templates of an instance (table created by migration 0006).

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `jwt_templates`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct JwtTemplateRow {
    /// `jtmp_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Unique per instance.
    pub name: String,
    /// The claims template, a JSON object as text.
    pub claims: String,
    /// Token lifetime in seconds.
    pub lifetime: i64,
    /// Allowed clock skew in seconds (becomes `nbf` leeway).
    pub allowed_clock_skew: i64,
    /// Whether tokens are signed with the template's own key.
    pub custom_signing_key: bool,
    /// `RS256`, `HS256`, `ES256`…
    pub signing_algorithm: String,
    /// The custom key, sealed; `None` without a custom key.
    pub signing_key_sealed: Option<Vec<u8>>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, \
    signing_algorithm, signing_key_sealed, created_at, updated_at";

/// Inserts a template (the name is unique per instance).
pub async fn insert(tx: &mut Tx, r: &JwtTemplateRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO jwt_templates (id, instance_id, name, claims, lifetime, allowed_clock_skew, \
             custom_signing_key, signing_algorithm, signing_key_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.name)
        .bind(&r.claims)
        .bind(r.lifetime)
        .bind(r.allowed_clock_skew)
        .bind(r.custom_signing_key)
        .bind(&r.signing_algorithm)
        .bind(&r.signing_key_sealed)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(())
}

/// Replaces every mutable field of a template; the number of rows changed (0 or 1).
pub async fn update(tx: &mut Tx, r: &JwtTemplateRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE jwt_templates SET name = $3, claims = $4, lifetime = $5, allowed_clock_skew = $6, \
             custom_signing_key = $7, signing_algorithm = $8, signing_key_sealed = $9, updated_at = $10 \
             WHERE instance_id = $1 AND id = $2"
        )
        .bind(&r.instance_id)
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.claims)
        .bind(r.lifetime)
        .bind(r.allowed_clock_skew)
        .bind(r.custom_signing_key)
        .bind(&r.signing_algorithm)
        .bind(&r.signing_key_sealed)
        .bind(r.updated_at)
    )
}

/// One template by id.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<JwtTemplateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM jwt_templates WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, JwtTemplateRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One template by id, read inside a write transaction.
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<JwtTemplateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM jwt_templates WHERE instance_id = $1 AND id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, JwtTemplateRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// One template by name.
pub async fn get_by_name(db: &Db, instance_id: &str, name: &str) -> StoreResult<Option<JwtTemplateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM jwt_templates WHERE instance_id = $1 AND name = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, JwtTemplateRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(name)
        .fetch_optional(c)
        .await)?)
}

/// A page of templates, oldest first, and how many there are in all.
pub async fn list(db: &Db, instance_id: &str, limit: i64, offset: i64) -> StoreResult<(Vec<JwtTemplateRow>, i64)> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jwt_templates WHERE instance_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3"
    );
    let rows = on_read!(db, |c| sqlx::query_as::<_, JwtTemplateRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total =
        on_read!(db, |c| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jwt_templates WHERE instance_id = $1")
            .bind(instance_id)
            .fetch_one(c)
            .await)?;
    Ok((rows, total))
}

/// Deletes a template; the number of rows deleted (0 or 1).
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM jwt_templates WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// The role of a user in an organization, when a member (for the `{{org.role}}` shortcode).
pub async fn membership_role(
    db: &Db,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, String>(
        "SELECT role FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"
    )
    .bind(instance_id)
    .bind(organization_id)
    .bind(user_id)
    .fetch_optional(c)
    .await)?)
}
