//! The signed-in user's account: password (change, remove), profile image (upload, delete), deleting the account,
//! and the user's sessions (list, the active ones with their activity, revoke). The rules are the Backend API's
//! ([`tessera_core::users::credentials`], [`tessera_core::users::images`], [`tessera_core::sessions`]).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::organizations::memberships;
use tessera_core::sessions::{self, Session, SessionListQuery, status};
use tessera_core::users::objects::image_url;
use tessera_core::users::{User, credentials, images};
use tessera_core::{Error, ErrorCode};

use crate::extract::{Form, SignedIn};
use crate::objects::client::{SessionObject, SessionParts, SessionUserData};
use crate::objects::user::UserObject;
use crate::respond;
use crate::routes::me_identifiers::DeletedObject;
use tessera_api::extract::Path;

async fn answer_user(app: &AppState, signed: &SignedIn, user: &tessera_core::users::User) -> ApiResult<Response> {
    let ms = memberships::of_user(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    respond::wrapped(app, &signed.browser, UserObject::new(user, &ms, &signed.browser.fapi.base_url)).await
}

/// The form of `POST /v1/me/change_password`.
#[derive(Debug, Default, Deserialize)]
pub struct ChangePasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
    sign_out_of_other_sessions: Option<String>,
}

/// `POST /v1/me/change_password`: sets a first password, or changes it given the current one; optionally revokes
/// the user's other sessions.
pub async fn change_password(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<ChangePasswordForm>,
) -> ApiResult<Response> {
    let sign_out_others = match f.sign_out_of_other_sessions.as_deref() {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Error::param_format_invalid(
                "sign_out_of_other_sessions",
                "sign_out_of_other_sessions must be true or false.",
            )
            .into());
        }
    };
    let keep = sign_out_others.then_some(signed.session.id.as_str());
    let user = credentials::change_own_password(
        &app.ctx,
        signed.instance_id(),
        signed.user_id(),
        f.current_password,
        f.new_password,
        keep,
    )
    .await?;
    answer_user(&app, &signed, &user).await
}

/// The form of `POST /v1/me/remove_password`.
#[derive(Debug, Default, Deserialize)]
pub struct RemovePasswordForm {
    current_password: Option<String>,
}

/// `POST /v1/me/remove_password`: only where the instance does not require a password.
pub async fn remove_password(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<RemovePasswordForm>,
) -> ApiResult<Response> {
    let user =
        credentials::remove_own_password(&app.ctx, signed.instance_id(), signed.user_id(), f.current_password).await?;
    answer_user(&app, &signed, &user).await
}

/// `DELETE /v1/me`: the user deletes their account (if their `delete_self_enabled` allows it). The answer's client
/// no longer has the user's session.
pub async fn delete_user(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    tessera_core::users::delete_self(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::new("user", signed.user_id())).await
}

/// `Image`.
#[derive(Debug, Serialize)]
pub struct ImageObject<'a> {
    object: &'static str,
    id: &'a str,
    name: &'a str,
    public_url: String,
}

/// `POST /v1/me/profile_image` (multipart, field `file`: JPEG, PNG, GIF or WebP, at most 10 MB).
pub async fn update_profile_image(
    State(app): State<AppState>,
    signed: SignedIn,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let bad = |why: &str| Error::with(ErrorCode::BadRequest, "invalid file", why, Some("file"));
    let mut multipart = multipart.map_err(|_| bad("The request must be multipart/form-data with a `file` field."))?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| bad("The multipart body is malformed."))? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(|_| bad("The file could not be read (at most 10MB)."))?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let (name, bytes) = file.ok_or_else(|| bad("The `file` field is required."))?;
    let user = images::set_profile_image(&app.ctx, signed.instance_id(), signed.user_id(), Some(bytes)).await?;
    let id = user.image_id.as_deref().unwrap_or_default();
    let image = ImageObject {
        object: "image",
        id,
        name: &name,
        public_url: image_url(&signed.browser.fapi.base_url, Some(id)),
    };
    respond::wrapped(&app, &signed.browser, image).await
}

/// `DELETE /v1/me/profile_image`: a user without an image gets 404.
pub async fn delete_profile_image(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let user = tessera_core::users::get_user(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    let Some(id) = user.image_id else {
        return Err(Error::not_found("image").into());
    };
    images::set_profile_image(&app.ctx, signed.instance_id(), signed.user_id(), None).await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::new("image", &id)).await
}

/// The most sessions a user's session lists show.
const SESSION_LIST_LIMIT: i64 = 500;

async fn user_sessions(app: &AppState, signed: &SignedIn, only_active: bool) -> ApiResult<Vec<sessions::Session>> {
    let q = SessionListQuery {
        user_id: Some(signed.user_id().to_owned()),
        status: only_active.then(|| status::ACTIVE.to_owned()),
        ..SessionListQuery::default()
    };
    Ok(sessions::list_sessions(&app.ctx, signed.instance_id(), &q, SESSION_LIST_LIMIT, 0).await?.0)
}

/// One of the signed-in user's sessions, with the user's public data (the user object itself is not embedded).
fn own_session<'a>(s: &'a Session, user: &'a User, base: &str, now: i64) -> SessionObject<'a> {
    let parts =
        SessionParts { user: None, public_user_data: Some(SessionUserData::new(user, base)), last_active_token: None };
    SessionObject::new(s, parts, now)
}

/// `GET /v1/me/sessions`: the user's sessions, newest first (bare, as the spec answers it).
pub async fn get_users_sessions(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let list = user_sessions(&app, &signed, false).await?;
    let user = tessera_core::users::get_user(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    let base = &signed.browser.fapi.base_url;
    let now = app.ctx.now_ms();
    let data: Vec<SessionObject<'_>> = list.iter().map(|s| own_session(s, &user, base, now)).collect();
    Ok(Json(data).into_response())
}

/// `Client.SessionActivity`. This server records no device, browser or location of a session, so only what it
/// knows is given: which session the activity is of.
#[derive(Debug, Serialize)]
struct ActivityObject<'a> {
    object: &'static str,
    id: &'a str,
    is_mobile: bool,
}

/// `Client.ActiveSession`.
#[derive(Debug, Serialize)]
struct ActiveSessionObject<'a> {
    #[serde(flatten)]
    session: SessionObject<'a>,
    latest_activity: ActivityObject<'a>,
}

/// `GET /v1/me/sessions/active`: the user's active sessions on every device (what `<UserProfile/>` lists under
/// "Active devices").
pub async fn get_sessions(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    let list = user_sessions(&app, &signed, true).await?;
    let user = tessera_core::users::get_user(&app.ctx, signed.instance_id(), signed.user_id()).await?;
    let base = &signed.browser.fapi.base_url;
    let now = app.ctx.now_ms();
    let data: Vec<ActiveSessionObject<'_>> = list
        .iter()
        .map(|s| ActiveSessionObject {
            session: own_session(s, &user, base, now),
            latest_activity: ActivityObject { object: "session_activity", id: &s.id, is_mobile: false },
        })
        .collect();
    Ok(Json(data).into_response())
}

/// `POST /v1/me/sessions/{session_id}/revoke`: revokes one of the user's sessions (another user's is unknown).
pub async fn revoke_session(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let session = sessions::get_session(&app.ctx, signed.instance_id(), &id).await?;
    if session.user_id != signed.user_id() {
        return Err(sessions::not_found().into());
    }
    let session = sessions::revoke_session(&app.ctx, signed.instance_id(), &session.id).await?;
    let json = respond::session_json(&app.ctx, &signed.browser.fapi, &session).await?;
    respond::wrapped(&app, &signed.browser, json).await
}
