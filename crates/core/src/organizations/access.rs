//! What a member may do in their organization (the Frontend API acts for a signed-in user): the permissions of
//! their membership's role decide. An organization the user is not a member of reads as unknown (404
//! `organization_not_found_or_unauthorized`, which does not reveal that it exists); a member whose role lacks the
//! permission an operation needs gets 403 `missing_organization_permission`.

use tessera_store::organizations::OrganizationRow;

use super::roles;
use crate::{Ctx, Error, ErrorCode, Result};

/// Change the organization's profile (name, slug, logo).
pub const PROFILE_MANAGE: &str = "org:sys_profile:manage";
/// Delete the organization.
pub const PROFILE_DELETE: &str = "org:sys_profile:delete";
/// See the members.
pub const MEMBERSHIPS_READ: &str = "org:sys_memberships:read";
/// Add, change and remove members; invitations and membership requests.
pub const MEMBERSHIPS_MANAGE: &str = roles::MANAGE_MEMBERSHIPS;
/// See the verified domains.
pub const DOMAINS_READ: &str = "org:sys_domains:read";
/// Add, verify, change and remove verified domains.
pub const DOMAINS_MANAGE: &str = "org:sys_domains:manage";

/// 404 for an organization the caller may not know of (unknown, or not theirs).
pub fn not_found_or_unauthorized() -> Error {
    Error::new(ErrorCode::OrganizationNotFoundOrUnauthorized)
}

/// A user's standing in an organization.
#[derive(Debug, Clone)]
pub struct MemberAccess {
    /// The organization.
    pub organization: OrganizationRow,
    /// The user's role key.
    pub role: String,
    /// The permission keys of that role.
    pub permissions: Vec<String>,
}

impl MemberAccess {
    /// Whether the role grants `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// 403 `missing_organization_permission` unless the role grants `permission`.
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.has(permission) { Ok(()) } else { Err(Error::missing_organization_permission(permission)) }
    }
}

/// `user_id`'s standing in the organization `organization_id` (by id or slug): organizations must be enabled, and
/// the user a member (else 404 `organization_not_found_or_unauthorized`).
pub async fn member_access(ctx: &Ctx, instance_id: &str, organization_id: &str, user_id: &str) -> Result<MemberAccess> {
    super::ensure_enabled(ctx, instance_id).await?;
    let organization = tessera_store::organizations::get(&ctx.db, instance_id, organization_id)
        .await?
        .ok_or_else(not_found_or_unauthorized)?;
    let role = tessera_store::organization_memberships::role_of(&ctx.db, instance_id, &organization.id, user_id)
        .await?
        .ok_or_else(not_found_or_unauthorized)?;
    let permissions = roles::all_roles(ctx, instance_id)
        .await?
        .into_iter()
        .find(|r| r.key == role)
        .map(|r| r.permission_keys())
        .unwrap_or_default();
    Ok(MemberAccess { organization, role, permissions })
}

/// `user_id`'s standing in the organization, which must grant `permission` (see [`member_access`]).
pub async fn require(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    permission: &str,
) -> Result<MemberAccess> {
    let access = member_access(ctx, instance_id, organization_id, user_id).await?;
    access.require(permission)?;
    Ok(access)
}

/// [`require`] for the list operations, whose spec declares no 404: an organization the user may not know of is
/// refused 403 `not_a_member_in_organization` instead — for unknown organizations too, so it reveals nothing
/// either.
pub async fn require_for_list(
    ctx: &Ctx,
    instance_id: &str,
    organization_id: &str,
    user_id: &str,
    permission: &str,
) -> Result<MemberAccess> {
    require(ctx, instance_id, organization_id, user_id, permission).await.map_err(|e| {
        if e.code() == ErrorCode::OrganizationNotFoundOrUnauthorized {
            Error::new(ErrorCode::NotAMemberInOrganization)
        } else {
            e
        }
    })
}
