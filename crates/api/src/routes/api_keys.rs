//! API Keys: `/api_keys…`, served with and without `/v1` (`@clerk/backend` calls them without).
//!
//! Request errors are 400 `bad_request` rather than Tessera's usual 422 `form_param_*`: these operations declare
//! only 400 (and 404, 409) for errors. Create answers 201 (see `tessera_spec_check::DEVIATIONS`).

use crate::json::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::Error;
use tessera_core::api_keys::{self, ApiKeyUpdate, ListQuery, NewApiKey};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{BadRequestBody, Params, SecretKey, lenient_bool, lenient_u64, nullable};
use crate::list::{Paging, data_list};
use crate::objects::api_key::ApiKeyObject;

/// The `{apiKeyID}` path parameter, normalised; anything that cannot be a key id is 404 like an unknown one.
#[derive(Debug)]
pub struct KeyId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for KeyId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|_| Error::not_found("API key"))?;
        Ok(Self(api_keys::parse_id(&raw)?))
    }
}

/// Body of `POST /api_keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiBadRequestBody {
    #[serde(rename = "type")]
    key_type: Option<String>,
    name: String,
    subject: String,
    description: Option<String>,
    claims: Option<Value>,
    scopes: Option<Vec<String>>,
    created_by: Option<String>,
    seconds_until_expiration: Option<f64>,
}

/// Body of `PATCH /api_keys/{id}`: `null` clears `claims`, `description` and `seconds_until_expiration` (never
/// expires); `null` scopes or subject change nothing (they are not nullable).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateApiBadRequestBody {
    #[serde(default, deserialize_with = "nullable")]
    claims: Option<Option<Value>>,
    scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    subject: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    seconds_until_expiration: Option<Option<f64>>,
}

/// Body of `POST /api_keys/{id}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeApiBadRequestBody {
    revocation_reason: Option<String>,
}

/// Body of `POST /api_keys/verify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyApiBadRequestBody {
    secret: String,
}

/// Query of `GET /api_keys`. The SDKs send `limit=10.0&offset=0.0` (Python) or drop falsy values (JS). The
/// lenient values are parsed in the handler so that an error names its parameter.
#[derive(Debug, Deserialize)]
pub struct ListApiKeysParams {
    subject: Option<String>,
    #[serde(rename = "type")]
    key_type: Option<String>,
    include_invalid: Option<String>,
    query: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// Runs a shared lenient query parser on one raw value. (`Params` cannot name the parameter when a
/// `deserialize_with` parser rejects a value: its error only quotes the value.)
fn lenient<T>(
    param: &str,
    raw: Option<String>,
    parse: fn(Value) -> Result<Option<T>, serde_json::Error>,
) -> Result<Option<T>, Error> {
    raw.map_or(Ok(None), |raw| parse(Value::String(raw)))
        .map_err(|e| Error::query_param_invalid(param, format!("Invalid query parameter {param}: {e}")))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// `POST /api_keys` → 201 with the secret.
pub async fn create_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    BadRequestBody(body): BadRequestBody<CreateApiBadRequestBody>,
) -> ApiResult<(StatusCode, Json<ApiKeyObject>)> {
    let input = NewApiKey {
        key_type: body.key_type,
        name: body.name,
        subject: body.subject,
        description: body.description,
        claims: body.claims,
        scopes: body.scopes,
        created_by: body.created_by,
        seconds_until_expiration: body.seconds_until_expiration,
    };
    let created = api_keys::create(&app.ctx, &instance.id, input).await?;
    Ok((StatusCode::CREATED, Json(ApiKeyObject::with_secret(created.key, created.secret))))
}

/// `GET /api_keys?subject=…` → `{data, total_count}`, newest first.
pub async fn get_api_keys(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(params): Params<ListApiKeysParams>,
) -> ApiResult<Json<Value>> {
    let subject = non_empty(params.subject).ok_or_else(|| Error::query_param_missing("subject"))?;
    let paging = Paging {
        limit: lenient("limit", params.limit, lenient_u64)?,
        offset: lenient("offset", params.offset, lenient_u64)?,
        paginated: None,
    };
    let page = paging.page(api_keys::MAX_LIMIT)?;
    let query = ListQuery {
        subject,
        key_type: non_empty(params.key_type),
        include_invalid: lenient("include_invalid", params.include_invalid, lenient_bool)?.unwrap_or(false),
        query: non_empty(params.query),
        limit: page.limit,
        offset: page.offset,
    };
    let (keys, total) = api_keys::list(&app.ctx, &instance.id, &query).await?;
    Ok(data_list(keys.into_iter().map(ApiKeyObject::new).collect(), total))
}

/// `GET /api_keys/{id}`
pub async fn get_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    KeyId(id): KeyId,
) -> ApiResult<Json<ApiKeyObject>> {
    Ok(Json(ApiKeyObject::new(api_keys::get(&app.ctx, &instance.id, &id).await?)))
}

/// `PATCH /api_keys/{id}`
pub async fn update_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    KeyId(id): KeyId,
    BadRequestBody(body): BadRequestBody<UpdateApiBadRequestBody>,
) -> ApiResult<Json<ApiKeyObject>> {
    let input = ApiKeyUpdate {
        claims: body.claims,
        scopes: body.scopes,
        description: body.description,
        subject: body.subject,
        seconds_until_expiration: body.seconds_until_expiration,
    };
    Ok(Json(ApiKeyObject::new(api_keys::update(&app.ctx, &instance.id, &id, input).await?)))
}

/// `DELETE /api_keys/{id}` → `{id, object: "api_key", deleted: true}`.
pub async fn delete_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    KeyId(id): KeyId,
) -> ApiResult<Json<Value>> {
    api_keys::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "id": id, "object": "api_key", "deleted": true })))
}

/// `GET /api_keys/{id}/secret` → `{object: "api_key_secret", secret}`. The spec's schema is `{secret}`; the
/// `object` is there for clients that dispatch on it, and is deliberately not `api_key` so that `@clerk/backend`
/// hands back the plain `{secret}` it declares instead of building an `APIKey` from it.
pub async fn get_api_key_secret(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    KeyId(id): KeyId,
) -> ApiResult<Json<Value>> {
    let secret = api_keys::secret(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "object": "api_key_secret", "secret": secret })))
}

/// `POST /api_keys/{id}/revoke`
pub async fn revoke_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    KeyId(id): KeyId,
    BadRequestBody(body): BadRequestBody<RevokeApiBadRequestBody>,
) -> ApiResult<Json<ApiKeyObject>> {
    Ok(Json(ApiKeyObject::new(api_keys::revoke(&app.ctx, &instance.id, &id, body.revocation_reason).await?)))
}

/// `POST /api_keys/verify` with `{"secret": "ak_…"}` → the key, or 404 if it is unknown, revoked or expired.
pub async fn verify_api_key(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    BadRequestBody(body): BadRequestBody<VerifyApiBadRequestBody>,
) -> ApiResult<Json<ApiKeyObject>> {
    Ok(Json(ApiKeyObject::new(api_keys::verify(&app.ctx, &instance.id, &body.secret).await?)))
}
