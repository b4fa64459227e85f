//! Users: update, metadata, ban/unban (one and bulk), lock/unlock, profile image, and the image itself.

use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::users::update::{MetadataChange, UserUpdate};
use tessera_core::{Error, ErrorCode};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{BadRequestBody, Body, SecretKey, nullable};
use crate::objects::user::{user, users};
use crate::version::ApiVersion;

/// Body of `PATCH /users/{user_id}` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    #[serde(default, deserialize_with = "nullable")]
    external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    locale: Option<Option<String>>,
    primary_email_address_id: Option<String>,
    // No emails are sent by this server: there is nobody to notify.
    #[expect(dead_code, reason = "accepted; no notification e-mails exist")]
    notify_primary_email_address_changed: Option<bool>,
    primary_phone_number_id: Option<String>,
    primary_web3_wallet_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    username: Option<Option<String>>,
    profile_image_id: Option<String>,
    password: Option<String>,
    password_digest: Option<String>,
    password_hasher: Option<String>,
    skip_password_checks: Option<bool>,
    // Sessions do not exist yet: there are none to sign out of.
    #[expect(dead_code, reason = "accepted; no sessions exist yet")]
    sign_out_of_other_sessions: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    totp_secret: Option<Option<String>>,
    backup_codes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    public_metadata: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "nullable")]
    private_metadata: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "nullable")]
    unsafe_metadata: Option<Option<Map<String, Value>>>,
    delete_self_enabled: Option<bool>,
    create_organization_enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    legal_accepted_at: Option<Option<String>>,
    #[expect(dead_code, reason = "accepted; instances have no legal requirements to skip")]
    skip_legal_checks: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    create_organizations_limit: Option<Option<i64>>,
    created_at: Option<String>,
    bypass_client_trust: Option<bool>,
}

/// `PATCH /v1/users/{user_id}`
pub async fn update_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    version: ApiVersion,
    Path(user_id): Path<String>,
    Body(b): Body<UpdateUserBody>,
) -> ApiResult<Response> {
    if version.refuses_metadata_in_update() {
        for (name, present) in [
            ("public_metadata", b.public_metadata.is_some()),
            ("private_metadata", b.private_metadata.is_some()),
            ("unsafe_metadata", b.unsafe_metadata.is_some()),
        ] {
            if present {
                return Err(Error::param_unknown(name).into());
            }
        }
    }
    if let Some(image_id) = &b.profile_image_id {
        // Only this user's current image can be named: uploads replace the previous image.
        let current = tessera_core::users::get_user(&app.ctx, &instance.id, &user_id).await?;
        if current.image_id.as_deref() != Some(image_id.as_str()) {
            return Err(Error::param_value_invalid(
                "profile_image_id",
                format!("No image with id {image_id} exists for this user."),
            )
            .into());
        }
    }
    let update = UserUpdate {
        external_id: b.external_id,
        first_name: b.first_name,
        last_name: b.last_name,
        locale: b.locale,
        primary_email_address_id: b.primary_email_address_id,
        primary_phone_number_id: b.primary_phone_number_id,
        primary_web3_wallet_id: b.primary_web3_wallet_id,
        username: b.username,
        password: b.password,
        password_digest: b.password_digest,
        password_hasher: b.password_hasher,
        skip_password_checks: b.skip_password_checks.unwrap_or(false),
        totp_secret: b.totp_secret,
        backup_codes: b.backup_codes,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
        unsafe_metadata: b.unsafe_metadata,
        delete_self_enabled: b.delete_self_enabled,
        create_organization_enabled: b.create_organization_enabled,
        create_organizations_limit: b.create_organizations_limit,
        legal_accepted_at: b.legal_accepted_at,
        created_at: b.created_at,
        bypass_client_trust: b.bypass_client_trust,
    };
    let u = tessera_core::users::update::update_user(&app.ctx, &instance.id, &user_id, update).await?;
    Ok(user(&u, &origin))
}

/// Body of `PATCH`/`PUT /users/{user_id}/metadata`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataBody {
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    unsafe_metadata: Option<Map<String, Value>>,
}

impl From<MetadataBody> for MetadataChange {
    fn from(b: MetadataBody) -> Self {
        Self {
            public_metadata: b.public_metadata,
            private_metadata: b.private_metadata,
            unsafe_metadata: b.unsafe_metadata,
        }
    }
}

