//! `user` as the Frontend API shows it to the signed-in browser: the Backend API's user without its private
//! metadata, with the user's organization memberships (clerk-js derives `clerk.organization` from them).

use serde::Serialize;
use serde_json::{Map, Value};
use tessera_core::organizations::memberships::Membership;
use tessera_core::users::User;

use super::organization::MembershipObject;

/// `Client.User`.
#[derive(Debug, Serialize)]
pub struct UserObject<'a> {
    #[serde(flatten)]
    fields: Map<String, Value>,
    organization_memberships: Vec<MembershipObject<'a>>,
}

impl<'a> UserObject<'a> {
    /// The object of `u` with its memberships; URLs are absolute under `base`.
    pub fn new(u: &User, memberships: &'a [Membership], base: &str) -> Self {
        let mut fields = match tessera_core::objects::user::user(u, base) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        // The browser never sees private metadata.
        fields.remove("private_metadata");
        fields.remove("organization_memberships");
        // The Frontend API says "0 means unlimited" where the Backend API says null.
        if fields.get("create_organizations_limit").is_some_and(Value::is_null) {
            fields.insert("create_organizations_limit".into(), Value::from(0));
        }
        Self { fields, organization_memberships: memberships.iter().map(|m| MembershipObject::new(m, base)).collect() }
    }
}
