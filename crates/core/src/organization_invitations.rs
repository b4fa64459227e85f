//! Organization invitations: create (one or a bulk of up to 10, all or nothing), list (per organization, per
//! instance, per user), get, revoke. The invitation e-mail goes through [`crate::sender`]. The stored status is
//! `pending`, `accepted` or `revoked`; a pending invitation past `expires_at` reads as `expired` everywhere.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use tessera_store::organization_invitations::{self as store, InvitationFilter, OrganizationInvitationRow};
use tessera_store::organizations::OrganizationRow;

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::instances::Instance;
use crate::sender::{self, Channel, Message};
use crate::users::{User, identifiers, metadata};
use crate::{Ctx, Error, ErrorCode, Result};

/// Default lifetime (days).
pub const DEFAULT_DAYS: i64 = 30;
/// Most invitations of one bulk request.
pub const MAX_BULK: usize = 10;
const DAY_MS: i64 = 86_400_000;
/// The permission that lets a member manage memberships and invitations.
pub const MANAGE_MEMBERSHIPS: &str = "org:sys_memberships:manage";
/// Built-in roles with their names, used while the instance stores no roles of its own.
const BUILTIN_ROLES: &[(&str, &str)] = &[("org:admin", "Admin"), ("org:member", "Member")];

/// What an invitation shows of its inviter.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicUser {
    /// `user_…`
    pub user_id: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Profile image.
    pub image_id: Option<String>,
    /// Primary email address (or username, or the id).
    pub identifier: String,
}

impl PublicUser {
    /// The public data of a user.
    pub fn of(u: &User) -> Self {
        let primary = u
            .email_addresses
            .iter()
            .find(|e| Some(&e.id) == u.primary_email_address_id.as_ref())
            .or(u.email_addresses.first())
            .map(|e| e.value.clone());
        Self {
            user_id: u.id.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            image_id: u.image_id.clone(),
            identifier: primary.or_else(|| u.username.clone()).unwrap_or_else(|| u.id.clone()),
        }
    }
}

/// What an invitation or a domain shows of its organization.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicOrganization {
    /// `org_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Logo.
    pub image_id: Option<String>,
}

impl PublicOrganization {
    /// The public data of an organization row.
    pub fn of(o: &OrganizationRow) -> Self {
        Self { id: o.id.clone(), name: o.name.clone(), slug: o.slug.clone(), image_id: o.image_id.clone() }
    }
}

/// An organization invitation as the API shows it.
#[derive(Debug, Clone)]
pub struct OrganizationInvitation {
    /// The row.
    pub row: OrganizationInvitationRow,
    /// Status at the time of reading.
    pub status: &'static str,
    /// The role's display name.
    pub role_name: String,
    /// Public metadata.
    pub public_metadata: Value,
    /// Private metadata.
    pub private_metadata: Value,
    /// The inviter, if any (and still a user).
    pub inviter: Option<PublicUser>,
    /// The organization.
    pub organization: Option<PublicOrganization>,
    /// The invitation's link with its ticket ([`crate::invitation_tickets`]); known where the invitation is created.
    pub url: Option<String>,
}

/// The status of a row at `now`.
pub fn status_at(row: &OrganizationInvitationRow, now: i64) -> &'static str {
    match row.status.as_str() {
        "accepted" => "accepted",
        "revoked" => "revoked",
        _ if row.expires_at.is_some_and(|e| e <= now) => "expired",
        _ => "pending",
    }
}

pub(crate) fn assemble(
    row: OrganizationInvitationRow,
    now: i64,
    roles: &HashMap<String, String>,
    inviter: Option<PublicUser>,
    organization: Option<PublicOrganization>,
) -> OrganizationInvitation {
    OrganizationInvitation {
        status: status_at(&row, now),
        role_name: roles.get(&row.role).cloned().unwrap_or_else(|| row.role.clone()),
        public_metadata: metadata(&row.public_metadata),
        private_metadata: metadata(&row.private_metadata),
        inviter,
        organization,
        url: None,
        row,
    }
}

