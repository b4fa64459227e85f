//! `waitlist_entry` objects (also the data of `waitlistEntry.*` events).

use serde_json::{Value, json};

use crate::invitations::Invitation;
use crate::waitlist_entries::WaitlistEntry;

/// `Invitation` (as `tessera_api::objects::invitation::invitation` shows it).
fn invitation(i: &Invitation) -> Value {
    json!({
        "object": "invitation",
        "id": i.row.id,
        "email_address": i.row.email_address,
        "public_metadata": i.public_metadata,
        "revoked": i.row.revoked,
        "status": i.status,
        "expires_at": i.row.expires_at,
        "created_at": i.row.created_at,
        "updated_at": i.row.updated_at,
    })
}

/// `WaitlistEntry`. Entries are never locked: Tessera runs no batch actions on them.
pub fn waitlist_entry(e: &WaitlistEntry) -> Value {
    json!({
        "object": "waitlist_entry",
        "id": e.row.id,
        "email_address": e.row.email_address,
        "status": e.row.status,
        "is_locked": false,
        "invitation": e.invitation.as_ref().map(invitation),
        "created_at": e.row.created_at,
        "updated_at": e.row.updated_at,
    })
}
