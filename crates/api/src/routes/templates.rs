//! Email & SMS Templates (deprecated by Clerk, still in the API): list, get, update, revert, preview and the
//! delivery toggle. Unknown template types are 400 (naming `template_type`), unknown slugs 404.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::templates::{self, PreviewInput, TemplateType, TemplateUpdate};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{BadRequestBody, Body, Params, SecretKey};
use crate::list::{Paging, array_or_paginated};
use crate::objects::template::template;

/// Clerk's bound for this list.
const MAX_LIMIT: u64 = 500;

/// `GET /v1/templates/{template_type}` → a bare array by position, or `{data, total_count}` with `paginated=true`.
pub async fn get_template_list(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(template_type): Path<String>,
    Params(paging): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    let page = paging.page(MAX_LIMIT)?;
    let (list, total) = templates::list(&app.ctx, &instance, t, page.limit, page.offset).await?;
    Ok(array_or_paginated(list.iter().map(template).collect(), total, paging.paginated.unwrap_or(false)))
}

/// `GET /v1/templates/{template_type}/{slug}`
pub async fn get_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((template_type, slug)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    Ok(Json(template(&templates::get(&app.ctx, &instance, t, &slug).await?)))
}

/// The body of `PUT /v1/templates/{template_type}/{slug}` (`null` counts as absent).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertTemplateBody {
    name: Option<String>,
    subject: Option<String>,
    markup: Option<String>,
    body: Option<String>,
    delivered_by_clerk: Option<bool>,
    from_email_name: Option<String>,
    reply_to_email_name: Option<String>,
}

/// `PUT /v1/templates/{template_type}/{slug}`
pub async fn upsert_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((template_type, slug)): Path<(String, String)>,
    Body(b): Body<UpsertTemplateBody>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    let update = TemplateUpdate {
        name: b.name,
        subject: b.subject,
        markup: b.markup,
        body: b.body,
        delivered_by_clerk: b.delivered_by_clerk,
        from_email_name: b.from_email_name,
        reply_to_email_name: b.reply_to_email_name,
    };
    Ok(Json(template(&templates::upsert(&app.ctx, &instance, t, &slug, update).await?)))
}

/// `POST /v1/templates/{template_type}/{slug}/revert`
pub async fn revert_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((template_type, slug)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    Ok(Json(template(&templates::revert(&app.ctx, &instance, t, &slug).await?)))
}

/// The body of `POST /v1/templates/{template_type}/{slug}/preview`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewTemplateBody {
    subject: Option<String>,
    body: Option<String>,
    from_email_name: Option<String>,
    reply_to_email_name: Option<String>,
}

/// `POST /v1/templates/{template_type}/{slug}/preview`: the template (with the given changes, not stored)
/// rendered with sample data.
pub async fn preview_template(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((template_type, slug)): Path<(String, String)>,
    Body(b): Body<PreviewTemplateBody>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    let input = PreviewInput {
        subject: b.subject,
        body: b.body,
        from_email_name: b.from_email_name,
        reply_to_email_name: b.reply_to_email_name,
    };
    let p = templates::preview(&app.ctx, &instance, t, &slug, input).await?;
    let mut out = json!({ "body": p.body, "body_plain": p.body_plain });
    if t == TemplateType::Email {
        out["subject"] = json!(p.subject);
        out["from_email_address"] = json!(p.from_email_address);
        out["reply_to_email_address"] = json!(p.reply_to_email_address);
    }
    Ok(Json(out))
}

/// The body of `POST /v1/templates/{template_type}/{slug}/toggle_delivery`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToggleDeliveryBody {
    delivered_by_clerk: Option<bool>,
}

/// `POST /v1/templates/{template_type}/{slug}/toggle_delivery`: sets `delivered_by_clerk` (flips it when absent).
/// Its spec declares no 422, so a malformed body is 400.
pub async fn toggle_template_delivery(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((template_type, slug)): Path<(String, String)>,
    BadRequestBody(b): BadRequestBody<ToggleDeliveryBody>,
) -> ApiResult<Json<Value>> {
    let t = TemplateType::parse(&template_type)?;
    Ok(Json(template(&templates::toggle_delivery(&app.ctx, &instance, t, &slug, b.delivered_by_clerk).await?)))
}
