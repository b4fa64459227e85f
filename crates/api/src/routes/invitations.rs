//! Invitations (instance level) and the Allow-list / Block-list.

use crate::json::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tessera_core::invitations::{self, NewInvitation};
use tessera_core::restriction_lists::{self, List};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::list::{OrderBy, Paging, array_or_paginated, data_list};
use crate::objects::invitation::{DeletedInvitationObject, invitation, list_entry};

/// Largest page of the lists here.
const MAX_LIMIT: u64 = 500;

/// One invitation of a create or bulk-create body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    email_address: String,
    expires_in_days: Option<i64>,
    ignore_existing: Option<bool>,
    notify: Option<bool>,
    public_metadata: Option<Map<String, Value>>,
    redirect_url: Option<String>,
    template_slug: Option<String>,
}

impl From<InvitationBody> for NewInvitation {
    fn from(b: InvitationBody) -> Self {
        Self {
            email_address: b.email_address,
            expires_in_days: b.expires_in_days,
            ignore_existing: b.ignore_existing.unwrap_or(false),
            notify: b.notify.unwrap_or(true),
            public_metadata: b.public_metadata,
            redirect_url: b.redirect_url,
            template_slug: b.template_slug,
        }
    }
}

/// `POST /v1/invitations`
pub async fn create_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<InvitationBody>,
) -> ApiResult<Json<Value>> {
    let mut created = invitations::create(&app.ctx, &instance, vec![b.into()], false).await?;
    let one = created.pop().ok_or_else(|| tessera_core::Error::new(tessera_core::ErrorCode::InternalClerkError))?;
    Ok(Json(invitation(&one)))
}

/// `POST /v1/invitations/bulk`
pub async fn create_bulk_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<Vec<InvitationBody>>,
) -> ApiResult<Json<Value>> {
    if b.is_empty() || b.len() > 10 {
        return Err(tessera_core::Error::param_value_invalid(
            "body",
            "Between 1 and 10 invitations can be created at once.",
        )
        .into());
    }
    let created = invitations::create(&app.ctx, &instance, b.into_iter().map(Into::into).collect(), true).await?;
    Ok(Json(json!(created.iter().map(invitation).collect::<Vec<_>>())))
}

/// Query of `GET /invitations`.
#[derive(Debug, Deserialize)]
pub struct InvitationListParams {
    status: Option<String>,
    query: Option<String>,
    order_by: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/invitations`
pub async fn list_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<InvitationListParams>,
) -> ApiResult<Json<Value>> {
    let page = p.paging.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["created_at", "email_address", "expires_at"], "-created_at")?;
    let status = p.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status
        && !matches!(s, "pending" | "accepted" | "revoked" | "expired")
    {
        return Err(tessera_core::Error::query_param_invalid(
            "status",
            "status must be one of pending, accepted, revoked, expired.",
        )
        .into());
    }
    let (rows, total) = invitations::list(
        &app.ctx,
        &instance.id,
        status,
        p.query.as_deref(),
        (order.field, order.descending),
        page.limit,
        page.offset,
    )
    .await?;
    Ok(array_or_paginated(rows.iter().map(invitation).collect(), total, p.paging.paginated.unwrap_or(false)))
}

/// `POST /v1/invitations/{invitation_id}/revoke`
pub async fn revoke_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(invitation(&invitations::revoke(&app.ctx, &instance.id, &id).await?)))
}

/// `DELETE /v1/invitations/{invitation_id}` (`invitations.deleteInvitation` of `@clerk/backend` 3.x; in no spec
/// revision): erases the invitation, whatever its status, and the stored copies of its e-mail.
pub async fn delete_invitation(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = invitations::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(DeletedInvitationObject::new(&id)).into_response())
}

/// Body of `POST /allowlist_identifiers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistBody {
    identifier: String,
    /// Accepted; no invitation is sent for an allow-list entry.
    #[allow(dead_code)]
    notify: Option<bool>,
}

/// Body of `POST /blocklist_identifiers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlocklistBody {
    identifier: String,
}

/// `GET /v1/allowlist_identifiers`
pub async fn list_allowlist_identifiers(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let page = p.page(MAX_LIMIT)?;
    let (rows, total) = restriction_lists::list(&app.ctx, &instance.id, List::Allow, page.limit, page.offset).await?;
    Ok(array_or_paginated(rows.iter().map(list_entry).collect(), total, p.paginated.unwrap_or(false)))
}

/// `POST /v1/allowlist_identifiers`
pub async fn create_allowlist_identifier(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<AllowlistBody>,
) -> ApiResult<Json<Value>> {
    let e = restriction_lists::create(&app.ctx, &instance.id, List::Allow, &b.identifier).await?;
    Ok(Json(list_entry(&e)))
}

/// `DELETE /v1/allowlist_identifiers/{identifier_id}`
pub async fn delete_allowlist_identifier(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    restriction_lists::delete(&app.ctx, &instance.id, List::Allow, &id).await?;
    Ok(Json(json!({ "object": "allowlist_identifier", "id": id, "deleted": true })))
}

/// `GET /v1/blocklist_identifiers`
pub async fn list_blocklist_identifiers(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<Paging>,
) -> ApiResult<Json<Value>> {
    let page = p.page(MAX_LIMIT)?;
    let (rows, total) = restriction_lists::list(&app.ctx, &instance.id, List::Block, page.limit, page.offset).await?;
    Ok(data_list(rows.iter().map(list_entry).collect(), total))
}

/// `POST /v1/blocklist_identifiers`
pub async fn create_blocklist_identifier(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<BlocklistBody>,
) -> ApiResult<Json<Value>> {
    let e = restriction_lists::create(&app.ctx, &instance.id, List::Block, &b.identifier).await?;
    Ok(Json(list_entry(&e)))
}

/// `DELETE /v1/blocklist_identifiers/{identifier_id}`
pub async fn delete_blocklist_identifier(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    restriction_lists::delete(&app.ctx, &instance.id, List::Block, &id).await?;
    Ok(Json(json!({ "object": "blocklist_identifier", "id": id, "deleted": true })))
}
