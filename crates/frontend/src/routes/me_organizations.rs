//! The signed-in user's own organization actions (`/v1/me/organization_…`): leaving an organization and accepting
//! an invitation addressed to them. Both act for the session `_clerk_session_id` names ([`SignedIn`]) and answer
//! `{response, client}`.

use axum::extract::{Path, State};
use axum::response::Response;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::organization_invitations;
use tessera_core::organizations::memberships::{self, Keep};

use crate::extract::SignedIn;
use crate::objects::organization::{DeletedObject, OrganizationInvitationObject};
use crate::respond;

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
