//! Waitlist Entries: list, create (one or bulk), delete, invite, reject.

use crate::json::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::store::waitlist_entries::WaitlistOrder;
use tessera_core::waitlist_entries::{self as waitlist, MAX_BULK, NewEntry};
use tessera_core::{Error, ErrorCode};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::waitlist_entry::waitlist_entry;

/// Largest page of the list.
const MAX_LIMIT: u64 = 500;

/// Query of `GET /waitlist_entries`.
#[derive(Debug, Deserialize)]
pub struct WaitlistParams {
    query: Option<String>,
    status: Option<String>,
    order_by: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// `GET /v1/waitlist_entries`
pub async fn list_waitlist_entries(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Params(p): Params<WaitlistParams>,
) -> ApiResult<Json<Value>> {
    let page = p.paging.page(MAX_LIMIT)?;
    let order = OrderBy::parse(p.order_by.as_deref(), &["created_at", "email_address", "invited_at"], "-created_at")?;
    let status = p.status.filter(|s| !s.is_empty());
    if let Some(s) = status.as_deref()
        && !["pending", "invited", "completed", "rejected"].contains(&s)
    {
        return Err(Error::query_param_invalid(
            "status",
            "status must be one of pending, invited, completed, rejected.",
        )
        .into());
    }
    let order_field = match order.field {
        "email_address" => WaitlistOrder::EmailAddress,
        "invited_at" => WaitlistOrder::InvitedAt,
        _ => WaitlistOrder::CreatedAt,
    };
    // Ids compare exactly; addresses (stored lower-cased) by a lower-cased substring.
    let query = p.query;
    let (rows, total) = waitlist::list(
        &app.ctx,
        &instance.id,
        query.as_deref(),
        status.as_deref(),
        order_field,
        order.descending,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(data_list(rows.iter().map(waitlist_entry).collect(), total))
}

/// Body of `POST /waitlist_entries` (one item of the bulk body).
#[derive(Debug, Deserialize)]
pub struct EntryBody {
    email_address: Option<String>,
    notify: Option<bool>,
}

impl EntryBody {
    fn into_input(self, param: &str) -> Result<NewEntry, Error> {
        Ok(NewEntry {
            email_address: self.email_address.ok_or_else(|| Error::param_missing(param))?,
            notify: self.notify.unwrap_or(true),
        })
    }
}

/// One item of the bulk body (the spec closes it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkEntryBody {
    email_address: Option<String>,
    notify: Option<bool>,
}

/// `POST /v1/waitlist_entries`
pub async fn create_waitlist_entry(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<EntryBody>,
) -> ApiResult<Json<Value>> {
    let input = b.into_input("email_address")?;
    let mut created = waitlist::create(&app.ctx, &instance, vec![input], false).await?;
    let entry = created.pop().ok_or_else(|| Error::new(ErrorCode::InternalClerkError))?;
    Ok(Json(waitlist_entry(&entry)))
}

/// `POST /v1/waitlist_entries/bulk`
pub async fn create_bulk_waitlist_entries(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Body(b): Body<Vec<BulkEntryBody>>,
) -> ApiResult<Json<Value>> {
    if b.is_empty() || b.len() > MAX_BULK {
        return Err(Error::param_value_invalid(
            "body",
            format!("Between 1 and {MAX_BULK} waitlist entries can be created at once."),
        )
        .into());
    }
    let inputs = b
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            EntryBody { email_address: e.email_address, notify: e.notify }.into_input(&format!("[{i}].email_address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = waitlist::create(&app.ctx, &instance, inputs, true).await?;
    Ok(Json(json!(created.iter().map(waitlist_entry).collect::<Vec<_>>())))
}

/// `DELETE /v1/waitlist_entries/{waitlist_entry_id}`
pub async fn delete_waitlist_entry(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    waitlist::delete(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "object": "waitlist_entry", "id": id, "deleted": true })))
}

/// Body of `POST /waitlist_entries/{waitlist_entry_id}/invite`.
#[derive(Debug, Default, Deserialize)]
pub struct InviteBody {
    ignore_existing: Option<bool>,
}

/// `POST /v1/waitlist_entries/{waitlist_entry_id}/invite`
pub async fn invite_waitlist_entry(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    Body(b): Body<InviteBody>,
) -> ApiResult<Json<Value>> {
    let entry = waitlist::invite(&app.ctx, &instance, &id, b.ignore_existing.unwrap_or(false)).await?;
    Ok(Json(waitlist_entry(&entry)))
}

/// `POST /v1/waitlist_entries/{waitlist_entry_id}/reject`
pub async fn reject_waitlist_entry(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(waitlist_entry(&waitlist::reject(&app.ctx, &instance.id, &id).await?)))
}
