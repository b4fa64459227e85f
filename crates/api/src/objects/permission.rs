//! `permission` objects.

use serde_json::{Value, json};
use tessera_core::organizations::permissions::Permission;

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
