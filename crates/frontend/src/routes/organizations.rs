//! Organizations of the signed-in user (`/v1/organizations…`): create one (the user becomes its first member with
//! the instance's creator role) and read one the user is a member of.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::organizations::{self, NewOrganization, memberships};
use tessera_core::{Error, ErrorCode};

use crate::extract::{Form, SignedIn};
use crate::objects::organization::OrganizationObject;
use crate::respond;

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
    let name = f.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| Error::param_missing("name"))?;
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
        slug: f.slug.filter(|s| !s.trim().is_empty()),
        created_by: Some(signed.user_id().to_owned()),
        ..NewOrganization::default()
    };
    let org = organizations::create_organization(ctx, signed.instance_id(), input).await?;
    respond::wrapped(&app, &signed.browser, OrganizationObject::new(&org, &signed.browser.fapi.base_url)).await
}

/// `GET /v1/organizations/{organization_id}`: an organization the signed-in user is a member of (any other is
/// answered 404, as an unknown one).
pub async fn get_organization(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = &app.ctx;
    let ms = memberships::of_user(ctx, signed.instance_id(), signed.user_id()).await?;
    let Some(m) = ms.iter().find(|m| m.organization.id == id) else {
        return Err(organizations::not_found().into());
    };
    respond::wrapped(&app, &signed.browser, OrganizationObject::new(&m.organization, &signed.browser.fapi.base_url))
        .await
}
