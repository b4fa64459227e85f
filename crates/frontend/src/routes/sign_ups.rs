//! Sign-ups on the browser's client (`/v1/client/sign_ups…`).

use serde_json::Value;
use tessera_core::browser_clients::BrowserClient;
use tessera_core::{Ctx, Error};

use crate::extract::Fapi;

/// The sign-up in progress on a client, as its object (for the client object). None yet: sign-ups are not
/// implemented in this face.
pub async fn in_progress(_ctx: &Ctx, _fapi: &Fapi, client: &BrowserClient) -> Result<Option<Value>, Error> {
    debug_assert!(client.sign_up_id.is_none(), "sign-ups are created by this face only");
    Ok(None)
}
