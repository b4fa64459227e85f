//! Organization invitations. The stored status is `pending`, `accepted` or `revoked`; a pending invitation past
//! `expires_at` reads as `expired` (filters compare against the caller's clock, bound as a parameter).
//!
//! The list SQL is assembled from fixed fragments only; caller values travel as bound parameters.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organization_invitations`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct OrganizationInvitationRow {
    /// `orginv_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The organization.
    pub organization_id: String,
    /// The invitee, lower-cased.
    pub email_address: String,
    /// Lower-cased address (lookups, ordering).
    pub email_normalized: String,
    /// Role key.
    pub role: String,
    /// The inviting user.
    pub inviter_id: Option<String>,
    /// JSON object.
    pub public_metadata: String,
    /// JSON object.
    pub private_metadata: String,
    /// Where the invitation link leads.
    pub redirect_url: Option<String>,
    /// `pending`, `accepted` or `revoked` (expiry is derived).
    pub status: String,
    /// Unix ms.
    pub expires_at: Option<i64>,
    /// The verified domain that made it (`automatic_invitation`); `None` for invitations a person sent.
    pub organization_domain_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

pub(crate) const COLUMNS: &str = "id, instance_id, organization_id, email_address, email_normalized, role, inviter_id, \
    public_metadata, private_metadata, redirect_url, status, expires_at, organization_domain_id, created_at, updated_at";

/// A bound value of a list query.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// Filters of the invitation lists; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct InvitationFilter {
    /// Only this organization.
    pub organization_id: Option<String>,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: Option<String>,
    /// Exactly this (lower-cased) address.
    pub email: Option<String>,
    /// Part of the (lower-cased) address.
    pub query: Option<String>,
    /// Invitations addressed to one of this user's verified email addresses.
    pub user_id: Option<String>,
    /// Sort by the address instead of the creation time.
    pub order_by_email: bool,
    /// Descending order.
    pub descending: bool,
}

fn push(b: Bind, binds: &mut Vec<Bind>) -> String {
    binds.push(b);
    format!("${}", binds.len())
}

fn where_clause(instance_id: &str, f: &InvitationFilter, now: i64) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Text(instance_id.to_owned())];
    let mut sql = String::from("instance_id = $1");
    if let Some(org) = &f.organization_id {
        let p = push(Bind::Text(org.clone()), &mut binds);
        sql.push_str(&format!(" AND organization_id = {p}"));
    }
    if let Some(status) = &f.status {
        match status.as_str() {
            "pending" => {
                let p = push(Bind::Int(now), &mut binds);
                sql.push_str(&format!(" AND status = 'pending' AND (expires_at IS NULL OR expires_at > {p})"));
            }
            "expired" => {
                let p = push(Bind::Int(now), &mut binds);
                sql.push_str(&format!(" AND status = 'pending' AND expires_at <= {p}"));
            }
            other => {
                let p = push(Bind::Text(other.to_owned()), &mut binds);
                sql.push_str(&format!(" AND status = {p}"));
            }
        }
    }
    if let Some(email) = &f.email {
        let p = push(Bind::Text(email.clone()), &mut binds);
        sql.push_str(&format!(" AND email_normalized = {p}"));
    }
    if let Some(q) = &f.query {
        let p = push(Bind::Text(crate::organizations::like_pattern(q)), &mut binds);
        sql.push_str(&format!(" AND email_normalized LIKE {p} ESCAPE '\\'"));
    }
    if let Some(user) = &f.user_id {
        let p = push(Bind::Text(user.clone()), &mut binds);
        sql.push_str(&format!(
            " AND email_normalized IN (SELECT i.value_normalized FROM identifications i WHERE i.instance_id = $1 \
             AND i.user_id = {p} AND i.kind = 'email_address' AND i.verification_status = 'verified')"
        ));
    }
    (sql, binds)
}

/// A filtered, ordered page of invitations and the total matching, with the status judged at `now`.
pub async fn list(
    db: &Db,
    instance_id: &str,
    f: &InvitationFilter,
    now: i64,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<OrganizationInvitationRow>, i64)> {
    let (cond, binds) = where_clause(instance_id, f, now);
    let dir = if f.descending { "DESC" } else { "ASC" };
    let order = if f.order_by_email {
        format!("email_normalized {dir}, created_at {dir}, id {dir}")
    } else {
        format!("created_at {dir}, id {dir}")
    };
    let n = binds.len();
    let select = format!(
        "SELECT {COLUMNS} FROM organization_invitations WHERE {cond} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM organization_invitations WHERE {cond}");
    let rows = on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, OrganizationInvitationRow>(sqlx::AssertSqlSafe(select.clone()));
        for b in &binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q.bind(limit).bind(offset).fetch_all(c).await
    })?;
    let total = on_read!(db, |c| {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.clone()));
        for b in &binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q.fetch_one(c).await
    })?;
    Ok((rows, total))
}

