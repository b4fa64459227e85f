//! Organizations and their logos.
//!
//! The list SQL is assembled from fixed fragments only; caller values travel as bound parameters.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organizations`, with its member count.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct OrganizationRow {
    /// `org_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// Unique per instance.
    pub slug: String,
    /// Current logo.
    pub image_id: Option<String>,
    /// 0 = unlimited.
    pub max_allowed_memberships: i64,
    /// Admins may delete the organization from the Frontend API.
    pub admin_delete_enabled: bool,
    /// JSON object.
    pub public_metadata: String,
    /// JSON object.
    pub private_metadata: String,
    /// The creating user.
    pub created_by: Option<String>,
    /// Role set key.
    pub role_set_key: Option<String>,
    /// Unix ms.
    pub last_active_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Number of memberships (computed).
    #[sqlx(default)]
    pub members_count: i64,
}

/// Columns of [`OrganizationRow`] over `organizations o`, with the member count.
const COLUMNS: &str = "o.id, o.instance_id, o.name, o.slug, o.image_id, o.max_allowed_memberships, \
    o.admin_delete_enabled, o.public_metadata, o.private_metadata, o.created_by, o.role_set_key, o.last_active_at, \
    o.created_at, o.updated_at, \
    (SELECT COUNT(*) FROM organization_memberships mc WHERE mc.organization_id = o.id) AS members_count";

/// Sort fields of the organization list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationOrder {
    /// Name (case-insensitive).
    Name,
    /// Creation time.
    CreatedAt,
    /// Number of members.
    MembersCount,
}

/// Filters of the organization list. Empty vectors and `None` do not filter.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    /// Exact id, or part of the lower-cased name or slug.
    pub query: Option<String>,
    /// Organizations with any of these users as members.
    pub include_user_ids: Vec<String>,
    /// Organizations without any of these users as members.
    pub exclude_user_ids: Vec<String>,
    /// Only these organizations.
    pub include_ids: Vec<String>,
    /// Not these organizations.
    pub exclude_ids: Vec<String>,
}

/// Inserts an organization (`name_search` is the lower-cased name). A unique violation means the slug is taken.
pub async fn insert(tx: &mut Tx, o: &OrganizationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organizations (id, instance_id, name, name_search, slug, image_id, max_allowed_memberships, \
             admin_delete_enabled, public_metadata, private_metadata, created_by, role_set_key, last_active_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        )
        .bind(&o.id)
        .bind(&o.instance_id)
        .bind(&o.name)
        .bind(o.name.to_lowercase())
        .bind(&o.slug)
        .bind(&o.image_id)
        .bind(o.max_allowed_memberships)
        .bind(o.admin_delete_enabled)
        .bind(&o.public_metadata)
        .bind(&o.private_metadata)
        .bind(&o.created_by)
        .bind(&o.role_set_key)
        .bind(o.last_active_at)
        .bind(o.created_at)
        .bind(o.updated_at)
    )?;
    Ok(())
}

/// Writes an organization's mutable fields. A unique violation means the slug is taken.
pub async fn update(tx: &mut Tx, o: &OrganizationRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organizations SET name = $1, name_search = $2, slug = $3, max_allowed_memberships = $4, \
             admin_delete_enabled = $5, public_metadata = $6, private_metadata = $7, role_set_key = $8, \
             created_at = $9, updated_at = $10 WHERE instance_id = $11 AND id = $12"
        )
        .bind(&o.name)
        .bind(o.name.to_lowercase())
        .bind(&o.slug)
        .bind(o.max_allowed_memberships)
        .bind(o.admin_delete_enabled)
        .bind(&o.public_metadata)
        .bind(&o.private_metadata)
        .bind(&o.role_set_key)
        .bind(o.created_at)
        .bind(o.updated_at)
        .bind(&o.instance_id)
        .bind(&o.id)
    )
}

