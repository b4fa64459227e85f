//! The signed-in user's own organization actions (`/v1/me/organization_…`): leaving an organization, accepting
//! an invitation addressed to them, and accepting a suggestion (which asks the organization to let them in). Both act for the session `_clerk_session_id` names ([`SignedIn`]) and answer
//! `{response, client}`.

use axum::extract::State;
use axum::response::Response;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::organizations::memberships::{self, Keep};
use tessera_core::{domain_enrollment, organization_invitations};

use crate::extract::SignedIn;
use crate::objects::organization::{DeletedObject, OrganizationInvitationObject, OrganizationSuggestionObject};
use crate::respond;
use tessera_api::extract::Path;

/// `DELETE /v1/me/organization_memberships/{organization_id}`: the user leaves the organization. A member who can
/// manage memberships must remain (400 `organization_minimum_permissions_needed` for the last one); an
/// organization the user is not a member of is 404.
pub async fn delete_organization_memberships(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(organization_id): Path<String>,
) -> ApiResult<Response> {
    let m = memberships::delete_membership(
        &app.ctx,
        signed.instance_id(),
        &organization_id,
        signed.user_id(),
        Keep::AManager,
    )
    .await?;
    respond::wrapped(&app, &signed.browser, DeletedObject::new("organization_membership", Some(&m.id), None)).await
}

/// `POST /v1/me/organization_invitations/{invitation_id}/accept`: the user joins the organization with the
/// invitation's role.
pub async fn accept_organization_invitation(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(invitation_id): Path<String>,
) -> ApiResult<Response> {
    let i = organization_invitations::accept_for_user(&app.ctx, signed.instance_id(), signed.user_id(), &invitation_id)
        .await?;
    let base = &signed.browser.fapi.base_url;
    respond::wrapped(&app, &signed.browser, OrganizationInvitationObject::new(&i, base)).await
}

/// `POST /v1/me/organization_suggestions/{suggestion_id}/accept`: the suggestion becomes `accepted` and the
/// organization gets a membership request from the user; another user's suggestion is unknown (404).
pub async fn accept_organization_suggestion(
    State(app): State<AppState>,
    signed: SignedIn,
    Path(suggestion_id): Path<String>,
) -> ApiResult<Response> {
    let s =
        domain_enrollment::accept_suggestion(&app.ctx, signed.instance_id(), signed.user_id(), &suggestion_id).await?;
    let object = OrganizationSuggestionObject::new(&s, &signed.browser.fapi.base_url)
        .ok_or_else(domain_enrollment::suggestion_not_found)?;
    respond::wrapped(&app, &signed.browser, object).await
}
