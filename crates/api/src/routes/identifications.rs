//! Email Addresses and Phone Numbers: create, get, update, delete, replace, and one-time-code verification.
//! Operations whose spec declares 400 but not 422 answer parameter errors as 400 `bad_request`.

use crate::json::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::users::addresses::{self, AddressPatch, Kind, NewAddress, ReplaceStatus};
use tessera_core::users::verification;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{BadRequestBody, Body, SecretKey, as_bad_request};
use crate::objects::user::{email_address, phone_number};
use crate::objects::verification::code_verification;

fn deleted(kind: Kind, id: &str) -> Value {
    json!({ "object": kind.as_str(), "id": id, "deleted": true })
}

fn bad_request(e: tessera_core::Error) -> ApiError {
    ApiError(as_bad_request(e))
}

/// Body of `POST /email_addresses`.
#[derive(Debug, Deserialize)]
pub struct CreateEmailBody {
    user_id: String,
    email_address: String,
    verified: Option<bool>,
    primary: Option<bool>,
    /// Accepted; no notification is sent (there is no template for it yet).
    #[allow(dead_code)]
    notify_primary_email_address_changed: Option<bool>,
}

/// `POST /v1/email_addresses`
pub async fn create_email_address(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreateEmailBody>,
) -> ApiResult<Response> {
    let input = NewAddress {
        user_id: b.user_id,
        value: b.email_address,
        verified: b.verified.unwrap_or(false),
        primary: b.primary.unwrap_or(false),
        reserved_for_second_factor: false,
    };
    let e = addresses::create(&app.ctx, &instance.id, Kind::Email, input).await?;
    Ok(email_address(&e))
}

/// `GET /v1/email_addresses/{email_address_id}`
pub async fn get_email_address(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(email_address(&addresses::get(&app.ctx, &instance.id, Kind::Email, &id).await?))
}

/// Body of `PATCH /email_addresses/{id}`.
#[derive(Debug, Deserialize)]
pub struct UpdateEmailBody {
    verified: Option<bool>,
    primary: Option<bool>,
    /// Accepted; no notification is sent.
    #[allow(dead_code)]
    notify_primary_email_address_changed: Option<bool>,
}

/// `PATCH /v1/email_addresses/{email_address_id}`
pub async fn update_email_address(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    BadRequestBody(b): BadRequestBody<UpdateEmailBody>,
) -> ApiResult<Response> {
    let patch = AddressPatch {
        verified: b.verified,
        primary: b.primary,
        reserved_for_second_factor: None,
        default_second_factor: None,
    };
    let e = addresses::update(&app.ctx, &instance.id, Kind::Email, &id, patch).await.map_err(bad_request)?;
    Ok(email_address(&e))
}

/// `DELETE /v1/email_addresses/{email_address_id}`
pub async fn delete_email_address(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    addresses::delete(&app.ctx, &instance.id, Kind::Email, &id).await?;
    Ok(Json(deleted(Kind::Email, &id)))
}

/// `identification_status` of the replacements.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Verified.
    Verified,
    /// Reserved.
    Reserved,
    /// Unverified.
    Unverified,
}

fn replace_status(s: Option<Status>) -> ReplaceStatus {
    match s {
        None | Some(Status::Verified) => ReplaceStatus::Verified,
        Some(Status::Reserved) => ReplaceStatus::Reserved,
        Some(Status::Unverified) => ReplaceStatus::Unverified,
    }
}

/// Body of `PUT /users/{id}/email_address`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceEmailBody {
    email_address: String,
    identification_status: Option<Status>,
    /// Accepted; no notification is sent.
    #[allow(dead_code)]
    notify_primary_email_address_changed: Option<bool>,
}

/// `PUT /v1/users/{user_id}/email_address`
pub async fn replace_user_email_address(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
    Body(b): Body<ReplaceEmailBody>,
) -> ApiResult<Response> {
    let status = replace_status(b.identification_status);
    let e = addresses::replace(&app.ctx, &instance.id, Kind::Email, &user_id, &b.email_address, status).await?;
    Ok(email_address(&e))
}

/// Body of `POST /phone_numbers`.
#[derive(Debug, Deserialize)]
pub struct CreatePhoneBody {
    user_id: String,
    phone_number: String,
    verified: Option<bool>,
    primary: Option<bool>,
    reserved_for_second_factor: Option<bool>,
}

