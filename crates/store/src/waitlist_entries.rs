//! Waitlist entries: one per (lower-cased) address and instance, with the instance invitation sent to it.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `waitlist_entries`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct WaitlistEntryRow {
    /// `wle_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// Lower-cased address.
    pub email_address: String,
    /// `pending`, `invited`, `rejected` or `completed`.
    pub status: String,
    /// The invitation sent when invited.
    pub invitation_id: Option<String>,
    /// When invited, Unix ms.
    pub invited_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, instance_id, email_address, status, invitation_id, invited_at, created_at, updated_at";

/// Sort fields of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitlistOrder {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Address.
    EmailAddress,
    /// Invitation time (entries never invited sort as oldest).
    InvitedAt,
}

/// Inserts an entry. A unique violation means the address is already on the waitlist.
pub async fn insert(tx: &mut Tx, e: &WaitlistEntryRow) -> StoreResult<()> {
    exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO waitlist_entries (id, instance_id, email_address, status, invitation_id, invited_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(&e.id)
        .bind(&e.instance_id)
        .bind(&e.email_address)
        .bind(&e.status)
        .bind(&e.invitation_id)
        .bind(e.invited_at)
        .bind(e.created_at)
        .bind(e.updated_at)
    )?;
    Ok(())
}

/// Writes an entry's status and invitation.
pub async fn update(tx: &mut Tx, e: &WaitlistEntryRow) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE waitlist_entries SET status = $1, invitation_id = $2, invited_at = $3, updated_at = $4 \
             WHERE instance_id = $5 AND id = $6"
        )
        .bind(&e.status)
        .bind(&e.invitation_id)
        .bind(e.invited_at)
        .bind(e.updated_at)
        .bind(&e.instance_id)
        .bind(&e.id)
    )
}

/// Deletes an entry.
pub async fn delete(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query("DELETE FROM waitlist_entries WHERE instance_id = $1 AND id = $2").bind(instance_id).bind(id)
    )
}

/// One entry, locked for update.
pub async fn lock(tx: &mut Tx, instance_id: &str, id: &str) -> StoreResult<Option<WaitlistEntryRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM waitlist_entries WHERE instance_id = $1 AND id = $2{suffix}");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, WaitlistEntryRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(id)
    )
}

/// One entry by id.
pub async fn get(db: &Db, instance_id: &str, id: &str) -> StoreResult<Option<WaitlistEntryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM waitlist_entries WHERE instance_id = $1 AND id = $2");
    Ok(on_read!(db, |c| sqlx::query_as::<_, WaitlistEntryRow>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(instance_id)
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// The entries for these addresses (read outside a transaction).
pub async fn by_emails(db: &Db, instance_id: &str, emails: &[String]) -> StoreResult<Vec<WaitlistEntryRow>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..emails.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {COLUMNS} FROM waitlist_entries WHERE instance_id = $1 AND email_address IN ({list})");
    Ok(on_read!(db, |c| {
        let mut q = sqlx::query_as::<_, WaitlistEntryRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        for e in emails {
            q = q.bind(e.clone());
        }
        q.fetch_all(c).await
    })?)
}

/// The entry for an address, inside the write transaction.
pub async fn by_email_tx(tx: &mut Tx, instance_id: &str, email: &str) -> StoreResult<Option<WaitlistEntryRow>> {
    let sql = format!("SELECT {COLUMNS} FROM waitlist_entries WHERE instance_id = $1 AND email_address = $2");
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, WaitlistEntryRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(email)
    )
}

/// A filtered, ordered page of entries and the total matching. `query` matches an exact id or part of the
/// address.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &Db,
    instance_id: &str,
    query: Option<&str>,
    status: Option<&str>,
    order: WaitlistOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<WaitlistEntryRow>, i64)> {
    let raw = query.unwrap_or("").trim().to_owned();
    let like = crate::organizations::like_pattern(&raw);
    let cond = "instance_id = $1 AND ($2 = '' OR id = $2 OR email_address LIKE $3 ESCAPE '\\') \
                AND ($4 = '' OR status = $4)";
    let dir = if descending { "DESC" } else { "ASC" };
    let order_sql = match order {
        WaitlistOrder::CreatedAt => format!("created_at {dir}, id {dir}"),
        WaitlistOrder::EmailAddress => format!("email_address {dir}, id {dir}"),
        WaitlistOrder::InvitedAt => format!("COALESCE(invited_at, 0) {dir}, created_at {dir}, id {dir}"),
    };
    let select = format!("SELECT {COLUMNS} FROM waitlist_entries WHERE {cond} ORDER BY {order_sql} LIMIT $5 OFFSET $6");
    let count = format!("SELECT COUNT(*) FROM waitlist_entries WHERE {cond}");
    let status = status.unwrap_or("").to_owned();
    let rows = on_read!(db, |c| sqlx::query_as::<_, WaitlistEntryRow>(sqlx::AssertSqlSafe(select.clone()))
        .bind(instance_id)
        .bind(&raw)
        .bind(&like)
        .bind(&status)
        .bind(limit)
        .bind(offset)
        .fetch_all(c)
        .await)?;
    let total = on_read!(db, |c| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.clone()))
        .bind(instance_id)
        .bind(&raw)
        .bind(&like)
        .bind(&status)
        .fetch_one(c)
        .await)?;
    Ok((rows, total))
}

/// The instance invitations with these ids (those of invited entries).
pub async fn invitations(
    db: &Db,
    instance_id: &str,
    ids: &[String],
) -> StoreResult<Vec<crate::invitations::InvitationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..ids.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql =
        format!("SELECT {} FROM invitations WHERE instance_id = $1 AND id IN ({list})", crate::invitations::COLUMNS);
    Ok(on_read!(db, |c| {
        let mut q =
            sqlx::query_as::<_, crate::invitations::InvitationRow>(sqlx::AssertSqlSafe(sql.clone())).bind(instance_id);
        for id in ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(c).await
    })?)
}
