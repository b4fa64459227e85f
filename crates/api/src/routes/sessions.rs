//! Sessions and clients: create (development instances), list, get, revoke, session tokens; clients get and
//! verify. Authenticated with the instance secret key.

use crate::json::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::sessions::SessionListQuery;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{BadRequestBody, Body, Params, SecretKey, lenient_bool, lenient_u64};
use crate::list::{Paging, array_or_paginated};
use crate::objects::session::{ClientObject, SessionObject, TokenObject};

/// `{client_id}`, or the static `verify` segment a GET reaches (the route for POST /clients/verify takes GETs too):
/// there it names a client that does not exist, so GetClient answers 404 as it would for any unknown id.
pub struct ClientId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientId {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Self(id)),
            Err(_) => Err(tessera_core::Error::not_found("client").into()),
        }
    }
}

/// Largest page of the session list.
const MAX_LIMIT: u64 = 500;

/// Query of `GET /sessions`.
#[derive(Debug, Deserialize)]
pub struct GetSessionListParams {
    client_id: Option<String>,
    user_id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    paginated: Option<bool>,
}

/// `GET /v1/sessions`
pub async fn get_session_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<GetSessionListParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: p.paginated }.page(MAX_LIMIT)?;
    let status = match p.status.as_deref() {
        Some(s) => tessera_core::sessions::parse_status_filter(s)?,
        None => None,
    };
    let query = SessionListQuery {
        client_id: p.client_id.filter(|s| !s.is_empty()),
        user_id: p.user_id.filter(|s| !s.is_empty()),
        status,
    };
    let (sessions, total) =
        tessera_core::sessions::list_sessions(&app.ctx, &instance.id, &query, page.limit, page.offset).await?;
    Ok(array_or_paginated(sessions.iter().map(SessionObject::from).collect(), total, p.paginated.unwrap_or(false)))
}

/// Body of `POST /sessions`.
#[derive(Debug, Deserialize)]
pub struct CreateSessionBody {
    user_id: String,
    active_organization_id: Option<String>,
}

/// `POST /v1/sessions`
pub async fn create_session(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(body): Body<CreateSessionBody>,
) -> ApiResult<Response> {
    let session = tessera_core::sessions::create_session(
        &app.ctx,
        &instance,
        &body.user_id,
        body.active_organization_id.as_deref(),
    )
    .await?;
    Ok(Json(SessionObject::from(&session)).into_response())
}

/// `GET /v1/sessions/{session_id}`
pub async fn get_session(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let session = tessera_core::sessions::get_session(&app.ctx, &instance.id, &session_id).await?;
    Ok(Json(SessionObject::from(&session)).into_response())
}

/// `POST /v1/sessions/{session_id}/revoke`
pub async fn revoke_session(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let session = tessera_core::sessions::revoke_session(&app.ctx, &instance.id, &session_id).await?;
    Ok(Json(SessionObject::from(&session)).into_response())
}

/// Body of the token operations.
#[derive(Debug, Deserialize)]
pub struct CreateSessionTokenBody {
    expires_in_seconds: Option<i64>,
}

/// `POST /v1/sessions/{session_id}/tokens`
pub async fn create_session_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(session_id): Path<String>,
    Body(body): Body<CreateSessionTokenBody>,
) -> ApiResult<Response> {
    let jwt =
        tessera_core::sessions::create_session_token(&app.ctx, &instance, &session_id, body.expires_in_seconds, None)
            .await?;
    Ok(Json(TokenObject::new(&jwt)).into_response())
}

/// `GET /v1/clients/{client_id}`
pub async fn get_client(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    ClientId(client_id): ClientId,
) -> ApiResult<Response> {
    let client = tessera_core::sessions::get_client(&app.ctx, &instance.id, &client_id).await?;
    Ok(Json(ClientObject::from(&client)).into_response())
}

/// Body of `POST /clients/verify` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyClientBody {
    token: String,
}

/// `POST /v1/clients/verify`
pub async fn verify_client(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    BadRequestBody(body): BadRequestBody<VerifyClientBody>,
) -> ApiResult<Response> {
    let client = tessera_core::sessions::verify_client(&app.ctx, &instance.id, &body.token).await?;
    Ok(Json(ClientObject::from(&client)).into_response())
}

/// Query of `GET /v1/clients/handshake_payload`.
#[derive(Debug, Deserialize)]
pub struct HandshakePayloadQuery {
    nonce: Option<String>,
}

/// `GET /v1/clients/handshake_payload?nonce=…` (listed in the spec without operations; `@clerk/backend` calls it
/// to resolve a nonce-format handshake) → `{directives: [Set-Cookie values]}`, once per nonce.
pub async fn get_handshake_payload(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    crate::extract::Params(q): crate::extract::Params<HandshakePayloadQuery>,
) -> ApiResult<Json<Value>> {
    let nonce = q.nonce.filter(|n| !n.is_empty()).ok_or_else(|| tessera_core::Error::query_param_missing("nonce"))?;
    let directives = tessera_core::handshake::take_directives(&app.ctx, &instance.id, &nonce).await?;
    Ok(Json(serde_json::json!({ "directives": directives })))
}
