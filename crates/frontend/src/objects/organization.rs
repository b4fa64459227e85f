//! `organization`, `organization_membership`, `public_user_data`, and the invitations and suggestions of the
//! signed-in user, roles and permissions, as the Frontend API shows them.

use serde::Serialize;
use serde_json::Value;
use tessera_core::domain_enrollment::{MembershipRequest, Suggestion};
use tessera_core::organization_invitations::{OrganizationInvitation, PublicOrganization};
use tessera_core::organizations::Organization;
use tessera_core::organizations::memberships::{MemberUser, Membership};
use tessera_core::organizations::permissions::Permission;
use tessera_core::organizations::roles::Role;

/// `Client.Organization` (closed: no private metadata).
#[derive(Debug, Serialize)]
pub struct OrganizationObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    slug: &'a str,
    image_url: String,
    has_image: bool,
    members_count: i64,
    max_allowed_memberships: i64,
    admin_delete_enabled: bool,
    public_metadata: &'a Value,
    created_at: i64,
    updated_at: i64,
}

impl<'a> OrganizationObject<'a> {
    /// The object of `o`; image URLs are absolute under `base`.
    pub fn new(o: &'a Organization, base: &str) -> Self {
        Self {
            object: "organization",
            id: &o.id,
            name: &o.name,
            slug: &o.slug,
            image_url: tessera_core::objects::organization::image_url(base, o.image_id.as_deref()),
            has_image: o.image_id.is_some(),
            members_count: o.members_count,
            max_allowed_memberships: o.max_allowed_memberships,
            admin_delete_enabled: o.admin_delete_enabled,
            public_metadata: &o.public_metadata,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// `Client.PublicUserData`.
#[derive(Debug, Serialize)]
pub struct PublicUserDataObject<'a> {
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    image_url: String,
    has_image: bool,
    identifier: &'a str,
    user_id: &'a str,
    username: Option<&'a str>,
    banned: bool,
}

impl<'a> PublicUserDataObject<'a> {
    /// The public data of a member.
    pub fn new(u: &'a MemberUser, base: &str) -> Self {
        Self {
            first_name: u.first_name.as_deref(),
            last_name: u.last_name.as_deref(),
            image_url: tessera_core::users::objects::image_url(base, u.image_id.as_deref()),
            has_image: u.image_id.is_some(),
            identifier: u.identifier.as_deref().unwrap_or_default(),
            user_id: &u.user_id,
            username: u.username.as_deref(),
            banned: u.banned,
        }
    }
}

/// `Client.OrganizationMembership`.
#[derive(Debug, Serialize)]
pub struct MembershipObject<'a> {
    object: &'static str,
    id: &'a str,
    public_metadata: &'a Value,
    role: &'a str,
    role_name: &'a str,
    permissions: &'a [String],
    organization: OrganizationObject<'a>,
    public_user_data: PublicUserDataObject<'a>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> MembershipObject<'a> {
    /// The object of `m`.
    pub fn new(m: &'a Membership, base: &str) -> Self {
        Self {
            object: "organization_membership",
            id: &m.id,
            public_metadata: &m.public_metadata,
            role: &m.role,
            role_name: m.role_name.as_deref().unwrap_or(&m.role),
            permissions: &m.permissions,
            organization: OrganizationObject::new(&m.organization, base),
            public_user_data: PublicUserDataObject::new(&m.user, base),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `Client.PublicOrganizationData`: what an invitation or suggestion shows of its organization.
#[derive(Debug, Serialize)]
pub struct PublicOrganizationDataObject<'a> {
    id: &'a str,
    name: &'a str,
    slug: &'a str,
    image_url: String,
    has_image: bool,
}

impl<'a> PublicOrganizationDataObject<'a> {
    /// The public data of `o`.
    pub fn new(o: &'a PublicOrganization, base: &str) -> Self {
        Self {
            id: &o.id,
            name: &o.name,
            slug: &o.slug,
            image_url: tessera_core::objects::organization::image_url(base, o.image_id.as_deref()),
            has_image: o.image_id.is_some(),
        }
    }
}

/// `Client.OrganizationInvitationUserContext`: an invitation addressed to the signed-in user.
#[derive(Debug, Serialize)]
pub struct OrganizationInvitationObject<'a> {
    object: &'static str,
    id: &'a str,
    email_address: &'a str,
    role: &'a str,
    role_name: &'a str,
    organization_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_organization_data: Option<PublicOrganizationDataObject<'a>>,
    status: &'static str,
    public_metadata: &'a Value,
    url: Option<&'a str>,
    expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> OrganizationInvitationObject<'a> {
    /// The object of `i` (never its private metadata).
    pub fn new(i: &'a OrganizationInvitation, base: &str) -> Self {
        Self {
            object: "organization_invitation",
            id: &i.row.id,
            email_address: &i.row.email_address,
            role: &i.row.role,
            role_name: &i.role_name,
            organization_id: &i.row.organization_id,
            public_organization_data: i.organization.as_ref().map(|o| PublicOrganizationDataObject::new(o, base)),
            status: i.status,
            public_metadata: &i.public_metadata,
            url: None,
            expires_at: i.row.expires_at,
            created_at: i.row.created_at,
            updated_at: i.row.updated_at,
        }
    }
}

/// `Client.OrganizationSuggestion`: an organization the user may join by a verified domain of theirs.
#[derive(Debug, Serialize)]
pub struct OrganizationSuggestionObject<'a> {
    object: &'static str,
    id: &'a str,
    public_organization_data: PublicOrganizationDataObject<'a>,
    status: &'a str,
    created_at: i64,
    updated_at: i64,
}

impl<'a> OrganizationSuggestionObject<'a> {
    /// The object of `s`.
    pub fn new(s: &'a Suggestion, base: &str) -> Option<Self> {
        Some(Self {
            object: "organization_suggestion",
            id: &s.row.id,
            public_organization_data: PublicOrganizationDataObject::new(s.organization.as_ref()?, base),
            status: &s.row.status,
            created_at: s.row.created_at,
            updated_at: s.row.updated_at,
        })
    }
}

/// `Client.OrganizationMembershipRequest`: a user asking to join an organization (by accepting a suggestion).
#[derive(Debug, Serialize)]
pub struct MembershipRequestObject<'a> {
    object: &'static str,
    id: &'a str,
    organization_id: &'a str,
    status: &'a str,
    public_user_data: Option<PublicUserDataObject<'a>>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> MembershipRequestObject<'a> {
    /// The object of `r`.
    pub fn new(r: &'a MembershipRequest, base: &str) -> Self {
        Self {
            object: "organization_membership_request",
            id: &r.row.id,
            organization_id: &r.row.organization_id,
            status: &r.row.status,
            public_user_data: r.user.as_ref().map(|u| PublicUserDataObject::new(u, base)),
            created_at: r.row.created_at,
            updated_at: r.row.updated_at,
        }
    }
}

/// A page of a list: `{data, total_count}` (the Frontend API's paginated lists).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// How many items the whole list has.
    pub total_count: i64,
}

/// `Client.Permission`.
#[derive(Debug, Serialize)]
pub struct PermissionObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    key: &'a str,
    description: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: i64,
    updated_at: i64,
}

