//! Organizations of the signed-in user (`/v1/organizations…`): create one (the user becomes its first member with
//! the instance's creator role), read, update and delete one, its logo, and the roles its members may hold. What a
//! member may do is decided by their role's permissions ([`access`]): an organization the user is not a member of
//! answers 404 `organization_not_found_or_unauthorized`, a missing permission 403 `missing_organization_permission`.

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::organizations::{self, NewOrganization, OrganizationUpdate, access, roles};
use tessera_core::{Error, ErrorCode};

use crate::extract::{Form, SignedIn};
use crate::objects::organization::{DeletedObject, OrganizationObject, RoleObject, RolePage};
use crate::respond;
use tessera_api::extract::Path;

/// The paging of the organization lists: `limit` (1–500, default 10) and `offset`. Values that are not numbers
/// fall back to the defaults, as clerk-js never sends such values and a lenient answer is more useful than a 422.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    pub(crate) limit: Option<String>,
    pub(crate) offset: Option<String>,
}

impl Paging {
    /// The page size.
    pub fn limit(&self) -> i64 {
        self.limit.as_deref().and_then(|l| l.trim().parse::<i64>().ok()).map_or(10, |l| l.clamp(1, 500))
    }

    /// The rows skipped.
    pub fn offset(&self) -> i64 {
        self.offset.as_deref().and_then(|o| o.trim().parse::<i64>().ok()).map_or(0, |o| o.max(0))
    }
}

/// A form value clerk-js sent as an empty string (its `null`): absent.
pub fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The form of `POST /v1/organizations`.
#[derive(Debug, Default, Deserialize)]
pub struct CreateOrganizationForm {
    name: Option<String>,
    slug: Option<String>,
}

/// `POST /v1/organizations`: an organization created by the signed-in user, who becomes its admin (the creator
/// role). Refused when the instance has organizations off, when the user may not create organizations, and once
/// the user has created as many as their `create_organizations_limit` allows.
pub async fn create_organization(
    State(app): State<AppState>,
    signed: SignedIn,
    Form(f): Form<CreateOrganizationForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let name = given(f.name).ok_or_else(|| Error::param_missing("name"))?;
    organizations::ensure_enabled(ctx, signed.instance_id()).await?;
    let user = tessera_core::users::get_user(ctx, signed.instance_id(), signed.user_id()).await?;
    if !user.create_organization_enabled {
        return Err(Error::new(ErrorCode::OrganizationCreationNotAllowed).into());
    }
    if let Some(limit) = user.create_organizations_limit.filter(|l| *l > 0) {
        let created =
            tessera_core::store::organizations::count_created_by(&ctx.db, signed.instance_id(), signed.user_id())
                .await
                .map_err(Error::from)?;
        if created >= limit {
            return Err(Error::new(ErrorCode::OrganizationQuotaExceeded).into());
        }
    }
    let input = NewOrganization {
        name,
        slug: given(f.slug),
        created_by: Some(signed.user_id().to_owned()),
        ..NewOrganization::default()
    };
    let org = organizations::create_organization(ctx, signed.instance_id(), input).await?;
    respond::wrapped(&app, &signed.browser, OrganizationObject::new(&org, &signed.browser.fapi.base_url)).await
}

async fn answer_organization(app: &AppState, signed: &SignedIn, id: &str) -> ApiResult<Response> {
    let org = organizations::get_organization(&app.ctx, signed.instance_id(), id).await?;
    respond::wrapped(app, &signed.browser, OrganizationObject::new(&org, &signed.browser.fapi.base_url)).await
}

/// `GET /v1/organizations/{organization_id}`: an organization the signed-in user is a member of.
pub async fn get_organization(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let access = access::member_access(&app.ctx, signed.instance_id(), &id, signed.user_id()).await?;
    answer_organization(&app, &signed, &access.organization.id).await
}

/// The form of `PATCH /v1/organizations/{organization_id}`.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateOrganizationForm {
    name: Option<String>,
    slug: Option<String>,
}