/// Deletes an organization (memberships, invitations, domains and logo go with it). Returns the rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM organizations WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// One organization of the instance by id or slug.
pub async fn get(db: &Db, instance_id: &str, id_or_slug: &str) -> StoreResult<Option<OrganizationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations o WHERE o.instance_id = $1 AND (o.id = $2 OR o.slug = $2)");
    Ok(on_read!(db, |c| sqlx::query_as::<_, OrganizationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id_or_slug)
        .fetch_optional(c)
        .await)?)
}

/// How many organizations of the instance a user created (their `create_organizations_limit` counts these).
pub async fn count_created_by(db: &Db, instance_id: &str, user_id: &str) -> StoreResult<i64> {
    Ok(on_read!(db, |c| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM organizations WHERE instance_id = $1 AND created_by = $2"
    )
    .bind(instance_id)
    .bind(user_id)
    .fetch_one(c)
    .await)?)
}

/// Whether a slug is taken in the instance, read inside a write transaction.
pub async fn slug_taken_tx(tx: &mut Tx, instance_id: &str, slug: &str) -> StoreResult<bool> {
    Ok(fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations WHERE instance_id = $1 AND slug = $2")
            .bind(instance_id)
            .bind(slug)
    )? > 0)
}

/// One organization of the instance by id, read inside a write transaction without locking it (for what only
/// shows its public data).
pub async fn get_tx(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<OrganizationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations o WHERE o.instance_id = $1 AND o.id = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OrganizationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// Reads an organization (by id or slug) and locks its row until the transaction ends, so that decisions about
/// it (the membership limit) are serialized. SQLite needs no row lock: `BEGIN IMMEDIATE` serializes writers.
pub async fn lock(tx: &mut Tx, instance_id: &str, id_or_slug: &str) -> StoreResult<Option<OrganizationRow>> {
    let base = format!("SELECT {COLUMNS} FROM organizations o WHERE o.instance_id = $1 AND (o.id = $2 OR o.slug = $2)");
    // The count subquery cannot be locked; lock the organization row itself.
    let sql = if tx.is_postgres() { format!("{base} FOR UPDATE OF o") } else { base };
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OrganizationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id_or_slug)
    )
}

