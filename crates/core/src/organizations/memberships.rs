//! Organization memberships: a user's role in an organization, with metadata. The membership limit of an
//! organization is enforced by locking the organization row in the membership transaction (PostgreSQL
//! `SELECT … FOR UPDATE`; SQLite has one writer).

use std::collections::HashMap;

use serde_json::{Map, Value};
use tessera_store::Tx;
use tessera_store::organization_memberships::{self as store, MembershipRow};
use tessera_store::user_list::{self, MembershipFilter, MembershipUserRow, UserOrder};

use super::roles::{self, Role};
use super::{Organization, ensure_enabled, not_found as org_not_found};
use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::users::metadata;
use crate::users::update::apply_metadata;
use crate::{Ctx, Error, ErrorCode, Result};

/// The public data of a member.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberUser {
    /// `user_…`
    pub user_id: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Profile image.
    pub image_id: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Primary email address, else primary phone number, else username.
    pub identifier: Option<String>,
    /// Banned.
    pub banned: bool,
}

/// A membership with its organization, its role's name and permissions, and the member's public data.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    /// `orgmem_…`
    pub id: String,
    /// Role key.
    pub role: String,
    /// The role's name (absent if the role no longer exists).
    pub role_name: Option<String>,
    /// The role's permission keys.
    pub permissions: Vec<String>,
    /// JSON object.
    pub public_metadata: Value,
    /// JSON object.
    pub private_metadata: Value,
    /// The organization.
    pub organization: Organization,
    /// The member.
    pub user: MemberUser,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

