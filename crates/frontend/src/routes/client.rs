//! `GET|PUT|DELETE /v1/client`: the browser's client.

use axum::extract::State;
use axum::response::Response;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::browser_clients::{self, CLIENT_TOKEN_PREFIX};

use crate::extract::Browser;
use crate::respond;

/// `GET /v1/client` → `{response: Client|null, client: Client|null}`.
pub async fn get_client(State(app): State<AppState>, browser: Browser) -> ApiResult<Response> {
    respond::wrapped_client(&app, &browser).await
}

/// `PUT /v1/client`: creates the browser's client (a production browser's `__client` cookie) if it has none.
pub async fn put_client(State(app): State<AppState>, mut browser: Browser) -> ApiResult<Response> {
    ensure_client(&app, &mut browser).await?;
    respond::wrapped_client(&app, &browser).await
}

/// `DELETE /v1/client`: ends the client's sessions and forgets the client → `{response: null, client: null}`.
pub async fn delete_client(State(app): State<AppState>, mut browser: Browser) -> ApiResult<Response> {
    if let Some(c) = browser.client.take() {
        browser_clients::destroy(&app.ctx, &browser.fapi.instance.id, &c.id).await?;
    }
    respond::wrapped(&app, &browser, serde_json::Value::Null).await
}

/// The browser's client, created (with a `__client` cookie token) if it has none yet.
pub async fn ensure_client(app: &AppState, browser: &mut Browser) -> ApiResult<()> {
    if browser.client.is_none() {
        let (token, client) = browser_clients::create(&app.ctx, &browser.fapi.instance.id, CLIENT_TOKEN_PREFIX).await?;
        browser.client = Some(client);
        browser.token = Some(token);
    }
    Ok(())
}

/// `POST /v1/client`: the same as `PUT /v1/client`.
pub async fn post_client(state: State<AppState>, browser: Browser) -> ApiResult<Response> {
    put_client(state, browser).await
}