/// `PATCH /v1/organizations/{organization_id}`: name and slug (`org:sys_profile:manage`).
pub async fn update_organization(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(f): Form<UpdateOrganizationForm>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::PROFILE_MANAGE).await?;
    let update = OrganizationUpdate { name: f.name, slug: given(f.slug), ..OrganizationUpdate::default() };
    let org = organizations::update_organization(ctx, signed.instance_id(), &access.organization.id, update).await?;
    respond::wrapped(&app, &signed.browser, OrganizationObject::new(&org, &signed.browser.fapi.base_url)).await
}

/// `DELETE /v1/organizations/{organization_id}` (`org:sys_profile:delete`, and only while the organization lets
/// its admins delete it: `admin_delete_enabled`).
pub async fn delete_organization(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::PROFILE_DELETE).await?;
    if !access.organization.admin_delete_enabled {
        return Err(Error::with(
            ErrorCode::MissingOrganizationPermission,
            ErrorCode::MissingOrganizationPermission.message(),
            "This organization cannot be deleted by its members (admin_delete_enabled is off).",
            None,
        )
        .into());
    }
    let (id, slug) = organizations::delete_organization(ctx, signed.instance_id(), &access.organization.id).await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::new("organization", Some(&id), Some(&slug))).await
}

/// The logo of a `PUT …/logo`: the `file` field of a multipart form (what clerk-js sends for a `File`), or the bare
/// body (`application/octet-stream`, what it sends for a string).
async fn logo_bytes(req: Request, state: &AppState) -> Result<Vec<u8>, Error> {
    let bad = |why: &str| Error::with(ErrorCode::BadRequest, "invalid file", why, Some("file"));
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| bad("The file could not be read (at most 10MB)."))?;
        return if bytes.is_empty() { Err(bad("The file is required.")) } else { Ok(bytes.to_vec()) };
    }
    let mut form = Multipart::from_request(req, state).await.map_err(|_| bad("The multipart body is malformed."))?;
    while let Some(field) = form.next_field().await.map_err(|_| bad("The multipart body is malformed."))? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|_| bad("The file could not be read (at most 10MB)."))?;
            return Ok(bytes.to_vec());
        }
    }
    Err(bad("The `file` field is required."))
}

/// `PUT /v1/organizations/{organization_id}/logo` (`org:sys_profile:manage`): the signed-in member uploads it.
pub async fn update_organization_logo(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::PROFILE_MANAGE).await?;
    let bytes = logo_bytes(req, &app).await?;
    let org = organizations::set_logo(
        ctx,
        signed.instance_id(),
        &access.organization.id,
        Some(bytes),
        Some(signed.user_id()),
    )
    .await?;
    respond::wrapped(&app, &signed.browser, OrganizationObject::new(&org, &signed.browser.fapi.base_url)).await
}

/// `DELETE /v1/organizations/{organization_id}/logo` (`org:sys_profile:manage`): answers the deleted image (an
/// organization without a logo answers the same, without an id).
pub async fn delete_organization_logo(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access = access::require(ctx, signed.instance_id(), &id, signed.user_id(), access::PROFILE_MANAGE).await?;
    organizations::set_logo(ctx, signed.instance_id(), &access.organization.id, None, None).await?;
    let image = access.organization.image_id.as_deref();
    respond::wrapped(&app, &signed.browser, DeletedObject::new("image", image, None)).await
}

/// `GET /v1/organizations/{organization_id}/roles`: the roles a member of this organization may be given — its
/// role set's when it has one, else the instance's (`org:sys_memberships:read`).
pub async fn list_organization_roles(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Paging>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let access =
        access::require_for_list(ctx, signed.instance_id(), &id, signed.user_id(), access::MEMBERSHIPS_READ).await?;
    let mut all = roles::all_roles(ctx, signed.instance_id()).await?;
    if let Some(key) = &access.organization.role_set_key {
        let set = organizations::role_sets::get_role_set(ctx, signed.instance_id(), key).await?;
        all.retain(|r| set.role(&r.key).is_some());
    }
    all.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let window = all.iter().skip(usize::try_from(q.offset()).unwrap_or(usize::MAX));
    let data = window.take(usize::try_from(q.limit()).unwrap_or(10)).map(RoleObject::new).collect();
    respond::wrapped(&app, &signed.browser, RolePage { data, total_count: total, has_role_set_migration: false }).await
}
