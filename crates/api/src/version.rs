//! The Backend API version of a request, negotiated in one place.
//!
//! A request names its version with the `Clerk-API-Version` header or the `__clerk_api_version` query parameter
//! (Clerk's versioning overview). Naming it both ways, or naming a version Clerk does not have, is an invalid
//! request: 400 in the Clerk envelope, whatever the operation. A request that names none gets the server's default
//! (2025-11-10 unless `--default-api-version` says otherwise). [`negotiate`] decides once per request, before
//! routing; handlers whose behaviour differs by version take [`ApiVersion`] as an extractor. Operations a later
//! version added are served under every version: Clerk versions breaking changes only.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Uri};
use tessera_core::{Error, ErrorCode};

use crate::AppState;
use crate::error::ApiError;

/// The header naming the version.
pub const HEADER: &str = "Clerk-API-Version";
/// [`HEADER`] as the name a lookup takes: looked up by `&str`, the mixed-case name was lower-cased into a buffer and
/// validated again on every Backend API request.
pub static HEADER_NAME: HeaderName = HeaderName::from_static("clerk-api-version");
/// The query parameter naming the version.
pub const QUERY_PARAM: &str = "__clerk_api_version";

/// The Backend API versions Tessera serves, oldest first. Each has its own spec (`spec/clerk-bapi-<date>.yml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiVersion {
    /// `2025-11-10`: the default. Python's `clerk-backend-api` 7.0 sends it, and `@clerk/backend` 2.x.
    V2025_11_10,
    /// `2026-05-12`: ten directory operations more; `PATCH /users/{id}` and `PATCH /organizations/{id}` refuse
    /// metadata (it moved to `…/metadata`). `@clerk/backend` 3.x, clerk-rs 0.5 and clerk-sdk-go v3 send it.
    V2026_05_12,
}

/// Versions Clerk released before 2025-11-10. Their differences from 2025-11-10 concern Billing and the
/// Frontend API's sign-in, neither of which the Backend API here answers differently, so requests naming them are
/// served as 2025-11-10 (older SDKs, e.g. `clerk-backend-api` 5.x with 2025-04-10, keep working).
const OLDER_VERSIONS: &[&str] = &["2021-02-05", "2024-10-01", "2025-04-10"];

impl ApiVersion {
    /// Every version, oldest first.
    pub const ALL: &'static [ApiVersion] = &[ApiVersion::V2025_11_10, ApiVersion::V2026_05_12];

    /// The version's date, as the header writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2025_11_10 => "2025-11-10",
            Self::V2026_05_12 => "2026-05-12",
        }
    }

    /// The version a date names: one of Clerk's versions (older ones are served as 2025-11-10); `None` for any
    /// other value.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "2025-11-10" => Some(Self::V2025_11_10),
            "2026-05-12" => Some(Self::V2026_05_12),
            v if OLDER_VERSIONS.contains(&v) => Some(Self::V2025_11_10),
            _ => None,
        }
    }

    /// `PATCH /users/{id}` and `PATCH /organizations/{id}` refuse metadata fields: from 2026-05-12 metadata is
    /// changed only through `…/metadata` (PATCH merges, PUT replaces).
    pub fn refuses_metadata_in_update(self) -> bool {
        self >= Self::V2026_05_12
    }

    /// The version a request names, if any: `Err` when it names one both ways or names one Clerk does not have.
    pub fn requested(headers: &HeaderMap, uri: &Uri) -> Result<Option<Self>, Error> {
        let header = headers.get_all(&HEADER_NAME).iter().map(|v| v.to_str().unwrap_or("\u{0}")).collect::<Vec<_>>();
        let query: Vec<String> = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .filter(|(k, _)| k == QUERY_PARAM)
            .map(|(_, v)| v.into_owned())
            .collect();
        let (value, param) = match (header.as_slice(), query.as_slice()) {
            ([], []) => return Ok(None),
            ([h], []) => (*h, HEADER),
            ([], [q]) => (q.as_str(), QUERY_PARAM),
            ([_, ..], [_, ..]) => {
                return Err(invalid(
                    HEADER,
                    format!(
                        "Name the API version either with the {HEADER} header or with the {QUERY_PARAM} query \
                             parameter, not both."
                    ),
                ));
            }
            (_, []) => return Err(invalid(HEADER, format!("Send the {HEADER} header once."))),
            (_, _) => return Err(invalid(QUERY_PARAM, format!("Send the {QUERY_PARAM} query parameter once."))),
        };
        Self::parse(value).map(Some).ok_or_else(|| {
            invalid(
                param,
                format!(
                    "{param} names no API version of Clerk's. Supported versions: 2025-11-10 and 2026-05-12 \
                     (and the older {}, served as 2025-11-10).",
                    OLDER_VERSIONS.join(", ")
                ),
            )
        })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn invalid(param: &str, long: String) -> Error {
    Error::with(ErrorCode::BadRequest, "invalid API version", long, Some(param))
}

/// The Backend API's first step (in [`crate::Backend::answer`], before routing): decides the request's version once
/// and leaves the version it names in the request's extensions for [`ApiVersion`]'s extractor; an invalid request is
/// answered here. A request that names none gets no extension (the extractor then answers the server's default):
/// most requests name none, and the extension was the only one a request such as `GET /v1/jwks` allocated.
pub fn negotiate(mut request: Request) -> Result<Request, Error> {
    if let Some(requested) = ApiVersion::requested(request.headers(), request.uri())? {
        request.extensions_mut().insert(requested);
    }
    Ok(request)
}

impl FromRequestParts<AppState> for ApiVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ApiVersion>().copied().unwrap_or(app.default_api_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requested(uri: &str, headers: &[&str]) -> Result<Option<ApiVersion>, String> {
        let mut builder = axum::http::Request::get(uri);
        for h in headers {
            builder = builder.header(HEADER, *h);
        }
        let (parts, ()) = builder.body(()).unwrap().into_parts();
        ApiVersion::requested(&parts.headers, &parts.uri).map_err(|e| e.items()[0].long_message.clone())
    }

    #[test]
    fn header_or_query_but_not_both_and_only_clerk_versions() {
        assert_eq!(requested("/v1/users", &[]), Ok(None));
        assert_eq!(requested("/v1/users", &["2026-05-12"]), Ok(Some(ApiVersion::V2026_05_12)));
        assert_eq!(requested("/v1/users?__clerk_api_version=2025-11-10", &[]), Ok(Some(ApiVersion::V2025_11_10)));
        assert_eq!(requested("/v1/users", &["2025-04-10"]), Ok(Some(ApiVersion::V2025_11_10)));
        assert!(requested("/v1/users?__clerk_api_version=2026-05-12", &["2026-05-12"]).unwrap_err().contains("both"));
        for bad in ["2026-05-13", "latest", "", "2026-5-12"] {
            assert!(requested("/v1/users", &[bad]).is_err(), "{bad}");
        }
        assert!(requested("/v1/users?__clerk_api_version=2030-01-01", &[]).is_err());
        assert!(requested("/v1/users", &["2025-11-10", "2026-05-12"]).is_err());
    }

    #[test]
    fn only_2026_05_12_refuses_metadata_in_update() {
        assert!(!ApiVersion::V2025_11_10.refuses_metadata_in_update());
        assert!(ApiVersion::V2026_05_12.refuses_metadata_in_update());
    }
}
