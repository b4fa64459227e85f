//! Enrollment by verified organization domains (0038): which users an organization's verified domain reaches,
//! organization suggestions, and membership requests. One suggestion and one membership request per organization
//! and user (unique indexes), so that nothing is made twice.
//!
//! The list SQL is assembled from fixed fragments only; caller values travel as bound parameters.

use crate::db::FromSqliteRow;
use crate::{Db, StoreResult, Tx, exec_tx, fetch_tx, on_read};

/// A row of `organization_suggestions`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct SuggestionRow {
    /// `orgsug_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The organization suggested.
    pub organization_id: String,
    /// The user it is suggested to.
    pub user_id: String,
    /// The verified domain that made it.
    pub organization_domain_id: String,
    /// `pending` or `accepted`.
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const SUGGESTION_COLUMNS: &str =
    "id, instance_id, organization_id, user_id, organization_domain_id, status, created_at, updated_at";

/// A row of `organization_membership_requests`.
#[derive(Debug, Clone, Default, sqlx::FromRow, FromSqliteRow)]
pub struct MembershipRequestRow {
    /// `orgmbr_…`
    pub id: String,
    /// Owning instance.
    pub instance_id: String,
    /// The organization asked.
    pub organization_id: String,
    /// The user asking.
    pub user_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const REQUEST_COLUMNS: &str = "id, instance_id, organization_id, user_id, status, created_at, updated_at";

/// A verified e-mail address of a user at a verified organization domain in an automatic enrollment mode.
#[derive(Debug, Clone, sqlx::FromRow, FromSqliteRow)]
pub struct DomainMatch {
    /// `orgdmn_…`
    pub organization_domain_id: String,
    /// The domain's organization.
    pub organization_id: String,
    /// `automatic_invitation` or `automatic_suggestion`.
    pub enrollment_mode: String,
    /// The user.
    pub user_id: String,
    /// The address (lower-cased).
    pub email_address: String,
}

/// The automatic modes, as SQL (fixed text).
const AUTOMATIC: &str = "('automatic_invitation', 'automatic_suggestion')";

/// SQL: the instance's organization domain `d` enrolls the verified address `address` (a column or parameter) —
/// `d` is verified, in an automatic mode, and the address is at its name.
pub(crate) fn enrolls(address: &str) -> String {
    format!(
        "d.verification_status = 'verified' AND d.enrollment_mode IN {AUTOMATIC} AND {address} LIKE ('%@' || d.name)"
    )
}

/// The user's verified e-mail addresses at the instance's verified domains in an automatic enrollment mode, for
/// organizations the user is not a member of (inside the transaction that changed the user). Domain names hold no
/// `LIKE` wildcards (letters, digits, dots and dashes only).
pub async fn matches_for_user_tx(tx: &mut Tx, instance_id: &str, user_id: &str) -> StoreResult<Vec<DomainMatch>> {
    let sql = format!(
        "SELECT d.id AS organization_domain_id, d.organization_id, d.enrollment_mode, i.user_id, \
         i.value_normalized AS email_address FROM identifications i JOIN organization_domains d \
         ON d.instance_id = i.instance_id \
         WHERE i.instance_id = $1 AND i.user_id = $2 AND i.kind = 'email_address' \
         AND i.verification_status = 'verified' AND {} AND NOT EXISTS (SELECT 1 FROM organization_memberships m \
         WHERE m.organization_id = d.organization_id AND m.user_id = i.user_id) ORDER BY d.created_at, d.id, i.created_at",
        enrolls("i.value_normalized")
    );
    fetch_tx!(tx, fetch_all, sqlx::query_as::<_, DomainMatch>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(user_id))
}

/// The verified e-mail addresses at one verified domain (in an automatic mode) of users who are not members of its
/// organization (inside the transaction that verified the domain or changed its mode).
pub async fn matches_for_domain_tx(tx: &mut Tx, instance_id: &str, domain_id: &str) -> StoreResult<Vec<DomainMatch>> {
    let sql = format!(
        "SELECT d.id AS organization_domain_id, d.organization_id, d.enrollment_mode, i.user_id, \
         i.value_normalized AS email_address FROM organization_domains d JOIN identifications i \
         ON i.instance_id = d.instance_id \
         WHERE d.instance_id = $1 AND d.id = $2 AND i.kind = 'email_address' \
         AND i.verification_status = 'verified' AND {} AND NOT EXISTS (SELECT 1 FROM organization_memberships m \
         WHERE m.organization_id = d.organization_id AND m.user_id = i.user_id) ORDER BY i.created_at, i.id",
        enrolls("i.value_normalized")
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, DomainMatch>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(domain_id)
    )
}

/// Inserts a suggestion unless the organization was already suggested to the user (`Ok(false)`).
pub async fn insert_suggestion(tx: &mut Tx, s: &SuggestionRow) -> StoreResult<bool> {
    let n = exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_suggestions (id, instance_id, organization_id, user_id, organization_domain_id, \
             status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
        )
        .bind(&s.id)
        .bind(&s.instance_id)
        .bind(&s.organization_id)
        .bind(&s.user_id)
        .bind(&s.organization_domain_id)
        .bind(&s.status)
        .bind(s.created_at)
        .bind(s.updated_at)
    )?;
    Ok(n > 0)
}