/// Inserts an invitation. An automatic invitation the organization already made for the address is not inserted
/// again (`Ok(false)`).
pub async fn insert(tx: &mut Tx, i: &OrganizationInvitationRow) -> StoreResult<bool> {
    let n = exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_invitations (id, instance_id, organization_id, email_address, \
             email_normalized, role, inviter_id, public_metadata, private_metadata, redirect_url, status, \
             expires_at, organization_domain_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING"
        )
        .bind(&i.id)
        .bind(&i.instance_id)
        .bind(&i.organization_id)
        .bind(&i.email_address)
        .bind(&i.email_normalized)
        .bind(&i.role)
        .bind(&i.inviter_id)
        .bind(&i.public_metadata)
        .bind(&i.private_metadata)
        .bind(&i.redirect_url)
        .bind(&i.status)
        .bind(i.expires_at)
        .bind(&i.organization_domain_id)
        .bind(i.created_at)
        .bind(i.updated_at)
    )?;
    Ok(n > 0)
}

/// Whether the organization has a pending, unexpired invitation for the address (inside the transaction that
/// locked the organization, so that two concurrent invitations cannot both pass).
pub async fn pending_exists(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    email: &str,
    now: i64,
) -> StoreResult<bool> {
    let n: i64 = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_invitations WHERE instance_id = $1 AND organization_id = $2 \
             AND email_normalized = $3 AND status = 'pending' AND (expires_at IS NULL OR expires_at > $4)"
        )
        .bind(instance_id)
        .bind(organization_id)
        .bind(email)
        .bind(now)
    )?;
    Ok(n > 0)
}

/// Whether a user holding the address (verified) is already a member of the organization (inside the transaction).
pub async fn member_with_email(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    email: &str,
) -> StoreResult<bool> {
    let n: i64 = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_memberships m JOIN identifications i ON i.user_id = m.user_id \
             WHERE m.instance_id = $1 AND m.organization_id = $2 AND i.instance_id = $1 AND i.kind = 'email_address' \
             AND i.value_normalized = $3 AND i.verification_status = 'verified'"
        )
        .bind(instance_id)
        .bind(organization_id)
        .bind(email)
    )?;
    Ok(n > 0)
}

/// The role key of a user's membership in an organization (inside the transaction).
pub async fn member_role(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<Option<String>> {
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_scalar::<_, String>(
            "SELECT role FROM organization_memberships WHERE instance_id = $1 AND organization_id = $2 AND user_id = $3"
        )
        .bind(instance_id)
        .bind(organization_id)
        .bind(user_id)
    )
}

/// The instance's organization roles as `(key, name)`, and the keys of those holding `permission` (inside the
/// transaction). Empty when the instance has no stored roles.
pub async fn roles_tx(
    tx: &mut Tx,
    instance_id: &str,
    permission: &str,
) -> StoreResult<(Vec<(String, String)>, Vec<String>)> {
    let roles = fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, (String, String)>("SELECT key, name FROM organization_roles WHERE instance_id = $1")
            .bind(instance_id)
    )?;
    let holding = fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_scalar::<_, String>(
            "SELECT r.key FROM organization_roles r JOIN organization_role_permissions rp ON rp.role_id = r.id \
             JOIN organization_permissions p ON p.id = rp.permission_id WHERE r.instance_id = $1 AND p.key = $2"
        )
        .bind(instance_id)
        .bind(permission)
    )?;
    Ok((roles, holding))
}

/// The instance's organization roles as `(key, name)` (empty when none are stored).
pub async fn roles(db: &Db, instance_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (String, String)>(
        "SELECT key, name FROM organization_roles WHERE instance_id = $1"
    )
    .bind(instance_id)
    .fetch_all(c)
    .await)?)
}

/// One invitation of an organization.
pub async fn get(
    db: &Db,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> StoreResult<Option<OrganizationInvitationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_invitations WHERE instance_id = $1 AND organization_id = $2 AND id = $3"
    );
    Ok(on_read!(db, |c| sqlx::query_as::<_, OrganizationInvitationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(organization_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One invitation of an organization, locked for update.
pub async fn lock(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> StoreResult<Option<OrganizationInvitationRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM organization_invitations WHERE instance_id = $1 AND organization_id = $2 \
         AND id = $3{suffix}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OrganizationInvitationRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(organization_id)
            .bind(id)
    )
}

/// Sets an invitation's stored status.
pub async fn set_status(tx: &mut Tx, instance_id: &str, id: &str, status: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_invitations SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4"
        )
        .bind(status)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// One invitation by id alone (its ticket names no organization).
pub async fn get_by_id(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<OrganizationInvitationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_invitations WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, OrganizationInvitationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// One invitation by id alone, locked for update.
pub async fn lock_by_id(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<OrganizationInvitationRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM organization_invitations WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, OrganizationInvitationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}