/// Role key → name: the instance's stored roles, or the built-in ones while it stores none.
pub fn role_map(stored: Vec<(String, String)>) -> HashMap<String, String> {
    if stored.is_empty() {
        BUILTIN_ROLES.iter().map(|(k, n)| ((*k).to_owned(), (*n).to_owned())).collect()
    } else {
        stored.into_iter().collect()
    }
}

/// One invitation to create.
#[derive(Debug, Default, Clone)]
pub struct NewOrganizationInvitation {
    /// The invitee.
    pub email_address: String,
    /// Role key.
    pub role: String,
    /// The inviting member (must be able to manage memberships).
    pub inviter_user_id: Option<String>,
    /// Public metadata.
    pub public_metadata: Option<Map<String, Value>>,
    /// Private metadata.
    pub private_metadata: Option<Map<String, Value>>,
    /// Where the link leads.
    pub redirect_url: Option<String>,
    /// 1–365; default 30.
    pub expires_in_days: Option<i64>,
    /// Send the invitation e-mail (default true).
    pub notify: bool,
}

fn message(row: &OrganizationInvitationRow, org_name: &str, url: &str) -> Message {
    let link = format!("\nAccept it here: {url}\n");
    Message {
        channel: Channel::Email,
        to: row.email_address.clone(),
        subject: format!("You have been invited to join {org_name}"),
        body: format!("You have been invited to join the organization {org_name}.\n{link}"),
    }
}

fn duplicate(param: &str, email: &str) -> Error {
    Error::with(
        ErrorCode::DuplicateRecord,
        "duplicate invitation",
        format!("There are already pending invitations for the following email addresses: {email}"),
        Some(param),
    )
}

/// 404 for an invitation.
pub fn not_found() -> Error {
    Error::not_found("organization invitation")
}

