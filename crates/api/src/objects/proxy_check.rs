//! `ProxyCheck`.

use serde_json::{Value, json};
use tessera_core::proxy_checks::ProxyCheck;

/// `ProxyCheck`.
pub fn proxy_check(c: &ProxyCheck) -> Value {
    json!({
        "object": "proxy_check",
        "id": c.id,
        "domain_id": c.domain_id,
        "last_run_at": c.last_run_at,
        "proxy_url": c.proxy_url,
        "successful": c.successful,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}
