//! Users: password and code verification, second factors, password state, and the user's other
//! identifications and related lists (web3 wallets, passkeys, external accounts, trusted devices, OAuth tokens,
//! organization memberships and invitations).

use crate::json::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::users::credentials::{CodeType, MfaRemoval};
use tessera_core::{Error, ErrorCode};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_bool, lenient_u64};
use crate::list::{Paging, array_or_paginated, data_list};
use crate::objects::organization_invitation::organization_invitation;
use crate::objects::user::user;

/// Body of `POST /users/{user_id}/verify_password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyPasswordBody {
    password: String,
}

/// `POST /v1/users/{user_id}/verify_password`: `{verified: true}`, or 422 `form_password_incorrect` (counted
/// toward the lockout), 400 without a password, 403 `user_locked` while locked.
pub async fn verify_password(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
    Body(b): Body<VerifyPasswordBody>,
) -> ApiResult<Json<Value>> {
    tessera_core::users::credentials::verify_password(&app.ctx, &instance.id, &user_id, b.password).await?;
    Ok(Json(json!({ "verified": true })))
}

/// Body of `POST /users/{user_id}/verify_totp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTotpBody {
    code: String,
}

/// `POST /v1/users/{user_id}/verify_totp`: a TOTP code (once per time step) or a backup code (consumed).
pub async fn verify_totp(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
    Body(b): Body<VerifyTotpBody>,
) -> ApiResult<Json<Value>> {
    let kind = tessera_core::users::credentials::verify_totp(&app.ctx, &instance.id, &user_id, b.code).await?;
    let code_type = if kind == CodeType::Totp { "totp" } else { "backup_code" };
    Ok(Json(json!({ "verified": true, "code_type": code_type })))
}

async fn remove(app: &AppState, instance_id: &str, user_id: &str, what: MfaRemoval) -> ApiResult<Json<Value>> {
    tessera_core::users::credentials::remove_mfa(&app.ctx, instance_id, user_id, what).await?;
    Ok(Json(json!({ "user_id": user_id })))
}

/// `DELETE /v1/users/{user_id}/mfa`
pub async fn disable_mfa(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    remove(&app, &instance.id, &user_id, MfaRemoval::All).await
}

/// `DELETE /v1/users/{user_id}/backup_code`
pub async fn delete_backup_code(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    remove(&app, &instance.id, &user_id, MfaRemoval::BackupCodes).await
}

/// `DELETE /v1/users/{user_id}/totp`
pub async fn delete_totp(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    remove(&app, &instance.id, &user_id, MfaRemoval::Totp).await
}

/// Body of `POST /users/{user_id}/remove_password`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovePasswordBody {
    // Sessions do not exist yet: there are none to sign out of.
    #[expect(dead_code, reason = "accepted; no sessions exist yet")]
    sign_out_of_other_sessions: Option<bool>,
}

/// `POST /v1/users/{user_id}/remove_password`
pub async fn remove_user_password(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Body(_): Body<RemovePasswordBody>,
) -> ApiResult<Response> {
    let u = tessera_core::users::credentials::remove_password(&app.ctx, &instance.id, &user_id).await?;
    Ok(user(&u, &origin))
}

/// Body of `POST /users/{user_id}/password/set_compromised`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCompromisedBody {
    #[expect(dead_code, reason = "accepted; no sessions exist yet")]
    revoke_all_sessions: Option<bool>,
}

/// `POST /v1/users/{user_id}/password/set_compromised`
pub async fn set_user_password_compromised(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Body(_): Body<SetCompromisedBody>,
) -> ApiResult<Response> {
    let u = tessera_core::users::credentials::set_password_compromised(&app.ctx, &instance.id, &user_id, true).await?;
    Ok(user(&u, &origin))
}

/// `POST /v1/users/{user_id}/password/unset_compromised`
pub async fn unset_user_password_compromised(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
) -> ApiResult<Response> {
    let u = tessera_core::users::credentials::set_password_compromised(&app.ctx, &instance.id, &user_id, false).await?;
    Ok(user(&u, &origin))
}

