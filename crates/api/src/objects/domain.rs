//! `Domain` and its deletion object.

use serde_json::{Value, json};
use tessera_core::domains::Domain;

/// `Domain`.
pub fn domain(d: &Domain) -> Value {
    let cname_targets = d.cname_targets.as_ref().map(|targets| {
        targets.iter().map(|t| json!({ "host": t.host, "value": t.value, "required": t.required })).collect::<Vec<_>>()
    });
    json!({
        "object": "domain",
        "id": d.id,
        "name": d.name,
        "is_satellite": d.is_satellite,
        "frontend_api_url": d.frontend_api_url,
        "accounts_portal_url": d.accounts_portal_url,
        "proxy_url": d.proxy_url,
        "development_origin": d.development_origin,
        "cname_targets": cname_targets,
    })
}

/// `DeletedObject` for a domain.
pub fn deleted(id: &str) -> Value {
    json!({ "object": "domain", "id": id, "deleted": true })
}