fn status_list(binds: &mut Vec<String>, statuses: &[String]) -> String {
    let mut ps = Vec::new();
    for s in statuses {
        binds.push(s.clone());
        ps.push(format!("${}", binds.len()));
    }
    ps.join(", ")
}

/// A page of a user's suggestions (newest first) with one of `statuses` (all when empty), leaving out the
/// organizations the user has joined since, and the total.
pub async fn list_suggestions(
    db: &Db,
    instance_id: &str,
    user_id: &str,
    statuses: &[String],
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<SuggestionRow>, i64)> {
    let mut binds = vec![instance_id.to_owned(), user_id.to_owned()];
    let mut cond = String::from(
        "s.instance_id = $1 AND s.user_id = $2 AND NOT EXISTS (SELECT 1 FROM organization_memberships m \
         WHERE m.organization_id = s.organization_id AND m.user_id = s.user_id)",
    );
    if !statuses.is_empty() {
        cond.push_str(&format!(" AND s.status IN ({})", status_list(&mut binds, statuses)));
    }
    let n = binds.len();
    let cols = SUGGESTION_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let select = format!(
        "SELECT {cols} FROM organization_suggestions s WHERE {cond} ORDER BY s.created_at DESC, s.id DESC \
         LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM organization_suggestions s WHERE {cond}");
    crate::db::read_page(db, &select, &count, &binds, limit, offset).await
}

/// One suggestion of a user, locked for update.
pub async fn lock_suggestion(
    tx: &mut Tx,
    instance_id: &str,
    user_id: &str,
    id: &str,
) -> StoreResult<Option<SuggestionRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {SUGGESTION_COLUMNS} FROM organization_suggestions WHERE instance_id = $1 AND user_id = $2 \
         AND id = $3{suffix}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, SuggestionRow>(sqlx::AssertSqlSafe(sql)).bind(instance_id).bind(user_id).bind(id)
    )
}

/// Sets a suggestion's status.
pub async fn set_suggestion_status(
    tx: &mut Tx,
    instance_id: &str,
    id: &str,
    status: &str,
    now: i64,
) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_suggestions SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4"
        )
        .bind(status)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// Deletes a domain's pending suggestions (its enrollment mode changed with `delete_pending`).
pub async fn delete_pending_suggestions(tx: &mut Tx, instance_id: &str, domain_id: &str) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "DELETE FROM organization_suggestions WHERE instance_id = $1 AND organization_domain_id = $2 \
             AND status = 'pending'"
        )
        .bind(instance_id)
        .bind(domain_id)
    )
}

