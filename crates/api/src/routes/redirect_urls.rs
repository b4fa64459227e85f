//! Redirect URLs.

use crate::json::Json;
use axum::extract::State;
use serde_json::Value;
use tessera_core::redirect_urls::{self, NewRedirectUrl};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::list::{Paging, array_or_paginated};
use crate::objects::redirect_url;

/// Clerk's bound for this list.
const MAX_LIMIT: u64 = 500;

/// `GET /v1/redirect_urls` → a bare array, or `{data, total_count}` with `paginated=true`.
pub async fn list_redirect_urls(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let page = paging.page(MAX_LIMIT)?;
    let (rows, total) = redirect_urls::list(&app.ctx, &instance.id, page.limit, page.offset).await?;
    Ok(array_or_paginated(
        rows.iter().map(redirect_url::redirect_url).collect(),
        total,
        paging.paginated.unwrap_or(false),
    ))
}

/// `POST /v1/redirect_urls`
pub async fn create_redirect_url(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(input): Body<NewRedirectUrl>,
) -> ApiResult<Json<Value>> {
    let row = redirect_urls::create(&app.ctx, &instance.id, input).await?;
    Ok(Json(redirect_url::redirect_url(&row)))
}

/// `GET /v1/redirect_urls/{id}`
pub async fn get_redirect_url(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = redirect_urls::get(&app.ctx, &instance.id, &id).await?;
    Ok(Json(redirect_url::redirect_url(&row)))
}

/// `DELETE /v1/redirect_urls/{id}`
pub async fn delete_redirect_url(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    redirect_urls::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(redirect_url::deleted(&id)))
}
