//! Enrollment by verified organization domains (Clerk's "Verified domains"). An organization domain that is
//! (affiliation-)verified, in an enrollment mode the instance enables, reaches every user with a verified e-mail
//! address at it who is not a member of the organization:
//! - `automatic_invitation`: a pending organization invitation to that address (no e-mail: it shows in the user's
//!   `/v1/me/organization_invitations`, and accepting it makes the membership);
//! - `automatic_suggestion`: an organization suggestion; accepting it asks the organization (a membership request),
//!   and a manager's accepting the request makes the membership.
//!
//! Both are made when the domain becomes verified or gets the mode ([`enroll_domain_tx`]), and when a user is
//! created or changed ([`enroll_user_tx`], from [`crate::users::emit_user`]: every change that verifies or adds an
//! address reports `user.created`/`user.updated` in its transaction). Never twice: one suggestion per organization
//! and user, one automatic invitation per organization and user (unique indexes and a check per user).

use std::collections::{HashMap, HashSet};

use tessera_store::Tx;
use tessera_store::domain_enrollment::{self as store, DomainMatch, MembershipRequestRow, SuggestionRow};
use tessera_store::organization_invitations::{self as invitations, OrganizationInvitationRow};

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::organization_invitations::{self as org_invitations, PublicOrganization};
use crate::organizations::memberships::MemberUser;
use crate::users::User;
use crate::{Ctx, Error, ErrorCode, Result};

/// Statuses of a suggestion.
pub const SUGGESTION_STATUSES: &[&str] = &["pending", "accepted"];
/// Statuses of a membership request.
pub const REQUEST_STATUSES: &[&str] = &["pending", "accepted", "rejected"];

/// An organization suggestion as the API shows it.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The row.
    pub row: SuggestionRow,
    /// The organization suggested.
    pub organization: Option<PublicOrganization>,
}

/// A membership request as the API shows it.
#[derive(Debug, Clone)]
pub struct MembershipRequest {
    /// The row.
    pub row: MembershipRequestRow,
    /// The user asking (absent once deleted).
    pub user: Option<MemberUser>,
}

/// 404 for a suggestion (unknown, or another user's).
pub fn suggestion_not_found() -> Error {
    Error::not_found("organization suggestion")
}

/// 404 for a membership request.
pub fn request_not_found() -> Error {
    Error::not_found("organization membership request")
}

/// Validates a `status` filter: repeated values (`status=pending&status=accepted`, as clerk-js sends arrays) or
/// comma-separated ones, each in `allowed`. Empty: no filter.
pub fn statuses(values: &[String], allowed: &[&str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
        if !allowed.contains(&v) {
            return Err(Error::param_value_invalid("status", format!("status must be one of {}.", allowed.join(", "))));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    Ok(out)
}

/// Enrolls a user whose addresses may have changed (inside the transaction that changed them).
pub(crate) async fn enroll_user_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, user_id: &str) -> Result<()> {
    let matches = store::matches_for_user_tx(tx, instance_id, user_id).await?;
    enroll_tx(ctx, tx, instance_id, matches).await
}

/// Enrolls the users a domain reaches (inside the transaction that verified it or set its mode).
pub(crate) async fn enroll_domain_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, domain_id: &str) -> Result<()> {
    let matches = store::matches_for_domain_tx(tx, instance_id, domain_id).await?;
    enroll_tx(ctx, tx, instance_id, matches).await
}

