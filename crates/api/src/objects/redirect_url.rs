//! `RedirectURL` and its deletion object.

use serde_json::{Value, json};
use tessera_core::redirect_urls::RedirectUrl;

/// `RedirectURL`.
pub fn redirect_url(r: &RedirectUrl) -> Value {
    json!({
        "object": "redirect_url",
        "id": r.id,
        "url": r.url,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

/// `DeletedObject` for a redirect URL.
pub fn deleted(id: &str) -> Value {
    json!({ "object": "redirect_url", "id": id, "deleted": true })
}
