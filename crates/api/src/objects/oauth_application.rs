//! `oauth_application` objects and the verify answer of OAuth access tokens.

use serde::Serialize;
use tessera_core::oauth::OAuthApplication;
use tessera_core::oauth::tokens::AccessToken;

/// Path under which logos are served (outside the spec): `{base}/v1/oauth_application_images/{image_id}`.
pub const IMAGE_PATH: &str = "/v1/oauth_application_images";

/// An OAuth application; `client_secret` only in the answers to create and rotate (`""` for public clients).
#[derive(Debug, Serialize)]
pub struct OAuthApplicationObject<'a> {
    object: &'static str,
    id: &'a str,
    instance_id: &'a str,
    name: &'a str,
    client_id: &'a str,
    client_uri: Option<&'a str>,
    client_image_url: Option<String>,
    dynamically_registered: bool,
    consent_screen_enabled: bool,
    pkce_required: bool,
    public: bool,
    scopes: &'a str,
    redirect_uris: &'a [String],
    callback_url: &'a str,
    authorize_url: String,
    token_fetch_url: String,
    user_info_url: String,
    discovery_url: String,
    token_introspection_url: String,
    created_at: i64,
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
}

impl<'a> OAuthApplicationObject<'a> {
    /// The application. `frontend` is the instance's Frontend API URL (the provider's endpoints live there);
    /// `api_base` the Backend API origin logos are served from.
    pub fn new(a: &'a OAuthApplication, frontend: &str, api_base: &str) -> Self {
        Self {
            object: "oauth_application",
            id: &a.id,
            instance_id: &a.instance_id,
            name: &a.name,
            client_id: &a.client_id,
            client_uri: a.client_uri.as_deref(),
            client_image_url: a.image_id.as_ref().map(|img| format!("{api_base}{IMAGE_PATH}/{img}")),
            dynamically_registered: a.dynamically_registered,
            consent_screen_enabled: a.consent_screen_enabled,
            pkce_required: a.pkce_required,
            public: a.public,
            scopes: &a.scopes,
            redirect_uris: &a.redirect_uris,
            callback_url: a.redirect_uris.first().map_or("", String::as_str),
            authorize_url: format!("{frontend}/oauth/authorize"),
            token_fetch_url: format!("{frontend}/oauth/token"),
            user_info_url: format!("{frontend}/oauth/userinfo"),
            discovery_url: format!("{frontend}/.well-known/openid-configuration"),
            token_introspection_url: format!("{frontend}/oauth/token_info"),
            created_at: a.created_at,
            updated_at: a.updated_at,
            client_secret: None,
        }
    }

    /// The application with its secret (create, rotate).
    pub fn with_secret(a: &'a OAuthApplication, secret: &'a str, frontend: &str, api_base: &str) -> Self {
        Self { client_secret: Some(secret), ..Self::new(a, frontend, api_base) }
    }
}

/// `clerk_idp_oauth_access_token`: the answer of a successful verification. `aud` (beyond the spec, for
/// `@clerk/backend`'s audience check; see `tessera_spec_check::FIELD_DEVIATIONS`) only for a token issued for an
/// RFC 8707 resource.
#[derive(Debug, Serialize)]
pub struct AccessTokenObject<'a> {
    object: &'static str,
    id: &'a str,
    client_id: &'a str,
    subject: &'a str,
    scopes: &'a [String],
    revoked: bool,
    revocation_reason: Option<&'a str>,
    expired: bool,
    expiration: Option<i64>,
    created_at: i64,
    updated_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<[&'a str; 1]>,
}

impl<'a> AccessTokenObject<'a> {
    /// The token.
    pub fn new(t: &'a AccessToken) -> Self {
        Self {
            object: "clerk_idp_oauth_access_token",
            id: &t.id,
            client_id: &t.client_id,
            subject: &t.subject,
            scopes: &t.scopes,
            revoked: t.revoked,
            revocation_reason: t.revocation_reason.as_deref(),
            expired: t.expired,
            expiration: t.expiration,
            created_at: t.created_at,
            updated_at: t.updated_at,
            aud: t.audience.as_deref().map(|a| [a]),
        }
    }
}