async fn enroll_tx(ctx: &Ctx, tx: &mut Tx, instance_id: &str, matches: Vec<DomainMatch>) -> Result<()> {
    if matches.is_empty() {
        return Ok(());
    }
    let settings = crate::settings::organization_settings_tx(tx, instance_id).await?;
    if !settings.enabled || !settings.domains_enabled {
        return Ok(());
    }
    let now = ctx.now_ms();
    let mut done: HashSet<(String, String)> = HashSet::new();
    let mut roles: Option<HashMap<String, String>> = None;
    for m in matches {
        // A mode the instance has since disabled makes nothing; one user is enrolled once per organization.
        if !settings.domains_enrollment_modes.contains(&m.enrollment_mode)
            || !done.insert((m.organization_id.clone(), m.user_id.clone()))
        {
            continue;
        }
        if m.enrollment_mode == "automatic_suggestion" {
            let row = SuggestionRow {
                id: new_id("orgsug"),
                instance_id: instance_id.to_owned(),
                organization_id: m.organization_id,
                user_id: m.user_id,
                organization_domain_id: m.organization_domain_id,
                status: "pending".into(),
                created_at: now,
                updated_at: now,
            };
            store::insert_suggestion(tx, &row).await?;
            continue;
        }
        if store::user_invited_by_domain_tx(tx, instance_id, &m.organization_id, &m.user_id).await?
            || invitations::pending_exists(tx, instance_id, &m.organization_id, &m.email_address, now).await?
        {
            continue;
        }
        let row = OrganizationInvitationRow {
            id: new_id("orginv"),
            instance_id: instance_id.to_owned(),
            organization_id: m.organization_id,
            email_address: m.email_address.clone(),
            email_normalized: m.email_address,
            role: settings.domains_default_role.clone(),
            inviter_id: None,
            public_metadata: "{}".into(),
            private_metadata: "{}".into(),
            redirect_url: None,
            status: "pending".into(),
            // It stands until accepted or revoked, as the domain does.
            expires_at: None,
            organization_domain_id: Some(m.organization_domain_id),
            created_at: now,
            updated_at: now,
        };
        if !invitations::insert(tx, &row).await? {
            continue;
        }
        let org = tessera_store::organizations::get_tx(tx, instance_id, &row.organization_id).await?;
        let roles = match &mut roles {
            Some(r) => r,
            None => {
                let (stored, _) = invitations::roles_tx(tx, instance_id, org_invitations::MANAGE_MEMBERSHIPS).await?;
                roles.insert(org_invitations::role_map(stored))
            }
        };
        let inv = org_invitations::assemble(row, now, roles, None, org.as_ref().map(PublicOrganization::of));
        let data = crate::objects::organization_invitation::organization_invitation(&inv, "", false);
        events::emit(ctx, tx, instance_id, EventType::OrganizationInvitationCreated, &data).await?;
    }
    Ok(())
}

/// Drops a domain's pending automatic invitations (revoked, with their event) and pending suggestions, as
/// `update_enrollment_mode` with `delete_pending` asks (inside its transaction).
pub(crate) async fn drop_pending_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    org: &tessera_store::organizations::OrganizationRow,
    domain_id: &str,
) -> Result<()> {
    let now = ctx.now_ms();
    let pending = store::pending_invitations_tx(tx, instance_id, domain_id, now).await?;
    if !pending.is_empty() {
        let (stored, _) = invitations::roles_tx(tx, instance_id, org_invitations::MANAGE_MEMBERSHIPS).await?;
        let roles = org_invitations::role_map(stored);
        for mut row in pending {
            invitations::set_status(tx, instance_id, &row.id, "revoked", now).await?;
            row.status = "revoked".into();
            row.updated_at = now;
            let inv = org_invitations::assemble(row, now, &roles, None, Some(PublicOrganization::of(org)));
            let data = crate::objects::organization_invitation::organization_invitation(&inv, "", false);
            events::emit(ctx, tx, instance_id, EventType::OrganizationInvitationRevoked, &data).await?;
        }
    }
    store::delete_pending_suggestions(tx, instance_id, domain_id).await?;
    Ok(())
}

/// A page of the user's suggestions (newest first), with one of `statuses` (all when empty), and the total.
/// Organizations the user has joined since are left out.
pub async fn list_suggestions(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    statuses: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<Suggestion>, i64)> {
    let (rows, total) = store::list_suggestions(&ctx.db, instance_id, user_id, statuses, limit, offset).await?;
    let mut orgs: HashMap<String, Option<PublicOrganization>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if !orgs.contains_key(&row.organization_id) {
            let o = tessera_store::organizations::get(&ctx.db, instance_id, &row.organization_id).await?;
            orgs.insert(row.organization_id.clone(), o.as_ref().map(PublicOrganization::of));
        }
        let organization = orgs.get(&row.organization_id).cloned().flatten();
        out.push(Suggestion { row, organization });
    }
    Ok((out, total))
}

