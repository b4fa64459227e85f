//! `POST /v1/waitlist` (clerk-js's `joinWaitlist`, `<Waitlist/>`): the same entries the Backend API lists, invites
//! and rejects ([`tessera_core::waitlist_entries`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::Error;
use tessera_core::waitlist_entries::{self, NewEntry};

use crate::extract::{Fapi, Form};

/// The form of `POST /v1/waitlist`.
#[derive(Debug, Default, Deserialize)]
pub struct JoinWaitlistForm {
    email_address: Option<String>,
}

/// `Client.WaitlistEntry`.
#[derive(Debug, Serialize)]
struct WaitlistEntryObject<'a> {
    object: &'static str,
    id: &'a str,
}

/// `POST /v1/waitlist`: adds the address (confirmed by e-mail); an address already on the waitlist answers its
/// existing entry.
pub async fn join_waitlist(
    State(app): State<AppState>,
    fapi: Fapi,
    Form(f): Form<JoinWaitlistForm>,
) -> ApiResult<Response> {
    let email_address =
        f.email_address.filter(|e| !e.trim().is_empty()).ok_or_else(|| Error::param_missing("email_address"))?;
    let entry = NewEntry { email_address, notify: true };
    let mut created = waitlist_entries::create(&app.ctx, &fapi.instance, vec![entry], false).await?;
    let entry = created.pop().ok_or_else(|| Error::internal(std::io::Error::other("no waitlist entry created")))?;
    Ok(Json(WaitlistEntryObject { object: "waitlist_entry", id: &entry.row.id }).into_response())
}
