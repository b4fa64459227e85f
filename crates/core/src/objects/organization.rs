//! `organization`, `organization_membership`, `role` and `permission` objects.

use serde_json::{Value, json};

use crate::organizations::Organization;
use crate::organizations::memberships::Membership;
use crate::organizations::permissions::Permission;
use crate::organizations::roles::Role;

/// Path under which logos are served (outside the spec): `{base}/v1/organization_images/{image_id}`.
pub const IMAGE_PATH: &str = "/v1/organization_images";

/// Which optional counters an answer includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    /// `members_count`.
    pub members_count: bool,
    /// `missing_member_with_elevated_permissions`.
    pub missing_member_with_elevated_permissions: bool,
}

impl Include {
    /// Both counters (webhook payloads and memberships carry them).
    pub const ALL: Include = Include { members_count: true, missing_member_with_elevated_permissions: true };
}

/// The URL of an organization's logo (empty without one, like a user without an image).
pub fn image_url(base: &str, image_id: Option<&str>) -> String {
    image_id.map(|id| format!("{base}{IMAGE_PATH}/{id}")).unwrap_or_default()
}

/// `Organization`: every required field present.
pub fn organization(o: &Organization, base: &str, include: Include) -> Value {
    let mut out = json!({
        "object": "organization",
        "id": o.id,
        "name": o.name,
        "slug": o.slug,
        "image_url": image_url(base, o.image_id.as_deref()),
        "has_image": o.image_id.is_some(),
        "max_allowed_memberships": o.max_allowed_memberships,
        "admin_delete_enabled": o.admin_delete_enabled,
        "public_metadata": o.public_metadata,
        "private_metadata": o.private_metadata,
        "role_set_key": o.role_set_key,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    });
    if let Some(by) = &o.created_by {
        out["created_by"] = json!(by);
    }
    if let Some(t) = o.last_active_at {
        out["last_active_at"] = json!(t);
    }
    if include.members_count {
        out["members_count"] = json!(o.members_count);
    }
    if include.missing_member_with_elevated_permissions {
        out["missing_member_with_elevated_permissions"] = json!(o.missing_member_with_elevated_permissions);
    }
    out
}

/// `Permission`.
pub fn permission(p: &Permission) -> Value {
    json!({
        "object": "permission",
        "id": p.id,
        "name": p.name,
        "key": p.key,
        "description": p.description,
        "type": p.kind,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

/// `Role`, with its permissions.
pub fn role(r: &Role) -> Value {
    json!({
        "object": "role",
        "id": r.id,
        "name": r.name,
        "key": r.key,
        "description": r.description,
        "is_creator_eligible": r.is_creator_eligible(),
        "permissions": r.permissions.iter().map(permission).collect::<Vec<_>>(),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// `OrganizationMembership`, with the organization and the member's public data.
pub fn membership(m: &Membership, base: &str) -> Value {
    let image = crate::users::objects::image_url(base, m.user.image_id.as_deref());
    let mut out = json!({
        "object": "organization_membership",
        "id": m.id,
        "role": m.role,
        "permissions": m.permissions,
        "public_metadata": m.public_metadata,
        "private_metadata": m.private_metadata,
        "organization": organization(&m.organization, base, Include::ALL),
        "public_user_data": {
            "user_id": m.user.user_id,
            "first_name": m.user.first_name,
            "last_name": m.user.last_name,
            "profile_image_url": image,
            "image_url": image,
            "has_image": m.user.image_id.is_some(),
            "identifier": m.user.identifier,
            "username": m.user.username,
            "banned": m.user.banned,
            "deprovisioned": false,
        },
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    });
    if let Some(name) = &m.role_name {
        out["role_name"] = json!(name);
    }
    out
}

/// `RoleSetItem`.
fn role_set_item(r: &crate::organizations::role_sets::SetRole) -> Value {
    json!({
        "object": "role_set_item",
        "id": r.id,
        "name": r.name,
        "key": r.key,
        "description": r.description,
        "members_count": r.members_count,
        "has_members": r.members_count > 0,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// `RoleSet`, with its roles and its default and creator roles.
pub fn role_set(s: &crate::organizations::role_sets::RoleSet) -> Value {
    json!({
        "object": "role_set",
        "id": s.id,
        "name": s.name,
        "key": s.key,
        "description": s.description,
        "roles": s.roles.iter().map(role_set_item).collect::<Vec<_>>(),
        "default_role": s.role(&s.default_role_key).map(role_set_item),
        "creator_role": s.role(&s.creator_role_key).map(role_set_item),
        "type": s.kind,
        "role_set_migration": null,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}
