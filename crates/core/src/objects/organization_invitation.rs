//! `organization_invitation` objects (also the data of `organizationInvitation.*` events).

use serde_json::{Value, json};

use crate::organization_invitations::{OrganizationInvitation, PublicOrganization, PublicUser};

/// Path under which organization logos are served (as `tessera_api::objects::organization::IMAGE_PATH`).
const ORGANIZATION_IMAGE_PATH: &str = "/v1/organization_images";

/// `OrganizationInvitationPublicUserData`.
pub fn public_user(u: &PublicUser, base: &str) -> Value {
    json!({
        "user_id": u.user_id,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "image_url": crate::users::objects::image_url(base, u.image_id.as_deref()),
        "has_image": u.image_id.is_some(),
        "identifier": u.identifier,
    })
}

/// `OrganizationInvitationPublicOrganizationData`.
pub fn public_organization(o: &PublicOrganization, base: &str) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "slug": o.slug,
        "image_url": o.image_id.as_deref().map(|id| format!("{base}{ORGANIZATION_IMAGE_PATH}/{id}")).unwrap_or_default(),
        "has_image": o.image_id.is_some(),
    })
}

/// `OrganizationInvitation`; with `with_organization`, `OrganizationInvitationWithPublicOrganizationData`.
pub fn organization_invitation(i: &OrganizationInvitation, base: &str, with_organization: bool) -> Value {
    let mut v = json!({
        "object": "organization_invitation",
        "id": i.row.id,
        "email_address": i.row.email_address,
        "role": i.row.role,
        "role_name": i.role_name,
        "organization_id": i.row.organization_id,
        "inviter_id": i.row.inviter_id,
        "public_inviter_data": i.inviter.as_ref().map(|u| public_user(u, base)),
        "status": i.status,
        "public_metadata": i.public_metadata,
        "private_metadata": i.private_metadata,
        // The link with the invitation's ticket, where the invitation is created (`null` elsewhere).
        "url": i.url,
        "expires_at": i.row.expires_at,
        "created_at": i.row.created_at,
        "updated_at": i.row.updated_at,
    });
    if with_organization && let Some(o) = &i.organization {
        v["public_organization_data"] = public_organization(o, base);
    }
    v
}
