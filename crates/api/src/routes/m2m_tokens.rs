//! M2M tokens: create (machine secret key only), list, revoke and verify (machine or instance secret key). Served
//! at `/v1/m2m_tokens…` and, for `@clerk/backend` and Python's `verify_token`, at `/m2m_tokens…`. Invalid input
//! answers 400 `bad_request`: the spec declares no 422 for these operations.

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::m2m_tokens::{NewM2mToken, TokenFormat, TokenListQuery, bad_request};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{BadRequestBody, MachineOrSecretKey, Params, lenient_bool, lenient_u64};
use crate::list::{Paging, keyed_list};
use crate::objects::m2m_token::M2mTokenObject;

/// Largest page of the token list.
const MAX_LIMIT: u64 = 100;

/// Query of `GET /m2m_tokens`.
#[derive(Debug, Deserialize)]
pub struct ListTokensParams {
    subject: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    revoked: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    expired: Option<bool>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /m2m_tokens`
pub async fn get_m2m_tokens(
    State(app): State<AppState>,
    MachineOrSecretKey(caller): MachineOrSecretKey,
    Params(p): Params<ListTokensParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(MAX_LIMIT)?;
    let query = TokenListQuery {
        subject: p.subject,
        include_revoked: p.revoked.unwrap_or(false),
        include_expired: p.expired.unwrap_or(false),
        limit: page.limit,
        offset: page.offset,
    };
    let (tokens, total) = tessera_core::m2m_tokens::list_tokens(&app.ctx, &caller, &query).await?;
    Ok(keyed_list("m2m_tokens", tokens.iter().map(M2mTokenObject::new).collect(), total))
}

/// `token_format`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormatParam {
    /// `mt_…`
    Opaque,
    /// A JWT.
    Jwt,
}

/// Body of `POST /m2m_tokens` (`null` means "not given", as `@clerk/backend` sends it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    token_format: Option<TokenFormatParam>,
    seconds_until_expiration: Option<f64>,
    claims: Option<Value>,
    min_remaining_ttl_seconds: Option<i64>,
}

/// `POST /m2m_tokens` (201)
pub async fn create_m2m_token(
    State(app): State<AppState>,
    MachineOrSecretKey(caller): MachineOrSecretKey,
    BadRequestBody(body): BadRequestBody<CreateTokenBody>,
) -> ApiResult<Response> {
    let input = NewM2mToken {
        format: match body.token_format {
            Some(TokenFormatParam::Jwt) => TokenFormat::Jwt,
            Some(TokenFormatParam::Opaque) | None => TokenFormat::Opaque,
        },
        seconds_until_expiration: body.seconds_until_expiration,
        claims: body.claims,
        min_remaining_ttl_seconds: body.min_remaining_ttl_seconds,
    };
    let created = tessera_core::m2m_tokens::create_token(&app.ctx, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(M2mTokenObject::with_secret(&created.token, &created.secret))).into_response())
}

/// Body of `POST /m2m_tokens/{m2m_token_id}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokenBody {
    revocation_reason: Option<String>,
}

/// `POST /m2m_tokens/{m2m_token_id}/revoke`
pub async fn revoke_m2m_token(
    State(app): State<AppState>,
    MachineOrSecretKey(caller): MachineOrSecretKey,
    Path(m2m_token_id): Path<String>,
    BadRequestBody(body): BadRequestBody<RevokeTokenBody>,
) -> ApiResult<Response> {
    let token =
        tessera_core::m2m_tokens::revoke_token(&app.ctx, &caller, &m2m_token_id, body.revocation_reason).await?;
    Ok(Json(M2mTokenObject::new(&token)).into_response())
}

/// Body of `POST /m2m_tokens/verify`: `token`, or `secret` as Python's `verify_token` helper sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTokenBody {
    token: Option<String>,
    secret: Option<String>,
}

/// `POST /m2m_tokens/verify`
pub async fn verify_m2m_token(
    State(app): State<AppState>,
    MachineOrSecretKey(caller): MachineOrSecretKey,
    BadRequestBody(body): BadRequestBody<VerifyTokenBody>,
) -> ApiResult<Response> {
    let token = body.token.or(body.secret).ok_or_else(|| bad_request(Some("token"), "token must be included."))?;
    let verified = tessera_core::m2m_tokens::verify_token(&app.ctx, &caller, &token).await?;
    Ok(Json(M2mTokenObject::new(&verified)).into_response())
}
