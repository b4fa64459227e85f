//! `organization` objects (built in core, where webhook payloads need them too).

use serde_json::Value;
use tessera_core::organizations::Organization;

pub use tessera_core::objects::organization::{
    IMAGE_PATH, Include, image_url, membership, organization, role, role_set,
};

/// `OrganizationWithLogo`: an organization with the deprecated `logo_url` (only when it has a logo).
pub fn organization_with_logo(o: &Organization, base: &str) -> Value {
    let mut out = organization(o, base, Include::default());
    if o.image_id.is_some() {
        out["logo_url"] = out["image_url"].clone();
    }
    out
}
