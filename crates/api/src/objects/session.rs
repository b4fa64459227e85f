//! `session`, `client` and `token` objects.

use serde::Serialize;
pub use tessera_core::objects::session::SessionObject;
use tessera_core::sessions::Client;

/// `Client` (sessions always an array: `@clerk/backend` maps over it).
#[derive(Debug, Serialize)]
pub struct ClientObject<'a> {
    object: &'static str,
    id: &'a str,
    session_ids: Vec<&'a str>,
    sessions: Vec<SessionObject<'a>>,
    sign_in_id: Option<&'a str>,
    sign_up_id: Option<&'a str>,
    last_active_session_id: Option<&'a str>,
    last_authentication_strategy: Option<&'a str>,
    updated_at: i64,
    created_at: i64,
}

impl<'a> From<&'a Client> for ClientObject<'a> {
    fn from(c: &'a Client) -> Self {
        Self {
            object: "client",
            id: &c.id,
            session_ids: c.sessions.iter().map(|s| s.id.as_str()).collect(),
            sessions: c.sessions.iter().map(Into::into).collect(),
            // Sign-ins and sign-ups happen in the Frontend API, which this server does not run.
            sign_in_id: None,
            sign_up_id: None,
            last_active_session_id: c.last_active_session_id.as_deref(),
            last_authentication_strategy: None,
            updated_at: c.updated_at,
            created_at: c.created_at,
        }
    }
}

/// `{"object": "token", "jwt": …}`.
#[derive(Debug, Serialize)]
pub struct TokenObject<'a> {
    object: &'static str,
    jwt: &'a str,
}

impl<'a> TokenObject<'a> {
    /// Wraps a JWT.
    pub fn new(jwt: &'a str) -> Self {
        Self { object: "token", jwt }
    }
}
