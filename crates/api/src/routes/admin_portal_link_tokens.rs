//! Admin portal link tokens: `/admin_portal_link_tokens…`, machine-auth dialect (create answers 201; request
//! errors are 400 `bad_request`; an id that cannot be a token id is 404 like an unknown one).

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::admin_portal::{self, NewToken};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{BadRequestBody, SecretKey};
use crate::objects::admin_portal_link_token::AdminPortalLinkTokenObject;

/// Body of `POST /admin_portal_link_tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAdminPortalLinkTokenBody {
    organization_id: Option<String>,
    it_contact_id: Option<String>,
    scopes: Option<Vec<String>>,
    seconds_until_expiration: Option<i64>,
}

/// Body of `POST /admin_portal_link_tokens/{id}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeAdminPortalLinkTokenBody {
    revocation_reason: Option<String>,
}

/// `POST /admin_portal_link_tokens` → 201 with the token.
pub async fn create_admin_portal_link_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    BadRequestBody(b): BadRequestBody<CreateAdminPortalLinkTokenBody>,
) -> ApiResult<Response> {
    let input = NewToken {
        organization_id: b.organization_id,
        it_contact_id: b.it_contact_id,
        scopes: b.scopes,
        seconds_until_expiration: b.seconds_until_expiration,
    };
    let t = admin_portal::create(&app.ctx, &instance.id, input).await?;
    Ok((StatusCode::CREATED, Json(AdminPortalLinkTokenObject::new(&t))).into_response())
}

/// `POST /admin_portal_link_tokens/{id}/revoke`
pub async fn revoke_admin_portal_link_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
    BadRequestBody(b): BadRequestBody<RevokeAdminPortalLinkTokenBody>,
) -> ApiResult<Response> {
    let id = admin_portal::parse_id(&id)?;
    let t = admin_portal::revoke(&app.ctx, &instance.id, &id, b.revocation_reason).await?;
    Ok(Json(AdminPortalLinkTokenObject::new(&t)).into_response())
}
