//! The `session` object (also the `data` of `session.*` webhook events, with the user).

use serde::Serialize;
use serde_json::Value;

use crate::sessions::Session;

/// `Session`. `latest_activity` is `null`: this server records no device/browser activity (the spec's
/// `SessionActivityResponse` is nullable, and `@clerk/backend` reads the field).
#[derive(Debug, Serialize)]
pub struct SessionObject<'a> {
    object: &'static str,
    id: &'a str,
    user_id: &'a str,
    client_id: &'a str,
    actor: Option<&'a Value>,
    status: &'static str,
    last_active_organization_id: Option<&'a str>,
    last_active_at: i64,
    latest_activity: Option<Value>,
    expire_at: i64,
    abandon_at: i64,
    updated_at: i64,
    created_at: i64,
    tasks: Option<Vec<Value>>,
}

impl<'a> From<&'a Session> for SessionObject<'a> {
    fn from(s: &'a Session) -> Self {
        Self {
            object: "session",
            id: &s.id,
            user_id: &s.user_id,
            client_id: &s.client_id,
            actor: s.actor.as_ref(),
            status: s.status,
            last_active_organization_id: s.last_active_organization_id.as_deref(),
            last_active_at: s.last_active_at,
            latest_activity: None,
            expire_at: s.expire_at,
            abandon_at: s.abandon_at,
            updated_at: s.updated_at,
            created_at: s.created_at,
            tasks: None,
        }
    }
}
