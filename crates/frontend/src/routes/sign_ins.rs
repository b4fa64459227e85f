//! Sign-ins on the browser's client (`/v1/client/sign_ins…`).

use serde_json::Value;
use tessera_core::browser_clients::BrowserClient;
use tessera_core::{Ctx, Error};

use crate::extract::Fapi;

/// The sign-in in progress on a client, as its object (for the client object). None yet: sign-ins are not
/// implemented in this face.
pub async fn in_progress(_ctx: &Ctx, _fapi: &Fapi, client: &BrowserClient) -> Result<Option<Value>, Error> {
    debug_assert!(client.sign_in_id.is_none(), "sign-ins are created by this face only");
    Ok(None)
}
