//! OAuth applications (the clients of the instance's OAuth 2.1 / OpenID Connect provider): create, list, get,
//! update, delete, logo, rotate secret and revoke token; and the verification of OAuth access tokens, which
//! resource servers (MCP servers above all) call on every request.

use crate::json::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::oauth::applications::{self, ApplicationPatch, NewApplication, Order};
use tessera_core::oauth::tokens::{self, Verified, bad_request};
use tessera_core::oauth::{OAuthApplication, frontend_url};
use tessera_core::{Error, ErrorCode};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{BadRequestBody, Body, Params, SecretKey, lenient_u64};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::oauth_application::{AccessTokenObject, OAuthApplicationObject};

/// Largest page of the list.
const MAX_LIMIT: u64 = 500;
/// `order_by` fields of the list.
const ORDER_FIELDS: &[&str] = &["created_at", "name"];

/// Query of `GET /oauth_applications`.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
    order_by: Option<String>,
    name_query: Option<String>,
}

/// Body of `POST /oauth_applications`.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    callback_url: Option<String>,
    scopes: Option<String>,
    consent_screen_enabled: Option<bool>,
    pkce_required: Option<bool>,
    public: Option<bool>,
}

/// Body of `PATCH /oauth_applications/{id}` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    callback_url: Option<String>,
    scopes: Option<String>,
    consent_screen_enabled: Option<bool>,
    pkce_required: Option<bool>,
    public: Option<bool>,
}

fn object(app: &OAuthApplication, instance: &tessera_core::instances::Instance, origin: &str) -> Response {
    Json(OAuthApplicationObject::new(app, &frontend_url(instance), origin)).into_response()
}

/// `GET /v1/oauth_applications` (newest first unless `order_by` says otherwise).
pub async fn list_o_auth_applications(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), ORDER_FIELDS, "-created_at")?;
    let order = match (order.field, order.descending) {
        ("name", false) => Order::NameAsc,
        ("name", true) => Order::NameDesc,
        (_, false) => Order::CreatedAtAsc,
        (_, true) => Order::CreatedAtDesc,
    };
    let (apps, total) =
        applications::list(&app.ctx, &instance.id, p.name_query.as_deref(), order, page.limit, page.offset).await?;
    let frontend = frontend_url(&instance);
    Ok(data_list(apps.iter().map(|a| OAuthApplicationObject::new(a, &frontend, &origin)).collect(), total))
}

/// `POST /v1/oauth_applications`: the secret is in this answer only.
pub async fn create_o_auth_application(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Body(b): Body<CreateBody>,
) -> ApiResult<Response> {
    let input = NewApplication {
        name: b.name,
        redirect_uris: b.redirect_uris,
        callback_url: b.callback_url,
        scopes: b.scopes,
        consent_screen_enabled: b.consent_screen_enabled,
        pkce_required: b.pkce_required,
        public: b.public,
        client_uri: None,
        dynamically_registered: false,
    };
    let created = applications::create(&app.ctx, &instance.id, input).await?;
    let frontend = frontend_url(&instance);
    Ok(Json(OAuthApplicationObject::with_secret(&created.application, &created.client_secret, &frontend, &origin))
        .into_response())
}

/// `GET /v1/oauth_applications/{oauth_application_id}`
pub async fn get_o_auth_application(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = applications::get(&app.ctx, &instance.id, &id).await?;
    Ok(object(&a, &instance, &origin))
}

/// `PATCH /v1/oauth_applications/{oauth_application_id}`
pub async fn update_o_auth_application(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    Body(b): Body<UpdateBody>,
) -> ApiResult<Response> {
    let patch = ApplicationPatch {
        name: b.name,
        redirect_uris: b.redirect_uris,
        callback_url: b.callback_url,
        scopes: b.scopes,
        consent_screen_enabled: b.consent_screen_enabled,
        pkce_required: b.pkce_required,
        public: b.public,
    };
    let a = applications::update(&app.ctx, &instance.id, &id, patch).await?;
    Ok(object(&a, &instance, &origin))
}

/// `DeletedObject` of an application.
#[derive(Debug, serde::Serialize)]
struct Deleted<'a> {
    object: &'static str,
    id: &'a str,
    deleted: bool,
}

