//! `/.well-known/…` on the frontend host: the instance's JWKS, and the OAuth provider's metadata (OpenID Connect
//! Discovery 1.0 and RFC 8414), whose URLs are the frontend host as the client reached it.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::oauth::KNOWN_SCOPES;

use crate::extract::Fapi;

/// `GET /.well-known/jwks.json`: the instance's public signing keys, as the Backend API's `/v1/jwks` serves them
/// (a verifier that knows only the publishable key finds them here).
pub async fn get_jwks(State(app): State<AppState>, fapi: Fapi) -> ApiResult<Response> {
    let document = tessera_core::keyring::jwks_document(&app.ctx, &fapi.instance.id).await?;
    Ok(tessera_api::routes::jwks::jwks_response(document))
}

const RESPONSE_TYPES: &[&str] = &["code"];
const RESPONSE_MODES: &[&str] = &["query", "form_post"];
const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token"];
const SUBJECT_TYPES: &[&str] = &["public"];
const SIGNING_ALGS: &[&str] = &["RS256"];
const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];
const PKCE_METHODS: &[&str] = &["S256"];
const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "sid",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "picture",
];

/// OpenID Connect Discovery 1.0 metadata.
#[derive(Debug, Serialize)]
struct OpenIdConfiguration {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    scopes_supported: &'static [&'static str],
    response_types_supported: &'static [&'static str],
    response_modes_supported: &'static [&'static str],
    grant_types_supported: &'static [&'static str],
    subject_types_supported: &'static [&'static str],
    id_token_signing_alg_values_supported: &'static [&'static str],
    token_endpoint_auth_methods_supported: &'static [&'static str],
    claims_supported: &'static [&'static str],
    code_challenge_methods_supported: &'static [&'static str],
    backchannel_logout_supported: bool,
    frontchannel_logout_supported: bool,
}

/// `GET /.well-known/openid-configuration`
pub async fn get_open_id_configuration(fapi: Fapi) -> Json<impl Serialize> {
    let base = &fapi.base_url;
    Json(OpenIdConfiguration {
        issuer: base.clone(),
        authorization_endpoint: format!("{base}/oauth/authorize"),
        token_endpoint: format!("{base}/oauth/token"),
        revocation_endpoint: format!("{base}/oauth/token/revoke"),
        introspection_endpoint: format!("{base}/oauth/token_info"),
        userinfo_endpoint: format!("{base}/oauth/userinfo"),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        scopes_supported: KNOWN_SCOPES,
        response_types_supported: RESPONSE_TYPES,
        response_modes_supported: RESPONSE_MODES,
        grant_types_supported: GRANT_TYPES,
        subject_types_supported: SUBJECT_TYPES,
        id_token_signing_alg_values_supported: SIGNING_ALGS,
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        claims_supported: CLAIMS,
        code_challenge_methods_supported: PKCE_METHODS,
        backchannel_logout_supported: false,
        frontchannel_logout_supported: false,
    })
}

/// RFC 8414 authorization server metadata.
#[derive(Debug, Serialize)]
struct AuthorizationServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_endpoint: Option<String>,
    response_types_supported: &'static [&'static str],
    grant_types_supported: &'static [&'static str],
    token_endpoint_auth_methods_supported: &'static [&'static str],
    scopes_supported: &'static [&'static str],
    subject_types_supported: &'static [&'static str],
    id_token_signing_alg_values_supported: &'static [&'static str],
    claims_supported: &'static [&'static str],
    code_challenge_methods_supported: &'static [&'static str],
}

/// `GET /.well-known/oauth-authorization-server`: `registration_endpoint` only while the instance allows
/// dynamic client registration.
pub async fn get_o_auth2_authorization_server_metadata(
    State(app): State<AppState>,
    fapi: Fapi,
) -> ApiResult<Json<impl Serialize>> {
    let settings = tessera_core::settings::oauth_application_settings(&app.ctx, &fapi.instance.id).await?;
    let base = &fapi.base_url;
    Ok(Json(AuthorizationServerMetadata {
        issuer: base.clone(),
        authorization_endpoint: format!("{base}/oauth/authorize"),
        token_endpoint: format!("{base}/oauth/token"),
        revocation_endpoint: format!("{base}/oauth/token/revoke"),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        registration_endpoint: settings.dynamic_oauth_client_registration.then(|| format!("{base}/oauth/register")),
        response_types_supported: RESPONSE_TYPES,
        grant_types_supported: GRANT_TYPES,
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        scopes_supported: KNOWN_SCOPES,
        subject_types_supported: SUBJECT_TYPES,
        id_token_signing_alg_values_supported: SIGNING_ALGS,
        claims_supported: CLAIMS,
        code_challenge_methods_supported: PKCE_METHODS,
    }))
}