fn build(r: MembershipUserRow, organization: Organization, roles: &[Role]) -> Membership {
    let m = r.membership;
    let role = roles.iter().find(|x| x.key == m.role);
    Membership {
        role_name: role.map(|x| x.name.clone()),
        permissions: role.map(Role::permission_keys).unwrap_or_default(),
        public_metadata: metadata(&m.public_metadata),
        private_metadata: metadata(&m.private_metadata),
        id: m.id,
        role: m.role,
        organization,
        user: MemberUser {
            identifier: r.identifier.or_else(|| r.username.clone()),
            user_id: m.user_id,
            first_name: r.first_name,
            last_name: r.last_name,
            image_id: r.image_id,
            username: r.username,
            banned: r.banned,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn membership_not_found() -> Error {
    Error::not_found("organization membership")
}

/// The organization (locked) as it stands inside the transaction, with its counters.
pub(crate) async fn organization_tx(tx: &mut Tx, instance_id: &str, id: &str, roles: &[Role]) -> Result<Organization> {
    let row = tessera_store::organizations::lock(tx, instance_id, id).await?.ok_or_else(org_not_found)?;
    let elevated: Vec<String> =
        roles.iter().filter(|r| r.has(roles::MANAGE_MEMBERSHIPS)).map(|r| r.key.clone()).collect();
    let has = tessera_store::organizations::has_member_in_roles_tx(tx, instance_id, &row.id, &elevated).await?;
    Ok(Organization::from_row(row, has))
}

/// Emits a membership event with the membership as it stands inside the transaction.
async fn membership_in_tx(
    tx: &mut Tx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    roles: &[Role],
) -> Result<Membership> {
    let org = organization_tx(tx, instance_id, organization_id, roles).await?;
    let row = user_list::membership_tx(tx, instance_id, &org.id, user_id).await?.ok_or_else(membership_not_found)?;
    Ok(build(row, org, roles))
}

/// 422 unless `role` belongs to the organization's role set (when it has one).
async fn check_role_set(tx: &mut Tx, instance_id: &str, role_set_key: Option<&str>, role: &str) -> Result<()> {
    if let Some(k) = role_set_key
        && let Some(set) = super::role_sets::role_set_tx(tx, instance_id, k).await?
        && set.role(role).is_none()
    {
        return Err(Error::param_value_invalid(
            "role",
            format!("`{role}` is not a role of the organization's role set `{k}`."),
        ));
    }
    Ok(())
}

async fn emit(ctx: &Ctx, tx: &mut Tx, instance_id: &str, t: EventType, m: &Membership) -> Result<()> {
    events::emit(ctx, tx, instance_id, t, &crate::objects::organization::membership(m, "")).await
}

/// Adds `user_id` to the organization with `role` inside the caller's transaction (the organization row must be
/// locked by it): refuses a full organization (403) and an existing member (400).
pub(crate) async fn add_member_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    org: &tessera_store::organizations::OrganizationRow,
    user_id: &str,
    role: &str,
    (public_metadata, private_metadata): (String, String),
) -> Result<Membership> {
    let roles = roles::all_roles_tx(tx, instance_id).await?;
    if !roles.iter().any(|r| r.key == role) {
        return Err(Error::param_value_invalid(
            "role",
            format!("No organization role with key `{role}` exists in this instance."),
        ));
    }
    check_role_set(tx, instance_id, org.role_set_key.as_deref(), role).await?;
    if org.max_allowed_memberships > 0
        && store::count_tx(tx, instance_id, &org.id).await? >= org.max_allowed_memberships
    {
        return Err(Error::new(ErrorCode::OrganizationMembershipQuotaExceeded));
    }
    let now = ctx.now_ms();
    let row = MembershipRow {
        id: new_id("orgmem"),
        instance_id: instance_id.to_owned(),
        organization_id: org.id.clone(),
        user_id: user_id.to_owned(),
        role: role.to_owned(),
        public_metadata,
        private_metadata,
        created_at: now,
        updated_at: now,
    };
    store::insert(tx, &row).await.map_err(|e| {
        if e.is_unique_violation() { Error::new(ErrorCode::AlreadyAMemberInOrganization) } else { e.into() }
    })?;
    let m = membership_in_tx(tx, instance_id, &org.id, user_id, &roles).await?;
    emit(ctx, tx, instance_id, EventType::OrganizationMembershipCreated, &m).await?;
    Ok(m)
}

/// Sets an existing member's role inside the caller's transaction (the organization row locked by it) and emits
/// `organizationMembership.updated`; nothing happens when the role is already that one. For roles a directory's
/// group mappings decide.
pub(crate) async fn set_role_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    instance_id: &str,
    org: &tessera_store::organizations::OrganizationRow,
    user_id: &str,
    role: &str,
) -> Result<()> {
    let mut row =
        user_list::membership_tx(tx, instance_id, &org.id, user_id).await?.ok_or_else(membership_not_found)?.membership;
    if row.role == role {
        return Ok(());
    }
    check_role_set(tx, instance_id, org.role_set_key.as_deref(), role).await?;
    row.role = role.to_owned();
    row.updated_at = ctx.now_ms();
    store::update(tx, &row).await?;
    let roles = roles::all_roles_tx(tx, instance_id).await?;
    let m = membership_in_tx(tx, instance_id, &org.id, user_id, &roles).await?;
    emit(ctx, tx, instance_id, EventType::OrganizationMembershipUpdated, &m).await
}

/// Input of [`create_membership`].
#[derive(Debug, Default)]
pub struct NewMembership {
    /// The user to add.
    pub user_id: String,
    /// Role key.
    pub role: String,
    /// Public metadata.
    pub public_metadata: Option<Map<String, Value>>,
    /// Private metadata.
    pub private_metadata: Option<Map<String, Value>>,
}

/// Adds a user of the instance to an organization.
pub async fn create_membership(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    input: NewMembership,
) -> Result<Membership> {
    ensure_enabled(ctx, instance_id).await?;
    let user_id = input.user_id.trim().to_owned();
    if user_id.is_empty() {
        return Err(Error::param_missing("user_id"));
    }
    let role = input.role.trim().to_owned();
    if role.is_empty() {
        return Err(Error::param_missing("role"));
    }
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let org =
        tessera_store::organizations::lock(&mut tx, instance_id, organization_id).await?.ok_or_else(org_not_found)?;
    if tessera_store::users::lock(&mut tx, instance_id, &user_id).await?.is_none() {
        return Err(crate::users::not_found());
    }
    let m = add_member_tx(
        ctx,
        &mut tx,
        instance_id,
        &org,
        &user_id,
        &role,
        (
            Value::Object(input.public_metadata.unwrap_or_default()).to_string(),
            Value::Object(input.private_metadata.unwrap_or_default()).to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// What [`change_membership`] does.
enum Change {
    Role(String),
    Metadata { public: Option<Map<String, Value>>, private: Option<Map<String, Value>> },
}

/// Whether a change must leave the organization a member who can manage memberships: a member's own change (the
/// Frontend API) must (Clerk refuses 400 `organization_minimum_permissions_needed`); the Backend API may leave an
/// organization without one (`missing_member_with_elevated_permissions` then says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// No condition (the Backend API).
    Nothing,
    /// At least one member whose role can manage memberships remains.
    AManager,
}

/// 400 unless, inside the transaction after the change, some member still holds a role that manages memberships.
async fn ensure_a_manager_remains(tx: &mut Tx, instance_id: &str, organization_id: &str, roles: &[Role]) -> Result<()> {
    let elevated: Vec<String> =
        roles.iter().filter(|r| r.has(roles::MANAGE_MEMBERSHIPS)).map(|r| r.key.clone()).collect();
    if tessera_store::organizations::has_member_in_roles_tx(tx, instance_id, organization_id, &elevated).await? {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::OrganizationMinimumPermissionsNeeded))
    }
}

async fn change_membership(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    change: Change,
    keep: Keep,
) -> Result<Membership> {
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let org =
        tessera_store::organizations::lock(&mut tx, instance_id, organization_id).await?.ok_or_else(org_not_found)?;
    let current = user_list::membership_tx(&mut tx, instance_id, &org.id, user_id)
        .await?
        .ok_or_else(membership_not_found)?
        .membership;
    let roles = roles::all_roles_tx(&mut tx, instance_id).await?;
    let mut row = current;
    match change {
        Change::Role(role) => {
            let role = role.trim();
            if role.is_empty() {
                return Err(Error::param_missing("role"));
            }
            if !roles.iter().any(|r| r.key == role) {
                return Err(Error::param_value_invalid(
                    "role",
                    format!("No organization role with key `{role}` exists in this instance."),
                ));
            }
            check_role_set(&mut tx, instance_id, org.role_set_key.as_deref(), role).await?;
            row.role = role.to_owned();
        }
        Change::Metadata { public, private } => {
            if let Some(p) = public {
                apply_metadata(&mut row.public_metadata, p, true);
            }
            if let Some(p) = private {
                apply_metadata(&mut row.private_metadata, p, true);
            }
        }
    }
    row.updated_at = ctx.now_ms();
    store::update(&mut tx, &row).await?;
    if keep == Keep::AManager {
        ensure_a_manager_remains(&mut tx, instance_id, &org.id, &roles).await?;
    }
    let m = membership_in_tx(&mut tx, instance_id, &org.id, user_id, &roles).await?;
    emit(ctx, &mut tx, instance_id, EventType::OrganizationMembershipUpdated, &m).await?;
    tx.commit().await?;
    Ok(m)
}

/// Changes a member's role; `keep` says what must remain true ([`Keep`]).
pub async fn update_membership(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    role: &str,
    keep: Keep,
) -> Result<Membership> {
    change_membership(ctx, instance_id, organization_id, user_id, Change::Role(role.to_owned()), keep).await
}

/// Deep-merges a membership's metadata (`null` deletes a key).
pub async fn merge_membership_metadata(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    public: Option<Map<String, Value>>,
    private: Option<Map<String, Value>>,
) -> Result<Membership> {
    let change = Change::Metadata { public, private };
    change_membership(ctx, instance_id, organization_id, user_id, change, Keep::Nothing).await
}

/// Removes a member; returns the membership as it was. `keep` says what must remain true ([`Keep`]).
pub async fn delete_membership(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    keep: Keep,
) -> Result<Membership> {
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let org =
        tessera_store::organizations::lock(&mut tx, instance_id, organization_id).await?.ok_or_else(org_not_found)?;
    let roles = roles::all_roles_tx(&mut tx, instance_id).await?;
    let before = membership_in_tx(&mut tx, instance_id, &org.id, user_id, &roles).await?;
    store::delete(&mut tx, instance_id, &before.id).await?;
    if keep == Keep::AManager {
        ensure_a_manager_remains(&mut tx, instance_id, &org.id, &roles).await?;
    }
    // The payload shows the organization without the member.
    let after_org = organization_tx(&mut tx, instance_id, &org.id, &roles).await?;
    let deleted = Membership { organization: after_org, ..before };
    emit(ctx, &mut tx, instance_id, EventType::OrganizationMembershipDeleted, &deleted).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Sort fields of the membership lists.
pub const ORDER_FIELDS: &[&str] =
    &["created_at", "first_name", "last_name", "username", "email_address", "phone_number"];

/// The store ordering of an `order_by` field of [`ORDER_FIELDS`].
pub fn order_of(field: &str) -> UserOrder {
    match field {
        "first_name" => UserOrder::FirstName,
        "last_name" => UserOrder::LastName,
        "username" => UserOrder::Username,
        "email_address" => UserOrder::EmailAddress,
        "phone_number" => UserOrder::PhoneNumber,
        _ => UserOrder::CreatedAt,
    }
}

/// Ordering and window of a membership list.
#[derive(Debug, Clone, Copy)]
pub struct MembershipPage {
    /// Sort field.
    pub order: UserOrder,
    /// Descending.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Skipped rows.
    pub offset: i64,
}

/// A page of memberships and the total count.
pub async fn list_memberships(
    ctx: &Ctx,
    instance_id: &str,
    filter: &MembershipFilter,
    page: MembershipPage,
) -> Result<(Vec<Membership>, i64)> {
    let MembershipPage { order, descending, limit, offset } = page;
    let rows = user_list::memberships(&ctx.db, instance_id, filter, order, descending, limit, offset).await?;
    let total = user_list::memberships_count(&ctx.db, instance_id, filter).await?;
    if rows.is_empty() {
        return Ok((Vec::new(), total));
    }
    let roles = roles::all_roles(ctx, instance_id).await?;
    let mut orgs: HashMap<String, Organization> = HashMap::new();
    for r in &rows {
        if !orgs.contains_key(&r.membership.organization_id) {
            let org = super::get_organization(ctx, instance_id, &r.membership.organization_id).await?;
            orgs.insert(org.id.clone(), org);
        }
    }
    let out = rows
        .into_iter()
        .filter_map(|r| {
            let org = orgs.get(&r.membership.organization_id)?.clone();
            Some(build(r, org, &roles))
        })
        .collect();
    Ok((out, total))
}

/// The members of one organization (404 for an unknown organization).
pub async fn list_organization_memberships(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    mut filter: MembershipFilter,
    page: MembershipPage,
) -> Result<(Vec<Membership>, i64)> {
    let org =
        tessera_store::organizations::get(&ctx.db, instance_id, organization_id).await?.ok_or_else(org_not_found)?;
    filter.organization_id = Some(org.id);
    list_memberships(ctx, instance_id, &filter, page).await
}

/// The id of the organization a new session of `user_id` starts in: `requested` must name (by id or slug) an
/// organization the user is a member of. `None`/empty: no active organization.
pub async fn active_organization(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    requested: Option<&str>,
) -> Result<Option<String>> {
    let Some(requested) = requested.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let org = tessera_store::organizations::get(&ctx.db, instance_id, requested).await?.ok_or_else(org_not_found)?;
    if store::role_of(&ctx.db, instance_id, &org.id, user_id).await?.is_none() {
        return Err(Error::param_value_invalid(
            "active_organization_id",
            "The user is not a member of this organization.",
        ));
    }
    Ok(Some(org.id))
}

/// Adds Clerk's v2 organization claims to a session token of `user_id` whose active organization is
/// `organization_id`: `o: {id, slg, rol, per, fpm}` and `fea`. `rol` is the role key without `org:`; `per` lists
/// the permission actions and `fea` the features (`o:<feature>`), and `fpm` gives, per feature, the bitmask of
/// its actions (bit i = i-th entry of `per`), so that `org:<feature>:<action>` decodes back. Like Clerk, only
/// custom permissions are carried (system ones are not). Nothing is added if the user is no longer a member.
/// With billing enabled for organizations, `plan_features` are the features of the organization's plans: `fea`
/// lists exactly those, and only permissions of those features are carried (a permission's feature must be in the
/// plan for the permission to count).
pub async fn add_organization_claims(
    ctx: &Ctx,
    instance_id: &str,
    user_id: &str,
    organization_id: Option<&str>,
    plan_features: Option<&[String]>,
    claims: &mut Map<String, Value>,
) -> Result<()> {
    let Some(org_id) = organization_id else { return Ok(()) };
    let Some(org) = tessera_store::organizations::get(&ctx.db, instance_id, org_id).await? else { return Ok(()) };
    let Some(role_key) = store::role_of(&ctx.db, instance_id, &org.id, user_id).await? else { return Ok(()) };
    let roles = roles::all_roles(ctx, instance_id).await?;
    let keys: Vec<String> = roles
        .iter()
        .find(|r| r.key == role_key)
        .map(Role::permission_keys)
        .unwrap_or_default()
        .into_iter()
        .filter(|k| !k.starts_with("org:sys_"))
        .filter(|k| plan_features.is_none_or(|fs| fs.iter().any(|f| k.split(':').nth(1) == Some(f.as_str()))))
        .collect();
    let (mut features, actions, mut masks) = encode_permissions(&keys);
    if let Some(plan_features) = plan_features {
        // `fpm` runs parallel to the `o:` entries of `fea`: one mask per plan feature, 0 without permissions.
        masks = plan_features.iter().map(|f| features.iter().position(|x| x == f).map_or(0, |i| masks[i])).collect();
        features = plan_features.to_vec();
    }
    let rol = role_key.strip_prefix("org:").unwrap_or(&role_key).to_owned();
    claims.insert(
        "o".into(),
        serde_json::json!({
            "id": org.id,
            "slg": org.slug,
            "rol": rol,
            "per": actions.join(","),
            "fpm": masks.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        }),
    );
    if !features.is_empty() {
        let fea = features.iter().map(|f| format!("o:{f}")).collect::<Vec<_>>().join(",");
        claims.insert("fea".into(), Value::String(fea));
    }
    Ok(())
}

/// Splits `org:<feature>:<action>` keys into the features, the distinct actions and a bitmask of actions per
/// feature (bit i set = the feature has the i-th action).
pub fn encode_permissions(keys: &[String]) -> (Vec<String>, Vec<String>, Vec<u64>) {
    let mut features: Vec<String> = Vec::new();
    let mut actions: Vec<String> = Vec::new();
    let mut masks: Vec<u64> = Vec::new();
    for key in keys {
        let mut parts = key.splitn(3, ':');
        let (Some(_), Some(feature), Some(action)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let a = match actions.iter().position(|x| x == action) {
            Some(i) => i,
            None => {
                actions.push(action.to_owned());
                actions.len() - 1
            }
        };
        if a >= 64 {
            continue;
        }
        let f = match features.iter().position(|x| x == feature) {
            Some(i) => i,
            None => {
                features.push(feature.to_owned());
                masks.push(0);
                features.len() - 1
            }
        };
        masks[f] |= 1 << a;
    }
    (features, actions, masks)
}

/// Every membership of one user (at most 500, newest first): what a signed-in browser's user object lists.
pub async fn of_user(ctx: &Ctx, instance_id: &str, user_id: &str) -> Result<Vec<Membership>> {
    let filter = MembershipFilter { user_id: Some(user_id.to_owned()), ..MembershipFilter::default() };
    let page = MembershipPage { order: UserOrder::CreatedAt, descending: true, limit: 500, offset: 0 };
    Ok(list_memberships(ctx, instance_id, &filter, page).await?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_encode_per_feature() {
        let keys: Vec<String> =
            ["org:posts:read", "org:posts:write", "org:billing:read"].iter().map(|s| s.to_string()).collect();
        let (f, a, m) = encode_permissions(&keys);
        assert_eq!(f, ["posts", "billing"]);
        assert_eq!(a, ["read", "write"]);
        assert_eq!(m, [0b11, 0b01]);
    }
}