/// `DELETE /v1/users/{user_id}/web3_wallets/{web3_wallet_identification_id}`
pub async fn user_web3_wallet_delete(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((user_id, wallet_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    tessera_core::users::credentials::delete_web3_wallet(&app.ctx, &instance.id, &user_id, &wallet_id).await?;
    Ok(Json(json!({ "object": "web3_wallet", "id": wallet_id, "deleted": true })))
}

/// Passkeys, external accounts and trusted devices are only created through the Frontend API, which this server
/// does not serve yet: every user has none, so deleting one is 404 once the user is known to exist.
async fn none_of(app: &AppState, instance_id: &str, user_id: &str, what: &str) -> ApiResult<Json<Value>> {
    tessera_core::users::ensure_exists(&app.ctx, instance_id, user_id).await?;
    Err(Error::not_found(what).into())
}

/// `DELETE /v1/users/{user_id}/passkeys/{passkey_identification_id}`
pub async fn user_passkey_delete(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((user_id, _)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    none_of(&app, &instance.id, &user_id, "passkey").await
}

/// `DELETE /v1/users/{user_id}/external_accounts/{external_account_id}`
pub async fn delete_external_account(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((user_id, _)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    none_of(&app, &instance.id, &user_id, "external account").await
}

/// `GET /v1/users/{user_id}/trusted_devices`: the user's trusted devices (none can be enrolled yet).
pub async fn list_user_trusted_devices(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    tessera_core::users::ensure_exists(&app.ctx, &instance.id, &user_id).await?;
    Ok(data_list(Vec::<Value>::new(), 0))
}

/// `DELETE /v1/users/{user_id}/trusted_devices/{trusted_device_id}`
pub async fn revoke_user_trusted_device(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((user_id, _)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    none_of(&app, &instance.id, &user_id, "trusted device").await
}

/// Query of `GET /users/{user_id}/oauth_access_tokens/{provider}`.
#[derive(Debug, Deserialize)]
pub struct OAuthTokensParams {
    #[serde(default, deserialize_with = "lenient_bool")]
    paginated: Option<bool>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/users/{user_id}/oauth_access_tokens/{provider}`: the user's tokens for the provider. Users have no
/// external accounts yet, so the list is empty.
pub async fn get_o_auth_access_token(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path((user_id, provider)): Path<(String, String)>,
    Params(p): Params<OAuthTokensParams>,
) -> ApiResult<Json<Value>> {
    Paging { limit: p.limit, offset: p.offset, paginated: p.paginated }.page(500)?;
    if !provider.starts_with("oauth_") {
        return Err(Error::param_value_invalid(
            "provider",
            "provider must be an OAuth provider id, e.g. oauth_google.",
        )
        .into());
    }
    tessera_core::users::ensure_exists(&app.ctx, &instance.id, &user_id).await?;
    Ok(array_or_paginated(Vec::<Value>::new(), 0, p.paginated.unwrap_or(false)))
}

/// Query of the user's organization lists.
#[derive(Debug, Deserialize)]
pub struct OrgListParams {
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
    status: Option<String>,
}

/// `GET /v1/users/{user_id}/organization_memberships`: the user's memberships (see `organization_memberships`).
pub async fn users_get_organization_memberships(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Params(p): Params<OrgListParams>,
) -> ApiResult<Json<Value>> {
    let paging = Paging { limit: p.limit, offset: p.offset, paginated: None };
    super::organization_memberships::users_get_organization_memberships(&app, &instance.id, &origin, &user_id, paging)
        .await
}

/// `GET /v1/users/{user_id}/organization_invitations`: invitations addressed to the user's verified addresses.
pub async fn users_get_organization_invitations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(user_id): Path<String>,
    Params(p): Params<OrgListParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(500)?;
    let status = p.status.filter(|s| !s.is_empty());
    if let Some(status) = status.as_deref()
        && !["pending", "accepted", "revoked", "expired"].contains(&status)
    {
        return Err(Error::with(
            ErrorCode::QueryParamInvalid,
            "invalid query parameter",
            "status must be one of pending, accepted, revoked, expired.",
            Some("status"),
        )
        .into());
    }
    let (rows, total) = tessera_core::organization_invitations::list_for_user(
        &app.ctx,
        &instance.id,
        &user_id,
        status,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(data_list(rows.iter().map(|i| organization_invitation(i, &origin, true)).collect(), total))
}
