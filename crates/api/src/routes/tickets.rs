//! Actor tokens (create, revoke), sign-in tokens (create, revoke), testing tokens (create), the client list and
//! session refresh. Tickets are redeemed by the Frontend API (the `ticket` strategy and the tokens' `url`).

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tessera_core::tickets::{self, NewActorToken, NewSignInToken};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::objects::ticket;

/// Body of `POST /actor_tokens` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateActorTokenBody {
    user_id: Option<String>,
    actor: Option<Value>,
    expires_in_seconds: Option<i64>,
    session_max_duration_in_seconds: Option<i64>,
}

/// `POST /v1/actor_tokens`
pub async fn create_actor_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateActorTokenBody>,
) -> ApiResult<Json<Value>> {
    let input = NewActorToken {
        user_id: b.user_id,
        actor: b.actor,
        expires_in_seconds: b.expires_in_seconds,
        session_max_duration_in_seconds: b.session_max_duration_in_seconds,
    };
    let t = tickets::create_actor_token(&app.ctx, &instance.id, input).await?;
    Ok(Json(ticket::actor_token(&t, &instance)))
}

/// `POST /v1/actor_tokens/{actor_token_id}/revoke`
pub async fn revoke_actor_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = tickets::revoke_actor_token(&app.ctx, &instance.id, &id).await?;
    Ok(Json(ticket::actor_token(&t, &instance)))
}

/// Body of `POST /sign_in_tokens`.
#[derive(Debug, Deserialize)]
pub struct CreateSignInTokenBody {
    user_id: Option<String>,
    org_id: Option<String>,
    expires_in_seconds: Option<i64>,
}

/// `POST /v1/sign_in_tokens`
pub async fn create_sign_in_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateSignInTokenBody>,
) -> ApiResult<Json<Value>> {
    let input = NewSignInToken { user_id: b.user_id, org_id: b.org_id, expires_in_seconds: b.expires_in_seconds };
    let t = tickets::create_sign_in_token(&app.ctx, &instance.id, input).await?;
    Ok(Json(ticket::sign_in_token(&t, &instance)))
}

/// `POST /v1/sign_in_tokens/{sign_in_token_id}/revoke`
pub async fn revoke_sign_in_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = tickets::revoke_sign_in_token(&app.ctx, &instance.id, &id).await?;
    Ok(Json(ticket::sign_in_token(&t, &instance)))
}

/// `POST /v1/testing_tokens`
pub async fn create_testing_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
) -> ApiResult<Json<Value>> {
    let t = tickets::create_testing_token(&app.ctx, &instance.id).await?;
    Ok(Json(ticket::testing_token(&t)))
}

/// `GET /v1/clients` (deprecated): a bare array, or `{data, total_count}` with `paginated=true`.
pub async fn get_client_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<crate::list::Paging>,
) -> ApiResult<Json<Value>> {
    let page = paging.page(500)?;
    let (clients, total) = tickets::list_clients(&app.ctx, &instance.id, page.limit, page.offset).await?;
    let items = clients
        .iter()
        .map(|c| serde_json::to_value(crate::objects::session::ClientObject::from(c)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(tessera_core::Error::internal)?;
    Ok(crate::list::array_or_paginated(items, total, paging.paginated.unwrap_or(false)))
}

/// Body of `POST /sessions/{id}/refresh` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshSessionBody {
    expired_token: String,
    refresh_token: String,
    request_origin: String,
    #[allow(dead_code)]
    request_headers: Option<serde_json::Map<String, Value>>,
    format: Option<String>,
    #[allow(dead_code)]
    request_originating_ip: Option<String>,
}

/// Query of `POST /sessions/{id}/refresh`: `@clerk/backend` sends `suffixed_cookies` here (not in the body).
#[derive(Debug, Deserialize)]
pub struct RefreshSessionParams {
    #[serde(default, deserialize_with = "crate::extract::lenient_bool")]
    suffixed_cookies: Option<bool>,
}

/// `POST /v1/sessions/{session_id}/refresh`: `{object: token, jwt}`, or with `format: cookie` the `__session`
/// cookie directive (and its `__session_<suffix>` twin with `suffixed_cookies=true`).
pub async fn refresh_session(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(session_id): Path<String>,
    Params(q): Params<RefreshSessionParams>,
    crate::extract::BadRequestBody(b): crate::extract::BadRequestBody<RefreshSessionBody>,
) -> ApiResult<Json<Value>> {
    let cookie = match b.format.as_deref() {
        None | Some("token") => false,
        Some("cookie") => true,
        Some(_) => {
            return Err(tessera_core::Error::with(
                tessera_core::ErrorCode::BadRequest,
                "is invalid",
                "format must be token or cookie.",
                Some("format"),
            )
            .into());
        }
    };
    let input = tickets::RefreshInput {
        expired_token: b.expired_token,
        refresh_token: b.refresh_token,
        request_origin: b.request_origin,
    };
    let jwt = tickets::refresh(&app.ctx, &instance, &session_id, input).await?;
    Ok(Json(if cookie {
        let mut cookies = vec![format!("__session={jwt}; Path=/; SameSite=Lax")];
        if q.suffixed_cookies == Some(true) {
            let suffix = tessera_core::handshake::cookie_suffix(&instance.publishable_key);
            cookies.push(format!("__session_{suffix}={jwt}; Path=/; SameSite=Lax"));
        }
        serde_json::json!({ "object": "cookies", "cookies": cookies })
    } else {
        serde_json::json!({ "object": "token", "jwt": jwt })
    }))
}
