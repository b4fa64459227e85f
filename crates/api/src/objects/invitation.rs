//! `invitation`, `allowlist_identifier` and `blocklist_identifier` objects.

use serde_json::{Value, json};
use tessera_core::invitations::Invitation;
use tessera_core::store::restriction_lists::ListEntryRow;

/// `Invitation`; `url` (the link with its ticket) only where the invitation is created.
pub fn invitation(i: &Invitation) -> Value {
    let mut v = json!({
        "object": "invitation",
        "id": i.row.id,
        "email_address": i.row.email_address,
        "public_metadata": i.public_metadata,
        "revoked": i.row.revoked,
        "status": i.status,
        "expires_at": i.row.expires_at,
        "created_at": i.row.created_at,
        "updated_at": i.row.updated_at,
    });
    if let Some(url) = &i.url {
        v["url"] = json!(url);
    }
    v
}

/// The `DeletedObject` of an erased invitation (`invitations.deleteInvitation` reads `object`, `id`, `deleted`).
#[derive(Debug, serde::Serialize)]
pub struct DeletedInvitationObject<'a> {
    object: &'static str,
    id: &'a str,
    deleted: bool,
}

impl<'a> DeletedInvitationObject<'a> {
    /// The erased invitation `id`.
    pub fn new(id: &'a str) -> Self {
        Self { object: "invitation", id, deleted: true }
    }
}

/// `AllowlistIdentifier` / `BlocklistIdentifier`.
pub fn list_entry(e: &ListEntryRow) -> Value {
    let mut v = json!({
        "object": format!("{}_identifier", e.list),
        "id": e.id,
        "identifier": e.identifier,
        "identifier_type": e.identifier_type,
        "instance_id": e.instance_id,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    });
    if let Some(inv) = &e.invitation_id {
        v["invitation_id"] = json!(inv);
    }
    v
}
