//! Webhooks: the instance's webhook application (Clerk calls it the Svix app) and one-time links to the endpoint
//! portal Tessera serves itself (see [`crate::portal`]).

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tessera_core::webhooks;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::SecretKey;
use crate::routes::users::RequestOrigin;

async fn portal_url(app: &AppState, instance_id: &str, origin: &str) -> ApiResult<Json<Value>> {
    let token = webhooks::new_portal_token(&app.ctx, instance_id).await?;
    Ok(Json(json!({ "svix_url": format!("{origin}{}", crate::portal::webhooks::open_path(&token)) })))
}

/// `POST /v1/webhooks/svix`: creates the webhook application and answers a portal link.
pub async fn create_svix_app(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
) -> ApiResult<Json<Value>> {
    webhooks::create_app(&app.ctx, &instance.id).await?;
    portal_url(&app, &instance.id, &origin).await
}

/// `DELETE /v1/webhooks/svix`: deletes the webhook application, its endpoints and their deliveries.
pub async fn delete_svix_app(State(app): State<AppState>, SecretKey(instance): SecretKey) -> ApiResult<StatusCode> {
    webhooks::delete_app(&app.ctx, &instance.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/webhooks/svix_url`: a new one-time link to the endpoint portal.
pub async fn generate_svix_auth_url(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
) -> ApiResult<Json<Value>> {
    portal_url(&app, &instance.id, &origin).await
}