/// Creates invitations in one transaction; in bulk, parameter names are prefixed with the item (`[0].role`).
pub async fn create(
    ctx: &Ctx,
    instance: &Instance,
    organization_id: &str,
    inputs: Vec<NewOrganizationInvitation>,
    bulk: bool,
) -> Result<Vec<OrganizationInvitation>> {
    crate::organizations::ensure_enabled(ctx, &instance.id).await?;
    // An unknown organization is 404 whatever the body (its name is in the e-mail, read before sending).
    let org = tessera_store::organizations::get(&ctx.db, &instance.id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    if bulk && (inputs.is_empty() || inputs.len() > MAX_BULK) {
        return Err(Error::param_value_invalid(
            "body",
            format!("Between 1 and {MAX_BULK} invitations can be created at once."),
        ));
    }
    let now = ctx.now_ms();
    let param = |i: usize, p: &str| if bulk { format!("[{i}].{p}") } else { p.to_owned() };
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let email = identifiers::email(&param(i, "email_address"), &input.email_address)?;
        crate::restriction_lists::enforce(ctx, &instance.id, identifiers::EMAIL, &email).await?;
        if input.role.trim().is_empty() {
            return Err(Error::param_missing(&param(i, "role")));
        }
        let days = input.expires_in_days.unwrap_or(DEFAULT_DAYS);
        if !(1..=365).contains(&days) {
            return Err(Error::param_value_invalid(
                &param(i, "expires_in_days"),
                "expires_in_days must be between 1 and 365.",
            ));
        }
        let redirect_url = input.redirect_url.clone().filter(|u| !u.is_empty());
        if redirect_url.as_deref().is_some_and(|u| url::Url::parse(u).is_err()) {
            return Err(Error::param_format_invalid(
                &param(i, "redirect_url"),
                "redirect_url must be an absolute URL.",
            ));
        }
        if !seen.insert(email.clone()) {
            return Err(duplicate(&param(i, "email_address"), &email));
        }
        rows.push(OrganizationInvitationRow {
            id: new_id("orginv"),
            instance_id: instance.id.clone(),
            organization_id: String::new(),
            email_normalized: email.clone(),
            email_address: email,
            role: input.role.trim().to_owned(),
            inviter_id: input.inviter_user_id.clone().filter(|u| !u.is_empty()),
            public_metadata: Value::Object(input.public_metadata.clone().unwrap_or_default()).to_string(),
            private_metadata: Value::Object(input.private_metadata.clone().unwrap_or_default()).to_string(),
            redirect_url,
            status: "pending".into(),
            expires_at: Some(now + days * DAY_MS),
            organization_domain_id: None,
            created_at: now,
            updated_at: now,
        });
    }
    // Deliveries precede the transaction so that an SMTP exchange never holds the writer; a production instance
    // without SMTP fails here.
    for (row, input) in rows.iter().zip(&inputs) {
        if input.notify {
            let url = crate::invitation_tickets::url(ctx, instance, &row.id, row.expires_at);
            sender::send_external(ctx, instance, &message(row, &org.name, &url)).await?;
        }
    }
    let mut tx = ctx.db.begin().await?;
    // Locking the organization serializes invitations to it: the pending-duplicate check below cannot race.
    let org = tessera_store::organizations::lock(&mut tx, &instance.id, &org.id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let (stored_roles, managing) = store::roles_tx(&mut tx, &instance.id, MANAGE_MEMBERSHIPS).await?;
    let roles = role_map(stored_roles);
    let mut inviters: HashMap<String, PublicUser> = HashMap::new();
    for (i, row) in rows.iter_mut().enumerate() {
        row.organization_id = org.id.clone();
        if !roles.contains_key(&row.role) {
            return Err(Error::param_value_invalid(
                &param(i, "role"),
                format!("No organization role `{}` exists.", row.role),
            ));
        }
        if let Some(inviter) = &row.inviter_id {
            let user = crate::users::get_user_tx(ctx, &mut tx, &instance.id, inviter).await?.ok_or_else(|| {
                Error::param_value_invalid(&param(i, "inviter_user_id"), format!("No user with id {inviter} exists."))
            })?;
            let role = store::member_role(&mut tx, &instance.id, &org.id, inviter).await?;
            if !role.is_some_and(|r| r == "org:admin" || managing.contains(&r)) {
                return Err(not_an_admin(&param(i, "inviter_user_id")));
            }
            inviters.insert(inviter.clone(), PublicUser::of(&user));
        }
        if store::member_with_email(&mut tx, &instance.id, &org.id, &row.email_normalized).await? {
            return Err(Error::with(
                ErrorCode::AlreadyAMemberInOrganization,
                ErrorCode::AlreadyAMemberInOrganization.message(),
                format!("{} is already a member of the organization.", row.email_address),
                Some(&param(i, "email_address")),
            ));
        }
        if store::pending_exists(&mut tx, &instance.id, &org.id, &row.email_normalized, now).await? {
            return Err(duplicate(&param(i, "email_address"), &row.email_address));
        }
    }
    let public_org = PublicOrganization::of(&org);
    let mut out = Vec::new();
    for (row, input) in rows.into_iter().zip(&inputs) {
        store::insert(&mut tx, &row).await?;
        let url = crate::invitation_tickets::url(ctx, instance, &row.id, row.expires_at);
        if input.notify {
            sender::capture(ctx, &mut tx, instance, &message(&row, &org.name, &url)).await?;
        }
        let inviter = row.inviter_id.as_ref().and_then(|id| inviters.get(id).cloned());
        let mut inv = assemble(row, now, &roles, inviter, Some(public_org.clone()));
        inv.url = Some(url);
        let data = crate::objects::organization_invitation::organization_invitation(&inv, "", false);
        events::emit(ctx, &mut tx, &instance.id, EventType::OrganizationInvitationCreated, &data).await?;
        out.push(inv);
    }
    tx.commit().await?;
    Ok(out)
}

fn not_an_admin(param: &str) -> Error {
    Error::with(
        ErrorCode::NotAnAdminInOrganization,
        ErrorCode::NotAnAdminInOrganization.message(),
        "The inviting user must be a member of the organization who can manage its memberships.",
        Some(param),
    )
}

/// Turns rows into invitations: role names, inviters and organizations, read in a few queries.
pub async fn hydrate(
    ctx: &Ctx,
    instance_id: &str,
    rows: Vec<OrganizationInvitationRow>,
) -> Result<Vec<OrganizationInvitation>> {
    let now = ctx.now_ms();
    let roles = role_map(store::roles(&ctx.db, instance_id).await?);
    let mut inviter_ids: Vec<String> = rows.iter().filter_map(|r| r.inviter_id.clone()).collect();
    inviter_ids.sort();
    inviter_ids.dedup();
    let users: HashMap<String, PublicUser> = crate::users::get_users(ctx, instance_id, &inviter_ids)
        .await?
        .iter()
        .map(|u| (u.id.clone(), PublicUser::of(u)))
        .collect();
    let mut orgs: HashMap<String, Option<PublicOrganization>> = HashMap::new();
    for r in &rows {
        if !orgs.contains_key(&r.organization_id) {
            let o = tessera_store::organizations::get(&ctx.db, instance_id, &r.organization_id).await?;
            orgs.insert(r.organization_id.clone(), o.as_ref().map(PublicOrganization::of));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let inviter = r.inviter_id.as_ref().and_then(|id| users.get(id).cloned());
            let org = orgs.get(&r.organization_id).cloned().flatten();
            assemble(r, now, &roles, inviter, org)
        })
        .collect())
}

