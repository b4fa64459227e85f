//! Sign Ups: GetSignUp and UpdateSignUp, and Tessera's stand-in for the Frontend API's sign-up flow (not in the
//! spec; secret-key authenticated like the Backend API): `POST /v1/sign_ups` creates an attempt,
//! `POST /v1/sign_ups/{id}/prepare_verification` `{strategy}` sends a one-time code and
//! `POST /v1/sign_ups/{id}/attempt_verification` `{strategy, code}` checks it. Each answers the `sign_up_attempt`;
//! see [`tessera_core::sign_ups`] for when an attempt converts into a user and a session.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::sign_ups::{self, NewSignUp, SignUpPatch};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Body, SecretKey, nullable};
use crate::objects::sign_up::sign_up;

/// `GET /v1/sign_ups/{id}`
pub async fn get_sign_up(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(sign_up(&sign_ups::get_sign_up(&app.ctx, &instance.id, &id).await?)))
}

/// Body of `PATCH /sign_ups/{id}`: `external_id: null` clears it; `custom_action: null` leaves it.
#[derive(Debug, Deserialize)]
pub struct UpdateSignUpBody {
    #[serde(default, deserialize_with = "nullable")]
    external_id: Option<Option<String>>,
    custom_action: Option<bool>,
}

/// `PATCH /v1/sign_ups/{id}`
pub async fn update_sign_up(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<UpdateSignUpBody>,
) -> ApiResult<Json<Value>> {
    let patch = SignUpPatch { external_id: b.external_id, custom_action: b.custom_action };
    Ok(Json(sign_up(&sign_ups::update_sign_up(&app.ctx, &instance.id, &id, patch).await?)))
}

/// Body of `POST /v1/sign_ups` (Tessera).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSignUpBody {
    email_address: Option<String>,
    phone_number: Option<String>,
    username: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    unsafe_metadata: Option<Map<String, Value>>,
    external_id: Option<String>,
    legal_accepted: Option<bool>,
    locale: Option<String>,
}

/// `POST /v1/sign_ups` (Tessera): a new sign-up attempt.
pub async fn create_sign_up(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateSignUpBody>,
) -> ApiResult<Json<Value>> {
    let input = NewSignUp {
        email_address: b.email_address,
        phone_number: b.phone_number,
        username: b.username,
        password: b.password,
        first_name: b.first_name,
        last_name: b.last_name,
        unsafe_metadata: b.unsafe_metadata,
        external_id: b.external_id,
        legal_accepted: b.legal_accepted,
        locale: b.locale,
    };
    Ok(Json(sign_up(&sign_ups::create_sign_up(&app.ctx, &instance.id, input).await?)))
}

/// Body of `POST /v1/sign_ups/{id}/prepare_verification` (Tessera).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepareBody {
    strategy: Option<String>,
}

/// `POST /v1/sign_ups/{id}/prepare_verification` (Tessera): sends a code (`email_code` / `phone_code`).
pub async fn prepare_sign_up_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<PrepareBody>,
) -> ApiResult<Json<Value>> {
    let s = sign_ups::verification::prepare(&app.ctx, &instance, &id, b.strategy.as_deref()).await?;
    Ok(Json(sign_up(&s)))
}

/// Body of `POST /v1/sign_ups/{id}/attempt_verification` (Tessera).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    strategy: Option<String>,
    code: Option<String>,
}

/// `POST /v1/sign_ups/{id}/attempt_verification` (Tessera): checks a code.
pub async fn attempt_sign_up_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<AttemptBody>,
) -> ApiResult<Json<Value>> {
    let s =
        sign_ups::verification::attempt(&app.ctx, &instance.id, &id, b.strategy.as_deref(), b.code.as_deref()).await?;
    Ok(Json(sign_up(&s)))
}