/// The user accepts one of their pending suggestions: it becomes `accepted`, and the organization gets a pending
/// membership request from the user. Another user's suggestion is unknown (404).
pub async fn accept_suggestion(ctx: &Ctx, instance_id: &str, user_id: &str, id: &str) -> Result<Suggestion> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock_suggestion(&mut tx, instance_id, user_id, id).await?.ok_or_else(suggestion_not_found)?;
    if row.status != "pending" {
        return Err(Error::new(ErrorCode::OrganizationSuggestionAlreadyAccepted));
    }
    let org = tessera_store::organizations::lock(&mut tx, instance_id, &row.organization_id)
        .await?
        .ok_or_else(suggestion_not_found)?;
    if invitations::member_role(&mut tx, instance_id, &org.id, user_id).await?.is_some() {
        return Err(Error::new(ErrorCode::AlreadyAMemberInOrganization));
    }
    store::set_suggestion_status(&mut tx, instance_id, &row.id, "accepted", now).await?;
    row.status = "accepted".into();
    row.updated_at = now;
    let request = MembershipRequestRow {
        id: new_id("orgmbr"),
        instance_id: instance_id.to_owned(),
        organization_id: org.id.clone(),
        user_id: user_id.to_owned(),
        status: "pending".into(),
        created_at: now,
        updated_at: now,
    };
    store::insert_request(&mut tx, &request).await?;
    tx.commit().await?;
    Ok(Suggestion { row, organization: Some(PublicOrganization::of(&org)) })
}

/// The public data of a user, as a membership request shows it.
fn member_user(u: &User) -> MemberUser {
    let primary = |list: &[crate::users::Identification], id: &Option<String>| {
        list.iter().find(|i| Some(&i.id) == id.as_ref()).map(|i| i.value.clone())
    };
    MemberUser {
        user_id: u.id.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        image_id: u.image_id.clone(),
        username: u.username.clone(),
        identifier: primary(&u.email_addresses, &u.primary_email_address_id)
            .or_else(|| primary(&u.phone_numbers, &u.primary_phone_number_id))
            .or_else(|| u.username.clone()),
        banned: u.banned,
    }
}

async fn hydrate_requests(
    ctx: &Ctx,
    instance_id: &str,
    rows: Vec<MembershipRequestRow>,
) -> Result<Vec<MembershipRequest>> {
    let ids: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
    let users: HashMap<String, MemberUser> =
        crate::users::get_users(ctx, instance_id, &ids).await?.iter().map(|u| (u.id.clone(), member_user(u))).collect();
    Ok(rows.into_iter().map(|row| MembershipRequest { user: users.get(&row.user_id).cloned(), row }).collect())
}

/// A page of an organization's membership requests (newest first), with one of `statuses` (all when empty).
pub async fn list_requests(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    statuses: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<MembershipRequest>, i64)> {
    let (rows, total) = store::list_requests(&ctx.db, instance_id, organization_id, statuses, limit, offset).await?;
    Ok((hydrate_requests(ctx, instance_id, rows).await?, total))
}

/// Accepts (the user becomes a member with the instance's domain role, unless already one) or rejects a pending
/// membership request of the organization.
pub async fn decide_request(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
    accept: bool,
) -> Result<MembershipRequest> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    let settings = crate::settings::organization_settings(ctx, instance_id).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if accept {
        crate::organizations::roles::ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    }
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock_request(&mut tx, instance_id, &org.id, id).await?.ok_or_else(request_not_found)?;
    if row.status != "pending" {
        return Err(Error::new(ErrorCode::OrganizationMembershipRequestNotPending));
    }
    let status = if accept { "accepted" } else { "rejected" };
    if accept && invitations::member_role(&mut tx, instance_id, &org.id, &row.user_id).await?.is_none() {
        let metadata = ("{}".to_owned(), "{}".to_owned());
        let role = &settings.domains_default_role;
        crate::organizations::memberships::add_member_tx(ctx, &mut tx, instance_id, &org, &row.user_id, role, metadata)
            .await?;
    }
    store::set_request_status(&mut tx, instance_id, &row.id, status, now).await?;
    row.status = status.into();
    row.updated_at = now;
    tx.commit().await?;
    hydrate_requests(ctx, instance_id, vec![row]).await?.pop().ok_or_else(request_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_filters() {
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            statuses(&v(&["pending", "accepted,pending", ""]), SUGGESTION_STATUSES).unwrap(),
            v(&["pending", "accepted"])
        );
        assert!(statuses(&v(&["rejected"]), SUGGESTION_STATUSES).is_err());
        assert!(statuses(&[], REQUEST_STATUSES).unwrap().is_empty());
    }
}
