//! Instance invitations. Status is derived from `revoked`, `accepted_at` and `expires_at` against the clock.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `invitations`.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct InvitationRow {
    /// `inv_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Lower-cased address.
    pub email_address: String,
    /// JSON object.
    pub public_metadata: String,
    /// Where the invitation link leads.
    pub redirect_url: Option<String>,
    /// `invitation` or `waitlist_invitation`.
    pub template_slug: String,
    /// Revoked.
    pub revoked: bool,
    /// Accepted (sign-up through the invitation; set outside the Backend API).
    pub accepted_at: Option<i64>,
    /// Expiry, Unix ms.
    pub expires_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// The id (`ema_…`) of the invitation e-mail, if one was sent: its copies are erased with the invitation.
    pub email_id: Option<String>,
}

/// The columns of [`InvitationRow`], in order.
pub const COLUMNS: &str = "id, instance_id, email_address, public_metadata, redirect_url, template_slug, revoked, \
    accepted_at, expires_at, created_at, updated_at, email_id";

/// Filter of a status at time `$now` (the SQL uses the bind placeholder given).
pub fn status_sql(status: &str, now: &str) -> Option<String> {
    Some(match status {
        "pending" => format!("NOT revoked AND accepted_at IS NULL AND (expires_at IS NULL OR expires_at > {now})"),
        "expired" => format!("NOT revoked AND accepted_at IS NULL AND expires_at <= {now}"),
        "revoked" => "revoked".to_owned(),
        "accepted" => "NOT revoked AND accepted_at IS NOT NULL".to_owned(),
        _ => return None,
    })
}

/// Inserts an invitation.
pub async fn insert(tx: &mut Tx, i: &InvitationRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO invitations (id, instance_id, email_address, public_metadata, redirect_url, template_slug, \
             revoked, accepted_at, expires_at, created_at, updated_at, email_id) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12)"
        )
        .bind(&i.id)
        .bind(&i.instance_id)
        .bind(&i.email_address)
        .bind(&i.public_metadata)
        .bind(&i.redirect_url)
        .bind(&i.template_slug)
        .bind(i.revoked)
        .bind(i.accepted_at)
        .bind(i.expires_at)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(&i.email_id)
    )?;
    Ok(())
}

/// Whether a pending invitation exists for the address at `now` (read inside the write transaction).
pub async fn pending_exists(tx: &mut Tx, instance_id: &str, email: &str, now: i64) -> StoreResult<bool> {
    let cond = status_sql("pending", "$3").unwrap_or_default();
    let sql = format!("SELECT COUNT(*) FROM invitations WHERE instance_id = $1 AND email_address = $2 AND {cond}");
    let n: i64 =
        fetch_tx!(tx, fetch_one, sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(email).bind(now))?;
    Ok(n > 0)
}

/// Whether a claimed (verified or reserved) email identification holds the address (inside the transaction).
pub async fn email_claimed(tx: &mut Tx, instance_id: &str, email: &str) -> StoreResult<bool> {
    let n: i64 = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM identifications WHERE instance_id = $1 AND kind = 'email_address' \
             AND value_normalized = $2 AND (reserved OR verification_status = 'verified')"
        )
        .bind(instance_id)
        .bind(email)
    )?;
    Ok(n > 0)
}

/// A filtered, ordered page of invitations and the total matching.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &Db,
    instance_id: &str,
    status: Option<&str>,
    query: Option<&str>,
    order: &str,
    limit: i64,
    offset: i64,
    now: i64,
) -> StoreResult<(Vec<InvitationRow>, i64)> {
    let mut cond = "instance_id = $1 AND ($2 = '' OR email_address LIKE $3 ESCAPE '\\' OR id = $2)".to_owned();
    if let Some(s) = status.and_then(|s| status_sql(s, "$4")) {
        cond.push_str(&format!(" AND {s}"));
    } else {
        // Keeps $4 bound in every statement (both drivers require each placeholder to be used).
        cond.push_str(" AND $4 = $4");
    }
    // Ids compare exactly; addresses (stored lower-cased) by a lower-cased substring.
    let raw = query.unwrap_or("").trim();
    let q = raw.to_lowercase();
    let like = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let select = format!("SELECT {COLUMNS} FROM invitations WHERE {cond} ORDER BY {order} LIMIT $5 OFFSET $6");
    let count = format!("SELECT COUNT(*) FROM invitations WHERE {cond}");
    let rows = on_read!(db, |c| sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(select.clone()))
        .bind(instance_id)
        .bind(raw)
        .bind(&like)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total: i64 = on_read!(db, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
        .bind(instance_id)
        .bind(raw)
        .bind(&like)
        .bind(now)
        .fetch_one(c)
        .await)?;
    Ok((rows, total))
}

/// One invitation, locked for update.
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<InvitationRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// Marks an invitation revoked.
pub async fn revoke(tx: &mut Tx, instance_id: &str, id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE invitations SET revoked = TRUE, updated_at = $1 WHERE instance_id = $2 AND id = $3")
            .bind(now)
            .bind(instance_id)
            .bind(id)
    )
}

/// Deletes an invitation (any status). Returns the number of rows deleted.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(tx, sqlx::query("DELETE FROM invitations WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id))
}

/// One invitation (unlocked read).
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<InvitationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Marks an invitation accepted.
pub async fn accept(tx: &mut Tx, instance_id: &str, id: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("UPDATE invitations SET accepted_at = $1, updated_at = $1 WHERE instance_id = $2 AND id = $3")
            .bind(now)
            .bind(instance_id)
            .bind(id)
    )
}
