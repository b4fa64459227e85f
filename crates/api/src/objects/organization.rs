//! `organization` objects.

use serde_json::{Value, json};
use tessera_core::organizations::Organization;

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

/// `OrganizationWithLogo`: an organization with the deprecated `logo_url` (only when it has a logo).
pub fn organization_with_logo(o: &Organization, base: &str) -> Value {
    let mut out = organization(o, base, Include::default());
    if o.image_id.is_some() {
        out["logo_url"] = out["image_url"].clone();
    }
    out
}
