//! The signed-in user (`/v1/me…`): the user, their profile and unsafe metadata, and their organization
//! memberships, invitations and suggestions. Every operation acts for the session `_clerk_session_id` names, which
//! must be live on the browser's client ([`SignedIn`]).

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::extract::Params;
use tessera_core::domain_enrollment;
use tessera_core::organizations::memberships::{self, MembershipPage};
use tessera_core::store::user_list::{MembershipFilter, UserOrder};
use tessera_core::users::update::{MetadataChange, UserUpdate};
use tessera_core::{Ctx, Error};

use super::organizations::Paging;
use crate::extract::{ApiVersion, Form, SignedIn};
use crate::objects::organization::{
    MembershipObject, OrganizationInvitationObject, OrganizationSuggestionObject, Page,
};
use crate::objects::user::UserObject;
use crate::respond;

/// The signed-in user with their memberships, as the answer of the `/v1/me` operations.
async fn me(ctx: &Ctx, signed: &SignedIn) -> Result<(tessera_core::users::User, Vec<memberships::Membership>), Error> {
    let user = tessera_core::users::get_user(ctx, signed.instance_id(), signed.user_id()).await?;
    let ms = memberships::of_user(ctx, signed.instance_id(), signed.user_id()).await?;
    Ok((user, ms))
}

async fn answer_user(app: &AppState, signed: &SignedIn) -> ApiResult<Response> {
    let (user, ms) = me(&app.ctx, signed).await?;
    let base = &signed.browser.fapi.base_url;
    respond::wrapped(app, &signed.browser, UserObject::new(&user, &ms, base)).await
}

/// `GET /v1/me`.
pub async fn get_user(State(app): State<AppState>, signed: SignedIn) -> ApiResult<Response> {
    answer_user(&app, &signed).await
}

/// The form of `PATCH /v1/me`. clerk-js sends `null` as an empty string: an empty name or username clears it.
#[derive(Debug, Default, Deserialize)]
pub struct PatchUserForm {
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    primary_email_address_id: Option<String>,
    primary_phone_number_id: Option<String>,
    /// Accepted up to API version 2025-11-10 (replaces); later versions use `PATCH /v1/me/metadata`.
    unsafe_metadata: Option<String>,
}

fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| Some(s).filter(|s| !s.trim().is_empty()))
}

fn metadata_object(v: &str) -> Result<Option<Map<String, Value>>, Error> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(v) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        _ => Err(Error::param_format_invalid("unsafe_metadata", "unsafe_metadata must be a JSON object.")),
    }
}

/// `PATCH /v1/me`: names, username, primary identifiers (and, for clerk-js 5, unsafe metadata).
pub async fn patch_user(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<PatchUserForm>,
) -> ApiResult<Response> {
    let mut update = UserUpdate {
        username: clearable(f.username),
        first_name: clearable(f.first_name),
        last_name: clearable(f.last_name),
        primary_email_address_id: f.primary_email_address_id.filter(|s| !s.is_empty()),
        primary_phone_number_id: f.primary_phone_number_id.filter(|s| !s.is_empty()),
        ..UserUpdate::default()
    };
    if let Some(m) = f.unsafe_metadata {
        if signed.browser.fapi.version == ApiVersion::V2026_05_12 {
            return Err(Error::param_unknown("unsafe_metadata").into());
        }
        update.unsafe_metadata = Some(metadata_object(&m)?.or_else(|| Some(Map::new())));
    }
    tessera_core::users::update::update_user(&app.ctx, signed.instance_id(), signed.user_id(), update).await?;
    answer_user(&app, &signed).await
}

/// The form of `PATCH /v1/me/metadata`.
#[derive(Debug, Default, Deserialize)]
pub struct PatchMetadataForm {
    unsafe_metadata: Option<String>,
}

/// `PATCH /v1/me/metadata`: deep-merges into the user's unsafe metadata (`null` deletes a key).
pub async fn patch_user_metadata(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<PatchMetadataForm>,
) -> ApiResult<Response> {
    let text = f.unsafe_metadata.ok_or_else(|| Error::param_missing("unsafe_metadata"))?;
    let patch = metadata_object(&text)?.ok_or_else(|| Error::param_missing("unsafe_metadata"))?;
    let change = MetadataChange { unsafe_metadata: Some(patch), ..MetadataChange::default() };
    tessera_core::users::update::change_metadata(&app.ctx, signed.instance_id(), signed.user_id(), change, true)
        .await?;
    answer_user(&app, &signed).await
}