/// `POST /v1/phone_numbers`
pub async fn create_phone_number(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<CreatePhoneBody>,
) -> ApiResult<Response> {
    let input = NewAddress {
        user_id: b.user_id,
        value: b.phone_number,
        verified: b.verified.unwrap_or(false),
        primary: b.primary.unwrap_or(false),
        reserved_for_second_factor: b.reserved_for_second_factor.unwrap_or(false),
    };
    let p = addresses::create(&app.ctx, &instance.id, Kind::Phone, input).await?;
    Ok(phone_number(&p))
}

/// `GET /v1/phone_numbers/{phone_number_id}`
pub async fn get_phone_number(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(phone_number(&addresses::get(&app.ctx, &instance.id, Kind::Phone, &id).await?))
}

/// Body of `PATCH /phone_numbers/{id}`.
#[derive(Debug, Deserialize)]
pub struct UpdatePhoneBody {
    verified: Option<bool>,
    primary: Option<bool>,
    reserved_for_second_factor: Option<bool>,
}

/// `PATCH /v1/phone_numbers/{phone_number_id}`
pub async fn update_phone_number(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    BadRequestBody(b): BadRequestBody<UpdatePhoneBody>,
) -> ApiResult<Response> {
    let patch = AddressPatch {
        verified: b.verified,
        primary: b.primary,
        reserved_for_second_factor: b.reserved_for_second_factor,
        default_second_factor: None,
    };
    let p = addresses::update(&app.ctx, &instance.id, Kind::Phone, &id, patch).await.map_err(|e| {
        // The spec declares no 409 here: a claimed number is a bad request.
        if e.status() == 409 {
            ApiError(tessera_core::Error::with(
                tessera_core::ErrorCode::BadRequest,
                "already verified by another user",
                "This phone number is already claimed by another user.",
                Some("verified"),
            ))
        } else {
            bad_request(e)
        }
    })?;
    Ok(phone_number(&p))
}

/// `DELETE /v1/phone_numbers/{phone_number_id}`
pub async fn delete_phone_number(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    addresses::delete(&app.ctx, &instance.id, Kind::Phone, &id).await?;
    Ok(Json(deleted(Kind::Phone, &id)))
}

/// Body of `PUT /users/{id}/phone_number`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacePhoneBody {
    phone_number: String,
    identification_status: Option<Status>,
}

/// `PUT /v1/users/{user_id}/phone_number`
pub async fn replace_user_phone_number(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
    Body(b): Body<ReplacePhoneBody>,
) -> ApiResult<Response> {
    let status = replace_status(b.identification_status);
    let p = addresses::replace(&app.ctx, &instance.id, Kind::Phone, &user_id, &b.phone_number, status).await?;
    Ok(phone_number(&p))
}

/// Body of the `attempt_verification` operations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    verification_id: String,
    code: String,
}

/// `POST /v1/email_addresses/{email_address_id}/prepare_verification`
pub async fn prepare_email_address_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = verification::prepare(&app.ctx, &instance, Kind::Email, &id).await.map_err(bad_request)?;
    Ok(Json(code_verification(&v)))
}

/// `POST /v1/email_addresses/{email_address_id}/attempt_verification`
pub async fn attempt_email_address_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    BadRequestBody(b): BadRequestBody<AttemptBody>,
) -> ApiResult<Json<Value>> {
    let v = verification::attempt(&app.ctx, &instance.id, Kind::Email, &id, &b.verification_id, &b.code)
        .await
        .map_err(bad_request)?;
    Ok(Json(code_verification(&v)))
}

/// `POST /v1/phone_numbers/{phone_number_id}/prepare_verification`
pub async fn prepare_phone_number_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = verification::prepare(&app.ctx, &instance, Kind::Phone, &id).await.map_err(bad_request)?;
    Ok(Json(code_verification(&v)))
}

/// `POST /v1/phone_numbers/{phone_number_id}/attempt_verification`
pub async fn attempt_phone_number_verification(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    BadRequestBody(b): BadRequestBody<AttemptBody>,
) -> ApiResult<Json<Value>> {
    let v = verification::attempt(&app.ctx, &instance.id, Kind::Phone, &id, &b.verification_id, &b.code)
        .await
        .map_err(bad_request)?;
    Ok(Json(code_verification(&v)))
}