/// Appends `$n, $n+1, …` for `values` to `binds`; only numbers are generated, never caller data.
fn push_binds(binds: &mut Vec<String>, values: &[String]) -> String {
    let start = binds.len() + 1;
    binds.extend(values.iter().cloned());
    (start..start + values.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A LIKE pattern matching `query` anywhere in a lower-cased value, with `%`, `_` and `\` taken literally.
pub fn like_pattern(query: &str) -> String {
    let mut out = String::with_capacity(query.len() + 2);
    out.push('%');
    for ch in query.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// The `WHERE` clause of the list and its bound values (`$1` is the instance).
fn where_clause(instance_id: &str, f: &OrganizationFilter) -> (String, Vec<String>) {
    let mut binds = vec![instance_id.to_owned()];
    let mut sql = String::from("o.instance_id = $1");
    if let Some(q) = &f.query {
        let exact = push_binds(&mut binds, std::slice::from_ref(q));
        let like = push_binds(&mut binds, &[like_pattern(q)]);
        sql.push_str(&format!(
            " AND (o.id = {exact} OR o.name_search LIKE {like} ESCAPE '\\' OR o.slug LIKE {like} ESCAPE '\\')"
        ));
    }
    if !f.include_user_ids.is_empty() {
        let list = push_binds(&mut binds, &f.include_user_ids);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM organization_memberships m WHERE m.organization_id = o.id \
             AND m.user_id IN ({list}))"
        ));
    }
    if !f.exclude_user_ids.is_empty() {
        let list = push_binds(&mut binds, &f.exclude_user_ids);
        sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM organization_memberships m WHERE m.organization_id = o.id \
             AND m.user_id IN ({list}))"
        ));
    }
    if !f.include_ids.is_empty() {
        let list = push_binds(&mut binds, &f.include_ids);
        sql.push_str(&format!(" AND o.id IN ({list})"));
    }
    if !f.exclude_ids.is_empty() {
        let list = push_binds(&mut binds, &f.exclude_ids);
        sql.push_str(&format!(" AND o.id NOT IN ({list})"));
    }
    (sql, binds)
}

/// A page of the instance's organizations.
pub async fn list(
    db: &Db,
    instance_id: &str,
    filter: &OrganizationFilter,
    order: OrganizationOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<OrganizationRow>> {
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        OrganizationOrder::Name => format!("o.name_search {dir}, o.name {dir}, o.created_at {dir}, o.id {dir}"),
        OrganizationOrder::CreatedAt => format!("o.created_at {dir}, o.id {dir}"),
        OrganizationOrder::MembersCount => format!("members_count {dir}, o.created_at {dir}, o.id {dir}"),
    };
    let (filter_sql, binds) = where_clause(instance_id, filter);
    let n = binds.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM organizations o WHERE {filter_sql} ORDER BY {order_sql} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, OrganizationRow>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?)
}

/// How many organizations [`list`] would return without paging.
pub async fn count(db: &Db, instance_id: &str, filter: &OrganizationFilter) -> StoreResult<i64> {
    let (filter_sql, binds) = where_clause(instance_id, filter);
    let sql = format!("SELECT COUNT(*) FROM organizations o WHERE {filter_sql}");
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_one(c).await
    })?)
}

/// The organizations among `ids` that have at least one member whose role is one of `role_keys`.
pub async fn with_member_in_roles(
    db: &Db,
    instance_id: &str,
    ids: &[String],
    role_keys: &[String],
) -> StoreResult<Vec<String>> {
    if ids.is_empty() || role_keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut binds = vec![instance_id.to_owned()];
    let id_list = push_binds(&mut binds, ids);
    let role_list = push_binds(&mut binds, role_keys);
    let sql = format!(
        "SELECT DISTINCT organization_id FROM organization_memberships WHERE instance_id = $1 \
         AND organization_id IN ({id_list}) AND role IN ({role_list})"
    );
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(c).await
    })?)
}

/// Whether the organization has a member whose role is one of `role_keys`, read inside a write transaction.
pub async fn has_member_in_roles_tx(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    role_keys: &[String],
) -> StoreResult<bool> {
    if role_keys.is_empty() {
        return Ok(false);
    }
    let mut binds = vec![instance_id.to_owned(), organization_id.to_owned()];
    let role_list = push_binds(&mut binds, role_keys);
    let sql = format!(
        "SELECT COUNT(*) FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 \
         AND role IN ({role_list})"
    );
    let n = fetch_tx!(tx, fetch_one, sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind_all(&binds))?;
    Ok(n > 0)
}

/// Stores a logo and makes it the organization's current one (replacing any previous logo); `None` removes it.
pub async fn set_image(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    image: Option<(&str, &str, &[u8])>,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM organization_images WHERE instance_id = $1 AND organization_id = $2")
            .bind(instance_id)
            .bind(organization_id)
    )?;
    if let Some((id, content_type, data)) = image {
        exec_tx!(
            tx,
            sqlx::query(
                "INSERT INTO organization_images (id, instance_id, organization_id, content_type, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(id)
            .bind(instance_id)
            .bind(organization_id)
            .bind(content_type)
            .bind(data)
            .bind(now)
        )?;
    }
    exec_tx!(
        tx,
        sqlx::query("UPDATE organizations SET image_id = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4")
            .bind(image.map(|i| i.0))
            .bind(now)
            .bind(instance_id)
            .bind(organization_id)
    )
}

/// A stored logo: `(content_type, bytes)`.
pub async fn image(db: &Db, id: &str) -> StoreResult<Option<(String, Vec<u8>)>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT content_type, data FROM organization_images WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}
