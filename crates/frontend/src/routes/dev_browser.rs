//! `POST /v1/dev_browser`: a development browser's identity. clerk-js creates one before anything else on a
//! development instance and sends its token as `__clerk_db_jwt` on every request; the token reaches one client.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::browser_clients::{self, DEV_BROWSER_PREFIX};
use tessera_core::{Error, ErrorCode};

use crate::extract::Fapi;

/// `POST /v1/dev_browser` → `{id, object, …}`; the token also goes out as `Clerk-Db-Jwt`.
pub async fn create_dev_browser(State(app): State<AppState>, fapi: Fapi) -> ApiResult<Response> {
    if !fapi.development() {
        return Err(Error::with(
            ErrorCode::BadRequest,
            "development instances only",
            "Dev browsers exist only for development instances.",
            None,
        )
        .into());
    }
    let (token, client) = browser_clients::create(&app.ctx, &fapi.instance.id, DEV_BROWSER_PREFIX).await?;
    let body = serde_json::json!({
        "object": "dev_browser",
        "id": token,
        "instance_id": fapi.instance.id,
        "client_id": client.id,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    });
    let mut response = Json(body).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&token) {
        response.headers_mut().insert("clerk-db-jwt", v);
    }
    Ok(response)
}
