//! `client`, `session` and `token` as the Frontend API shows them.

use serde::Serialize;
use serde_json::Value;
use tessera_core::browser_clients::BrowserClient;
use tessera_core::sessions::Session;

use super::sign_in::SignInObject;
use super::sign_up::SignUpObject;
use super::user::UserObject;

/// `Token`.
#[derive(Debug, Clone, Serialize)]
pub struct TokenObject {
    object: &'static str,
    jwt: String,
}

impl TokenObject {
    /// A token object for `jwt`.
    pub fn new(jwt: String) -> Self {
        Self { object: "token", jwt }
    }
}

/// `Client.PublicUserData` of a session's user.
#[derive(Debug, Serialize)]
pub struct SessionUserData {
    first_name: Option<String>,
    last_name: Option<String>,
    image_url: String,
    has_image: bool,
    identifier: String,
    user_id: String,
    username: Option<String>,
    banned: bool,
}

/// What a session object shows besides the session: its user (with memberships) and a fresh token.
#[derive(Debug)]
pub struct SessionParts<'a> {
    /// The session's user.
    pub user: Option<UserObject<'a>>,
    /// The user's public data.
    pub public_user_data: Option<SessionUserData>,
    /// A fresh session token (active sessions).
    pub last_active_token: Option<TokenObject>,
}

impl SessionUserData {
    /// The public data of a user.
    pub fn new(u: &tessera_core::users::User, base: &str) -> Self {
        let identifier = u
            .primary_email_address_id
            .as_ref()
            .and_then(|id| u.email_addresses.iter().find(|e| &e.id == id))
            .or_else(|| u.primary_phone_number_id.as_ref().and_then(|id| u.phone_numbers.iter().find(|p| &p.id == id)))
            .map(|i| i.value.clone())
            .or_else(|| u.username.clone())
            .unwrap_or_default();
        Self {
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            image_url: tessera_core::users::objects::image_url(base, u.image_id.as_deref()),
            has_image: u.image_id.is_some(),
            identifier,
            user_id: u.id.clone(),
            username: u.username.clone(),
            banned: u.banned,
        }
    }
}

/// `Client.Session`.
#[derive(Debug, Serialize)]
pub struct SessionObject<'a> {
    object: &'static str,
    id: &'a str,
    status: &'static str,
    expire_at: i64,
    abandon_at: i64,
    last_active_at: i64,
    last_active_token: Option<TokenObject>,
    actor: Option<&'a Value>,
    tasks: Vec<Value>,
    last_active_organization_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserObject<'a>>,
    public_user_data: Option<SessionUserData>,
    factor_verification_age: [i64; 2],
    created_at: i64,
    updated_at: i64,
}

impl<'a> SessionObject<'a> {
    /// The object of `s` at `now` with its user and token.
    pub fn new(s: &'a Session, parts: SessionParts<'a>, now: i64) -> Self {
        Self {
            object: "session",
            id: &s.id,
            status: s.status,
            expire_at: s.expire_at,
            abandon_at: s.abandon_at,
            last_active_at: s.last_active_at,
            last_active_token: parts.last_active_token,
            actor: s.actor.as_ref(),
            tasks: Vec::new(),
            last_active_organization_id: s.last_active_organization_id.as_deref(),
            user: parts.user,
            public_user_data: parts.public_user_data,
            // Minutes since the first and the second factor were last verified (-1: never), as the `fva` claim.
            factor_verification_age: s.factor_verification_age(now),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// `Client.Client`.
#[derive(Debug, Serialize)]
pub struct ClientObject<'a> {
    object: &'static str,
    id: &'a str,
    sessions: Vec<SessionObject<'a>>,
    sign_in: Option<SignInObject<'a>>,
    sign_up: Option<SignUpObject>,
    last_active_session_id: Option<&'a str>,
    last_authentication_strategy: Option<&'a str>,
    cookie_expires_at: Option<i64>,
    captcha_bypass: bool,
    created_at: i64,
    updated_at: i64,
}

impl<'a> ClientObject<'a> {
    /// The object of `c` with its (live) session objects and the sign-in / sign-up in progress.
    pub fn new(
        c: &'a BrowserClient,
        sessions: Vec<SessionObject<'a>>,
        sign_in: Option<SignInObject<'a>>,
        sign_up: Option<SignUpObject>,
    ) -> Self {
        Self {
            object: "client",
            id: &c.id,
            sessions,
            sign_in,
            sign_up,
            // A session past its lifetime or ended is no longer the browser's (it left `sessions` too).
            last_active_session_id: c
                .last_active_session_id
                .as_deref()
                .filter(|id| c.live_sessions().any(|s| s.id == *id)),
            last_authentication_strategy: c.last_authentication_strategy.as_deref(),
            // No expiry: clerk-js would otherwise navigate through /v1/client/touch to extend the cookie.
            cookie_expires_at: None,
            captcha_bypass: false,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