/// `PATCH /v1/users/{user_id}/metadata`: deep merge, `null` deletes.
pub async fn update_user_metadata(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Body(b): Body<MetadataBody>,
) -> ApiResult<Response> {
    let u = tessera_core::users::update::change_metadata(&app.ctx, &instance.id, &user_id, b.into(), true).await?;
    Ok(user(&u, &origin))
}

/// `PUT /v1/users/{user_id}/metadata`: each given field replaced.
pub async fn replace_user_metadata(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Body(b): Body<MetadataBody>,
) -> ApiResult<Response> {
    let u = tessera_core::users::update::change_metadata(&app.ctx, &instance.id, &user_id, b.into(), false).await?;
    Ok(user(&u, &origin))
}

async fn ban(app: &AppState, instance_id: &str, user_id: &str, banned: bool, origin: &str) -> ApiResult<Response> {
    let u = tessera_core::users::update::set_banned(&app.ctx, instance_id, user_id, banned).await?;
    Ok(user(&u, origin))
}

/// `POST /v1/users/{user_id}/ban`
pub async fn ban_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    ban(&app, &instance.id, &user_id, true, &origin).await
}

/// `POST /v1/users/{user_id}/unban`
pub async fn unban_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    ban(&app, &instance.id, &user_id, false, &origin).await
}

/// Body of `POST /users/ban` and `/users/unban`.
#[derive(Debug, Deserialize)]
pub struct BulkBody {
    user_ids: Vec<String>,
}

async fn bulk(app: &AppState, instance_id: &str, ids: Vec<String>, banned: bool, origin: &str) -> ApiResult<Response> {
    // The spec declares 400 (not 422) for these two operations.
    let list = tessera_core::users::update::set_banned_bulk(&app.ctx, instance_id, ids, banned).await.map_err(|e| {
        if e.status() == 422 {
            let item = &e.items()[0];
            Error::with(ErrorCode::BadRequest, item.message.clone(), item.long_message.clone(), Some("user_ids"))
        } else {
            e
        }
    })?;
    Ok(users(&list, origin))
}

/// `POST /v1/users/ban`: bans up to 50 users; unknown ids are ignored. A bare array of the banned users.
pub async fn users_ban(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    BadRequestBody(b): BadRequestBody<BulkBody>,
) -> ApiResult<Response> {
    bulk(&app, &instance.id, b.user_ids, true, &origin).await
}

/// `POST /v1/users/unban`
pub async fn users_unban(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    BadRequestBody(b): BadRequestBody<BulkBody>,
) -> ApiResult<Response> {
    bulk(&app, &instance.id, b.user_ids, false, &origin).await
}

/// `POST /v1/users/{user_id}/lock`: locked for the instance's lockout duration (one hour).
pub async fn lock_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    let u = tessera_core::users::update::set_locked(&app.ctx, &instance.id, &user_id, true).await?;
    Ok(user(&u, &origin))
}

/// `POST /v1/users/{user_id}/unlock`
pub async fn unlock_user(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    let u = tessera_core::users::update::set_locked(&app.ctx, &instance.id, &user_id, false).await?;
    Ok(user(&u, &origin))
}

/// `POST /v1/users/{user_id}/profile_image` (multipart, field `file`).
pub async fn set_user_profile_image(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let bad = |why: &str| ApiError(Error::with(ErrorCode::BadRequest, "invalid file", why, Some("file")));
    let mut multipart = multipart.map_err(|_| bad("The request must be multipart/form-data with a `file` field."))?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| bad("The multipart body is malformed."))? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| bad("The file could not be read (at most 10MB)."))?;
            file = Some(bytes.to_vec());
        }
    }
    let file = file.ok_or_else(|| bad("The `file` field is required."))?;
    let u = tessera_core::users::images::set_profile_image(&app.ctx, &instance.id, &user_id, Some(file))
        .await
        .map_err(|e| if e.status() == 422 { bad(&e.items()[0].long_message).0 } else { e })?;
    Ok(user(&u, &origin))
}

/// `DELETE /v1/users/{user_id}/profile_image`
pub async fn delete_user_profile_image(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    let u = tessera_core::users::images::set_profile_image(&app.ctx, &instance.id, &user_id, None).await?;
    Ok(user(&u, &origin))
}

/// `GET /v1/user_images/{image_id}` (outside the spec): the image bytes, public like Clerk's image CDN.
pub async fn get_user_image(State(app): State<AppState>, Path(image_id): Path<String>) -> ApiResult<Response> {
    let (content_type, data) = tessera_core::users::images::image(&app.ctx, &image_id).await?;
    Ok((
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable".into())],
        data,
    )
        .into_response())
}