/// The paging of the `/v1/me/organization_…` lists: `limit` (1–500, default 10), `offset`, `paginated`, `status`.
/// Values that are not numbers fall back to the defaults.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
    offset: Option<String>,
    paginated: Option<String>,
    status: Option<String>,
}

impl ListQuery {
    fn limit(&self) -> i64 {
        self.limit.as_deref().and_then(|l| l.trim().parse::<i64>().ok()).map_or(10, |l| l.clamp(1, 500))
    }

    fn offset(&self) -> i64 {
        self.offset.as_deref().and_then(|o| o.trim().parse::<i64>().ok()).map_or(0, |o| o.max(0))
    }

    fn paginated(&self) -> bool {
        matches!(self.paginated.as_deref(), Some("true" | "1"))
    }
}

/// `GET /v1/me/organization_memberships`: `{data, total_count}` with `paginated=true` (what clerk-js asks), else
/// the array.
pub async fn get_organization_memberships(
    State(app): State<AppState>,
    signed: SignedIn,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let filter = MembershipFilter { user_id: Some(signed.user_id().to_owned()), ..MembershipFilter::default() };
    let page = MembershipPage { order: UserOrder::CreatedAt, descending: true, limit: q.limit(), offset: q.offset() };
    let (ms, total) = memberships::list_memberships(&app.ctx, signed.instance_id(), &filter, page).await?;
    let base = &signed.browser.fapi.base_url;
    let data: Vec<MembershipObject<'_>> = ms.iter().map(|m| MembershipObject::new(m, base)).collect();
    if q.paginated() {
        respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
    } else {
        respond::wrapped(&app, &signed.browser, data).await
    }
}

/// `GET /v1/me/organization_invitations`: the invitations addressed to the user's verified email addresses
/// (`status` filters: `pending`, `accepted`, `revoked`, `expired`).
pub async fn get_users_organization_invitations(
    State(app): State<AppState>,
    signed: SignedIn,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let status = q.status.clone().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !["pending", "accepted", "revoked", "expired"].contains(&s.as_str())
    {
        return Err(
            Error::param_value_invalid("status", "status must be pending, accepted, revoked or expired.").into()
        );
    }
    let (list, total) = tessera_core::organization_invitations::list_for_user(
        &app.ctx,
        signed.instance_id(),
        signed.user_id(),
        status,
        q.limit(),
        q.offset(),
    )
    .await?;
    let base = &signed.browser.fapi.base_url;
    let data = list.iter().map(|i| OrganizationInvitationObject::new(i, base)).collect();
    respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
}

/// The query of `GET /v1/me/organization_suggestions`: paging, and `status` repeated (clerk-js's
/// `OrganizationSwitcher` asks for `status=pending&status=accepted`).
#[derive(Debug, Default, Deserialize)]
pub struct SuggestionsQuery {
    limit: Option<String>,
    offset: Option<String>,
    #[serde(default)]
    status: Vec<String>,
}

/// `GET /v1/me/organization_suggestions`: the organizations the user's verified domains suggest, newest first
/// (`status`: `pending`, `accepted`); organizations the user has joined since are left out.
pub async fn get_organization_suggestions(
    State(app): State<AppState>,
    signed: SignedIn,
    Params(q): Params<SuggestionsQuery>,
) -> ApiResult<Response> {
    let statuses = domain_enrollment::statuses(&q.status, domain_enrollment::SUGGESTION_STATUSES)?;
    let paging = Paging { limit: q.limit, offset: q.offset };
    let (list, total) = domain_enrollment::list_suggestions(
        &app.ctx,
        signed.instance_id(),
        signed.user_id(),
        &statuses,
        paging.limit(),
        paging.offset(),
    )
    .await?;
    let base = &signed.browser.fapi.base_url;
    let data: Vec<_> = list.iter().filter_map(|s| OrganizationSuggestionObject::new(s, base)).collect();
    respond::wrapped(&app, &signed.browser, Page { data, total_count: total }).await
}