impl<'a> PermissionObject<'a> {
    /// The object of `p`.
    pub fn new(p: &'a Permission) -> Self {
        Self {
            object: "permission",
            id: &p.id,
            name: &p.name,
            key: &p.key,
            description: &p.description,
            kind: &p.kind,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// `Client.Role`, with its permissions.
#[derive(Debug, Serialize)]
pub struct RoleObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    key: &'a str,
    description: &'a str,
    is_creator_eligible: bool,
    permissions: Vec<PermissionObject<'a>>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> RoleObject<'a> {
    /// The object of `r`.
    pub fn new(r: &'a Role) -> Self {
        Self {
            object: "role",
            id: &r.id,
            name: &r.name,
            key: &r.key,
            description: r.description.as_deref().unwrap_or_default(),
            is_creator_eligible: r.is_creator_eligible(),
            permissions: r.permissions.iter().map(PermissionObject::new).collect(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The page of `GET /v1/organizations/{id}/roles`: `{data, total_count, has_role_set_migration}`.
#[derive(Debug, Serialize)]
pub struct RolePage<'a> {
    /// The roles.
    pub data: Vec<RoleObject<'a>>,
    /// How many roles the whole list has.
    pub total_count: i64,
    /// Whether a role set migration is under way for the organization (Tessera migrates none).
    pub has_role_set_migration: bool,
}

/// `Client.DeletedObject`: what a deletion answers.
#[derive(Debug, Serialize)]
pub struct DeletedObject<'a> {
    object: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slug: Option<&'a str>,
    deleted: bool,
}

impl<'a> DeletedObject<'a> {
    /// A deleted `object` with this id (and slug, for organizations).
    pub fn new(object: &'static str, id: Option<&'a str>, slug: Option<&'a str>) -> Self {
        Self { object, id, slug, deleted: true }
    }
}