/// A domain's pending (unexpired) automatic invitations and pending suggestions, counted at `now`.
pub async fn pending_counts(db: &Db, instance_id: &str, domain_id: &str, now: i64) -> StoreResult<(i64, i64)> {
    Ok(on_read!(db, |c| sqlx::query_as::<_, (i64, i64)>(PENDING_COUNTS)
        .bind(instance_id)
        .bind(domain_id)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

/// [`pending_counts`] inside a write transaction.
pub async fn pending_counts_tx(tx: &mut Tx, instance_id: &str, domain_id: &str, now: i64) -> StoreResult<(i64, i64)> {
    fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_as::<_, (i64, i64)>(PENDING_COUNTS).bind(instance_id).bind(domain_id).bind(now)
    )
}

const PENDING_COUNTS: &str = "SELECT (SELECT COUNT(*) FROM organization_invitations WHERE instance_id = $1 \
    AND organization_domain_id = $2 AND status = 'pending' AND (expires_at IS NULL OR expires_at > $3)), \
    (SELECT COUNT(*) FROM organization_suggestions WHERE instance_id = $1 AND organization_domain_id = $2 \
    AND status = 'pending')";

/// Inserts a membership request unless the user already asked the organization (`Ok(false)`).
pub async fn insert_request(tx: &mut Tx, r: &MembershipRequestRow) -> StoreResult<bool> {
    let n = exec_tx!(
        tx,
        sqlx::query(
            "INSERT INTO organization_membership_requests (id, instance_id, organization_id, user_id, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
        )
        .bind(&r.id)
        .bind(&r.instance_id)
        .bind(&r.organization_id)
        .bind(&r.user_id)
        .bind(&r.status)
        .bind(r.created_at)
        .bind(r.updated_at)
    )?;
    Ok(n > 0)
}

/// A page of an organization's membership requests (newest first) with one of `statuses` (all when empty), and
/// the total.
pub async fn list_requests(
    db: &Db,
    instance_id: &str,
    organization_id: &str,
    statuses: &[String],
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<MembershipRequestRow>, i64)> {
    let mut binds = vec![instance_id.to_owned(), organization_id.to_owned()];
    let mut cond = String::from("instance_id = $1 AND organization_id = $2");
    if !statuses.is_empty() {
        cond.push_str(&format!(" AND status IN ({})", status_list(&mut binds, statuses)));
    }
    let n = binds.len();
    let select = format!(
        "SELECT {REQUEST_COLUMNS} FROM organization_membership_requests WHERE {cond} \
         ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM organization_membership_requests WHERE {cond}");
    crate::db::read_page(db, &select, &count, &binds, limit, offset).await
}

/// One membership request of an organization, locked for update.
pub async fn lock_request(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
) -> StoreResult<Option<MembershipRequestRow>> {
    let suffix = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM organization_membership_requests WHERE instance_id = $1 \
         AND organization_id = $2 AND id = $3{suffix}"
    );
    fetch_tx!(
        tx,
        fetch_optional,
        sqlx::query_as::<_, MembershipRequestRow>(sqlx::AssertSqlSafe(sql))
            .bind(instance_id)
            .bind(organization_id)
            .bind(id)
    )
}

/// Sets a membership request's status.
pub async fn set_request_status(tx: &mut Tx, instance_id: &str, id: &str, status: &str, now: i64) -> StoreResult<u64> {
    exec_tx!(
        tx,
        sqlx::query(
            "UPDATE organization_membership_requests SET status = $1, updated_at = $2 WHERE instance_id = $3 AND id = $4"
        )
        .bind(status)
        .bind(now)
        .bind(instance_id)
        .bind(id)
    )
}

/// A domain's pending automatic invitations (inside the transaction that drops them).
pub async fn pending_invitations_tx(
    tx: &mut Tx,
    instance_id: &str,
    domain_id: &str,
    now: i64,
) -> StoreResult<Vec<crate::organization_invitations::OrganizationInvitationRow>> {
    let sql = format!(
        "SELECT {} FROM organization_invitations WHERE instance_id = $1 AND organization_domain_id = $2 \
         AND status = 'pending' AND (expires_at IS NULL OR expires_at > $3) ORDER BY created_at, id",
        crate::organization_invitations::COLUMNS
    );
    fetch_tx!(
        tx,
        fetch_all,
        sqlx::query_as::<_, crate::organization_invitations::OrganizationInvitationRow>(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .bind(instance_id)
        .bind(domain_id)
        .bind(now)
    )
}

/// Whether a domain already invited the user (at any address of theirs) to the organization, whatever became of
/// the invitation.
pub async fn user_invited_by_domain_tx(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let n: i64 = fetch_tx!(
        tx,
        fetch_one,
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM organization_invitations oi JOIN identifications i \
             ON i.instance_id = oi.instance_id AND i.value_normalized = oi.email_normalized \
             WHERE oi.instance_id = $1 AND oi.organization_id = $2 AND oi.organization_domain_id IS NOT NULL \
             AND i.user_id = $3 AND i.kind = 'email_address'"
        )
        .bind(instance_id)
        .bind(organization_id)
        .bind(user_id)
    )?;
    Ok(n > 0)
}
