//! The SAML service provider of enterprise connections (`/v1/saml/…`): the SP metadata an IdP is configured
//! with, and the Assertion Consumer Service the IdP's page posts the `SAMLResponse` to (HTTP-POST binding). The
//! protocol checks and the sign-in are in `tessera_core::enterprise_sso`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_core::{Error, enterprise_connections, enterprise_sso};

use crate::extract::{Fapi, Form};

/// `GET /v1/saml/metadata/{saml_connection_id}.xml` (samlMetadata): the SP metadata document.
pub async fn saml_metadata(State(app): State<AppState>, fapi: Fapi, Path(file): Path<String>) -> ApiResult<Response> {
    let id = file.strip_suffix(".xml").ok_or_else(enterprise_connections::not_found)?;
    let xml = enterprise_sso::sp_metadata(&app.ctx, &fapi.instance, id).await?;
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    Ok(response)
}

/// The ACS form: the IdP's response (and the `RelayState` Tessera sent, which identifies nothing by itself: the
/// response is matched to its request by the signed `InResponseTo`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
}

/// `POST /v1/saml/acs/{saml_connection_id}` (acs): verifies the response, completes the sign-in and sends the
/// browser back to clerk-js (303).
pub async fn acs(
    State(app): State<AppState>,
    fapi: Fapi,
    Path(id): Path<String>,
    Form(form): Form<AcsForm>,
) -> ApiResult<Response> {
    let saml_response =
        form.saml_response.filter(|s| !s.is_empty()).ok_or_else(|| Error::param_missing("SAMLResponse"))?;
    let seen = format!("{}/v1/saml/acs/{id}", fapi.base_url.trim_end_matches('/'));
    let target = enterprise_sso::acs(&app.ctx, &fapi.instance, &id, &saml_response, &seen).await?;
    let location = HeaderValue::from_str(&target).map_err(Error::internal)?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
