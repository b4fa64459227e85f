//! The `admin_portal_link_token` object (machine-auth dialect: hex id, millisecond `number` timestamps).

use serde::Serialize;
use tessera_core::admin_portal::AdminPortalLinkToken;

/// Clerk's `admin_portal_link_token` object; `token` only in the answer to create.
#[derive(Debug, Serialize)]
pub struct AdminPortalLinkTokenObject<'a> {
    object: &'static str,
    id: &'a str,
    admin_portal_link_id: &'a str,
    instance_id: &'a str,
    organization_id: Option<&'a str>,
    it_contact_id: Option<&'a str>,
    scopes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    revoked: bool,
    revocation_reason: Option<&'a str>,
    expired: bool,
    expiration: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl<'a> AdminPortalLinkTokenObject<'a> {
    /// The object (with `token` when `t` carries it).
    pub fn new(t: &'a AdminPortalLinkToken) -> Self {
        let r = &t.row;
        Self {
            object: "admin_portal_link_token",
            id: &r.id,
            admin_portal_link_id: &r.admin_portal_link_id,
            instance_id: &r.instance_id,
            organization_id: r.organization_id.as_deref(),
            it_contact_id: r.it_contact_id.as_deref(),
            scopes: t.scopes.as_deref(),
            token: t.token.as_deref(),
            revoked: r.revoked,
            revocation_reason: r.revocation_reason.as_deref(),
            expired: t.expired,
            expiration: Some(r.expiration),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
