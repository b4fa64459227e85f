//! The signed-in user's second factors: creating, confirming and deleting a TOTP secret, and generating backup
//! codes. The rules are core's ([`tessera_core::users::mfa`]); what they set up is what a sign-in's second factor
//! checks.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::users::mfa;

use crate::extract::{Form, SignedIn};
use crate::objects::mfa::{BackupCodesObject, TotpObject};
use crate::respond;
use crate::routes::me_identifiers::DeletedObject;

/// `POST /v1/me/totp`: a new secret, pending until a code confirms it (shown once: only its digest-free sealed form
/// is stored).
pub async fn post_totp(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let totp = mfa::create_totp(&app.ctx, &signed.browser.fapi.instance, signed.user_id()).await?;
    respond::wrapped(&app, &signed.browser, TotpObject::new(&totp)).await
}

/// The form of `POST /v1/me/totp/attempt_verification`.
#[derive(Debug, Default, Deserialize)]
pub struct VerifyTotpForm {
    code: Option<String>,
}

/// `POST /v1/me/totp/attempt_verification`: confirms the pending secret; the answer carries the backup codes the
/// confirmation generated, if it did.
pub async fn verify_totp(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<VerifyTotpForm>,
) -> ApiResult<Response> {
    let totp = mfa::verify_totp(&app.ctx, signed.instance_id(), signed.user_id(), f.code).await?;
    respond::wrapped(&app, &signed.browser, TotpObject::new(&totp)).await
}

/// `DELETE /v1/me/totp`.
pub async fn delete_totp(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    mfa::delete_totp(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::without_id("totp")).await
}

/// `POST /v1/me/backup_codes` (clerk-js calls it with a trailing slash): a new set of codes, replacing the old
/// ones.
pub async fn create_backup_codes(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let codes = mfa::create_backup_codes(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    respond::wrapped(&app, &signed.browser, BackupCodesObject::new(&codes)).await
}
