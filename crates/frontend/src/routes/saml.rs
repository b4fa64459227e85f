//! The SAML service provider of enterprise connections (`/v1/saml/…`): the SP metadata an IdP is configured
//! with, and the Assertion Consumer Service the IdP's page posts the `SAMLResponse` to (HTTP-POST binding). The
//! protocol checks and the sign-in are in `tessera_core::enterprise_sso`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::enterprise_sso::{AcsOutcome, binding::Arrival};
use tessera_core::{Error, enterprise_connections, enterprise_sso};

use crate::extract::{CLIENT_COOKIE, Fapi, Form};
use tessera_api::extract::Path;

/// `GET /v1/saml/metadata/{saml_connection_id}.xml` (samlMetadata): the SP metadata document.
pub async fn saml_metadata(State(app): State<AppState>, fapi: Fapi, Path(file): Path<String>) -> ApiResult<Response> {
    let id = file.strip_suffix(".xml").ok_or_else(enterprise_connections::not_found)?;
    let xml = enterprise_sso::sp_metadata(&app.ctx, &fapi.instance, id).await?;
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    Ok(response)
}

/// The field Tessera's re-post page adds (see [`acs`]).
const REPOSTED: &str = "tessera_reposted";

/// The ACS form: the IdP's response (and the `RelayState` Tessera sent, which identifies nothing by itself: the
/// response is matched to its request by the signed `InResponseTo`), and the re-post's marker.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
    tessera_reposted: Option<String>,
}

/// `POST /v1/saml/acs/{saml_connection_id}` (acs): verifies the response, completes the sign-in in the browser's
/// client and sends the browser back to clerk-js (303); an IdP-initiated response where the connection allows it
/// sends the browser to a one-time ticket link instead (303). The IdP's page posts cross-site, so a production browser's
/// `SameSite=Lax` `__client` cookie does not come with it: that first POST is answered with a page that posts the
/// same fields again, from the frontend host (same-site: the cookie comes), marked as the re-post (200, HTML).
pub async fn acs(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    Form(form): Form<AcsForm>,
) -> ApiResult<Response> {
    let saml_response =
        form.saml_response.filter(|s| !s.is_empty()).ok_or_else(|| Error::param_missing("SAMLResponse"))?;
    let arrival = Arrival { client_token: fapi.cookie(CLIENT_COOKIE), reposted: form.tessera_reposted.is_some() };
    match enterprise_sso::acs(&app.ctx, &fapi.instance, &id, &saml_response, &fapi.base_url, arrival).await? {
        AcsOutcome::Redirect(target) => {
            let location = HeaderValue::from_str(&target).map_err(Error::internal)?;
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        AcsOutcome::Repost => {
            let mut fields = vec![("SAMLResponse", saml_response)];
            fields.extend(form.relay_state.map(|r| ("RelayState", r)));
            fields.push((REPOSTED, "1".to_owned()));
            let action = format!("{}/v1/saml/acs/{id}", fapi.base_url.trim_end_matches('/'));
            Ok(crate::oauth_pages::form_post(&action, &fields))
        }
    }
}