/// A page of invitations matching `filter` (statuses judged by the clock), and the total.
pub async fn list(
    ctx: &Ctx,
    instance_id: &str,
    filter: &InvitationFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrganizationInvitation>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, filter, ctx.now_ms(), limit, offset).await?;
    Ok((hydrate(ctx, instance_id, rows).await?, total))
}

/// A page of one organization's invitations (404 for an unknown organization).
pub async fn list_for_organization(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    mut filter: InvitationFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrganizationInvitation>, i64)> {
    let org = tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    filter.organization_id = Some(org.id);
    list(ctx, instance_id, &filter, limit, offset).await
}

/// A page of the invitations addressed to a user's verified email addresses (404 for an unknown user).
pub async fn list_for_user(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    status: Option<String>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrganizationInvitation>, i64)> {
    crate::users::ensure_exists(ctx, instance_id, user_id).await?;
    let filter = InvitationFilter { user_id: Some(user_id.to_owned()), status, descending: true, ..Default::default() };
    list(ctx, instance_id, &filter, limit, offset).await
}

/// One invitation of an organization.
pub async fn get(ctx: &Ctx, instance_id: &str, organization_id: &str, id: &str) -> Result<OrganizationInvitation> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    let org = tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let row = store::get(&ctx.db, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    hydrate(ctx, instance_id, vec![row]).await?.pop().ok_or_else(not_found)
}

/// Revokes a pending invitation; `requesting_user_id`, when given, must be able to manage memberships.
pub async fn revoke(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    id: &str,
    requesting_user_id: Option<&str>,
) -> Result<OrganizationInvitation> {
    crate::organizations::ensure_enabled(ctx, instance_id).await?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let org = tessera_store::organizations::lock(&mut tx, instance_id, organization_id)
        .await?
        .ok_or_else(crate::organizations::not_found)?;
    let mut row = store::lock(&mut tx, instance_id, &org.id, id).await?.ok_or_else(not_found)?;
    let (stored_roles, managing) = store::roles_tx(&mut tx, instance_id, MANAGE_MEMBERSHIPS).await?;
    if let Some(user) = requesting_user_id.filter(|u| !u.is_empty()) {
        if tessera_store::users::lock(&mut tx, instance_id, user).await?.is_none() {
            return Err(crate::users::not_found());
        }
        let role = store::member_role(&mut tx, instance_id, &org.id, user).await?;
        if !role.is_some_and(|r| r == "org:admin" || managing.contains(&r)) {
            return Err(not_an_admin("requesting_user_id"));
        }
    }
    let status = status_at(&row, now);
    if status != "pending" {
        return Err(Error::with(
            ErrorCode::OrganizationInvitationNotPending,
            ErrorCode::OrganizationInvitationNotPending.message(),
            format!("Only pending invitations can be revoked; this one is {status}."),
            None,
        ));
    }
    store::set_status(&mut tx, instance_id, &row.id, "revoked", now).await?;
    row.status = "revoked".into();
    row.updated_at = now;
    let inviter = match &row.inviter_id {
        Some(u) => crate::users::get_user_tx(ctx, &mut tx, instance_id, u).await?.map(|u| PublicUser::of(&u)),
        None => None,
    };
    let inv = assemble(row, now, &role_map(stored_roles), inviter, Some(PublicOrganization::of(&org)));
    let data = crate::objects::organization_invitation::organization_invitation(&inv, "", false);
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationInvitationRevoked, &data).await?;
    tx.commit().await?;
    Ok(inv)
}