/// `DELETE /v1/oauth_applications/{oauth_application_id}`: its grants and tokens go with it.
pub async fn delete_o_auth_application(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    applications::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(Deleted { object: "oauth_application", id: &id, deleted: true }).into_response())
}

/// `POST /v1/oauth_applications/{oauth_application_id}/rotate_secret`
pub async fn rotate_o_auth_application_secret(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rotated = applications::rotate_secret(&app.ctx, &instance.id, &id).await?;
    let frontend = frontend_url(&instance);
    Ok(Json(OAuthApplicationObject::with_secret(&rotated.application, &rotated.client_secret, &frontend, &origin))
        .into_response())
}

/// `PUT /v1/oauth_applications/{oauth_application_id}/logo` (multipart: `file`, optional `uploader_user_id`).
pub async fn upload_o_auth_application_logo(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let bad = |why: &str, param: &str| ApiError(Error::with(ErrorCode::BadRequest, "invalid file", why, Some(param)));
    // An unknown application is 404 whatever the body.
    applications::get(&app.ctx, &instance.id, &id).await?;
    let mut multipart =
        multipart.map_err(|_| bad("The request must be multipart/form-data with a `file` field.", "file"))?;
    let (mut file, mut uploader) = (None::<Bytes>, None);
    while let Some(field) = multipart.next_field().await.map_err(|_| bad("The multipart body is malformed.", "file"))? {
        match field.name() {
            Some("file") => {
                file =
                    Some(field.bytes().await.map_err(|_| bad("The file could not be read (at most 10MB).", "file"))?);
            }
            Some("uploader_user_id") => {
                uploader =
                    Some(field.text().await.map_err(|_| bad("uploader_user_id must be text.", "uploader_user_id"))?);
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| bad("The `file` field is required.", "file"))?;
    let a =
        applications::set_logo(&app.ctx, &instance.id, &id, file.to_vec(), uploader.as_deref()).await.map_err(|e| {
            // The spec declares 400 (and 413) for a bad file, not 422.
            if e.status() == 422 { crate::extract::as_bad_request(e) } else { e }
        })?;
    Ok(object(&a, &instance, &origin))
}

/// `GET /v1/oauth_application_images/{image_id}` (outside the spec): a logo, public like Clerk's image CDN.
pub async fn get_o_auth_application_image(
    State(app): State<AppState>,
    Path(image_id): Path<String>,
) -> ApiResult<Response> {
    let (content_type, data) = applications::logo(&app.ctx, &image_id).await?;
    Ok((
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable".into())],
        data,
    )
        .into_response())
}

/// Body of `POST /oauth_applications/{id}/revoke_token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokenBody {
    token: Option<String>,
}

/// `POST /v1/oauth_applications/{oauth_application_id}/revoke_token`: 204, the token's whole grant revoked.
pub async fn revoke_o_auth_application_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<RevokeTokenBody>,
) -> ApiResult<StatusCode> {
    let token = b.token.filter(|t| !t.is_empty()).ok_or_else(|| Error::param_missing("token"))?;
    tokens::revoke_for_application(&app.ctx, &instance.id, &id, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /oauth_applications/access_tokens/verify`: `access_token`, or the deprecated `secret` (Python's
/// `verify_token` helper sends it).
#[derive(Debug, Deserialize)]
pub struct VerifyBody {
    access_token: Option<String>,
    secret: Option<String>,
}

/// `{active: false}`: a JWT access token past its expiry.
#[derive(Debug, serde::Serialize)]
struct Inactive {
    active: bool,
}

/// `POST /v1/oauth_applications/access_tokens/verify` (also without `/v1`, as `@clerk/backend` calls it).
pub async fn verify_o_auth_access_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    BadRequestBody(b): BadRequestBody<VerifyBody>,
) -> ApiResult<Response> {
    let token = b
        .access_token
        .or(b.secret)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad_request(Some("access_token"), "access_token must be included."))?;
    Ok(match tokens::verify(&app.ctx, &instance.id, &token).await? {
        Verified::Active(t) => Json(AccessTokenObject::new(&t)).into_response(),
        Verified::Inactive => Json(Inactive { active: false }).into_response(),
    })
}