/// Accepts a pending invitation (locked by the caller's transaction) for `user_id`: the user becomes a member with
/// its role and metadata (unless already one), the invitation `accepted`; `organizationMembership.created` and
/// `organizationInvitation.accepted` are emitted with it.
pub(crate) async fn accept_tx(
    ctx: &Ctx,
    tx: &mut tessera_store::Tx,
    instance_id: &str,
    mut row: OrganizationInvitationRow,
    user_id: &str,
    now: i64,
) -> Result<()> {
    crate::organizations::roles::ensure_default_roles_tx(tx, instance_id, now).await?;
    let org = tessera_store::organizations::lock(tx, instance_id, &row.organization_id)
        .await?
        .ok_or_else(crate::invitation_tickets::invalid)?;
    if store::member_role(tx, instance_id, &org.id, user_id).await?.is_none() {
        let metadata = (row.public_metadata.clone(), row.private_metadata.clone());
        crate::organizations::memberships::add_member_tx(ctx, tx, instance_id, &org, user_id, &row.role, metadata)
            .await?;
    }
    store::set_status(tx, instance_id, &row.id, "accepted", now).await?;
    row.status = "accepted".into();
    row.updated_at = now;
    let (stored_roles, _) = store::roles_tx(tx, instance_id, MANAGE_MEMBERSHIPS).await?;
    let inviter = match &row.inviter_id {
        Some(u) => crate::users::get_user_tx(ctx, tx, instance_id, u).await?.map(|u| PublicUser::of(&u)),
        None => None,
    };
    let inv = assemble(row, now, &role_map(stored_roles), inviter, Some(PublicOrganization::of(&org)));
    let mut data = crate::objects::organization_invitation::organization_invitation(&inv, "", false);
    // The webhook spec's `OrganizationInvitationAcceptedPayload`: who accepted, and the organization under `data`.
    data["user_id"] = serde_json::json!(user_id);
    data["data"] = serde_json::json!({
        "public_organization_data": crate::objects::organization_invitation::public_organization(&PublicOrganization::of(&org), ""),
    });
    events::emit(ctx, tx, instance_id, EventType::OrganizationInvitationAccepted, &data).await
}

/// `POST /v1/me/organization_invitations/{id}/accept`: the signed-in user accepts a pending invitation addressed
/// to one of their verified e-mail addresses (anything else is 404) and becomes a member ([`accept_tx`]).
pub async fn accept_for_user(ctx: &Ctx, instance_id: &str, user_id: &str, id: &str) -> Result<OrganizationInvitation> {
    let row = store::get_by_id(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    let holder = tessera_store::sign_ins::user_by_identification(
        &ctx.db,
        instance_id,
        identifiers::EMAIL,
        &identifiers::email_key(&row.email_address),
    )
    .await?;
    if holder.as_deref() != Some(user_id) {
        return Err(not_found());
    }
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let row = store::lock_by_id(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if status_at(&row, now) != "pending" {
        return Err(not_found());
    }
    accept_tx(ctx, &mut tx, instance_id, row, user_id, now).await?;
    tx.commit().await?;
    let row = store::get_by_id(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    hydrate(ctx, instance_id, vec![row]).await?.pop().ok_or_else(not_found)
}
