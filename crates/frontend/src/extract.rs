//! Extractors of the Frontend API: the request's instance and API version ([`Fapi`]), form-encoded bodies
//! ([`Form`]), and the browser's client ([`Browser`]).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tessera_api::AppState;
use tessera_api::error::ApiError;
use tessera_core::browser_clients::{self, BrowserClient, DEV_BROWSER_PREFIX};
use tessera_core::instances::{Environment, Instance};
use tessera_core::{Error, ErrorCode};

use crate::host::FrontendRequest;

/// Largest form body accepted.
const MAX_FORM_BODY: usize = 256 * 1024;

/// The Frontend API versions Tessera serves; the spec of each validates its answers in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `2025-11-10` (clerk-js 5).
    V2025_11_10,
    /// `2026-05-12` (clerk-js 6).
    V2026_05_12,
}

impl ApiVersion {
    /// The version a request asks for with `__clerk_api_version` (or `Clerk-API-Version`); clerk-js always sends
    /// one. A date selects the newest version released on or before it (clerk-js 6.40 sends `2026-08-20`);
    /// older clerk-js releases send older dates, and the objects they read are those of 2025-11-10. Absent: the
    /// newest. Not a date: 400.
    pub fn parse(value: Option<&str>) -> Result<Self, Error> {
        let is_date = |v: &str| {
            v.len() == 10
                && v.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
        };
        match value {
            None => Ok(Self::V2026_05_12),
            Some(v) if is_date(v) && v >= "2026-05-12" => Ok(Self::V2026_05_12),
            Some(v) if is_date(v) => Ok(Self::V2025_11_10),
            Some(_) => Err(Error::with(
                ErrorCode::QueryParamInvalid,
                "invalid API version",
                "__clerk_api_version must be a date (YYYY-MM-DD), e.g. 2025-11-10 or 2026-05-12.",
                Some("__clerk_api_version"),
            )),
        }
    }
}

/// The query parameters clerk-js adds to every request (others are ignored).
#[derive(Debug, Clone, Default)]
pub struct FapiQuery {
    /// `__clerk_db_jwt`: the dev-browser token.
    pub dev_browser: Option<String>,
    /// `_clerk_session_id`: the session a `/me…` or `/organizations…` request acts for.
    pub session_id: Option<String>,
    /// `_is_native`: a native app sends its client token as `Authorization`.
    pub is_native: bool,
    /// `__clerk_testing_token`.
    pub testing_token: Option<String>,
    /// `__clerk_api_version` (the last one given), which [`Fapi::version`] is decided from.
    pub api_version: Option<String>,
}

impl FapiQuery {
    fn parse(query: Option<&str>) -> Self {
        let mut q = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let v = v.into_owned();
            match &*k {
                "__clerk_db_jwt" | "__dev_session" if !v.is_empty() => q.dev_browser = Some(v),
                "_clerk_session_id" if !v.is_empty() => q.session_id = Some(v),
                "_is_native" => q.is_native = v == "1" || v == "true",
                "__clerk_testing_token" if !v.is_empty() => q.testing_token = Some(v),
                tessera_api::version::QUERY_PARAM => q.api_version = Some(v),
                _ => {}
            }
        }
        q
    }
}

/// A Frontend API request: its instance, the base URL the browser uses, the API version and clerk-js's query.
#[derive(Debug, Clone)]
pub struct Fapi {
    /// The instance.
    pub instance: Instance,
    /// The Frontend API base URL as the browser sees it.
    pub base_url: String,
    /// The requested API version.
    pub version: ApiVersion,
    /// clerk-js's query parameters.
    pub query: FapiQuery,
    /// The `Origin` header, if any (the token's `azp`).
    pub origin: Option<String>,
    /// The `Cookie` header's cookies, by name.
    pub cookies: Vec<(String, String)>,
    /// `Authorization: Bearer …` (native clients).
    pub bearer: Option<String>,
}

impl Fapi {
    /// A cookie's value.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the instance is a development instance.
    pub fn development(&self) -> bool {
        self.instance.environment == Environment::Development
    }
}

fn parse_cookies(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('=').map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

impl FromRequestParts<AppState> for Fapi {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let frontend = parts.extensions.get::<FrontendRequest>().cloned().ok_or_else(|| {
            ApiError(Error::with(
                ErrorCode::ResourceNotFound,
                "not found",
                "This path needs an instance's frontend host.",
                None,
            ))
        })?;
        // The query once: clerk-js's parameters and the version it asks for.
        let query = FapiQuery::parse(parts.uri.query());
        let header_version = parts.headers.get(&tessera_api::version::HEADER_NAME).and_then(|v| v.to_str().ok());
        let version = ApiVersion::parse(query.api_version.as_deref().or(header_version))?;
        let origin = parts.headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Self {
            instance: frontend.instance,
            base_url: frontend.base_url,
            version,
            query,
            origin: origin.filter(|o| o != "null"),
            cookies: parse_cookies(parts),
            bearer: tessera_api::extract::bearer_token(parts).map(str::to_owned),
        })
    }
}

/// A request body, form-encoded as clerk-js sends it (JSON is accepted too). Unknown keys are ignored: clerk-js
/// adds parameters (`locale`, captcha and Protect fields) that only some operations use.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BODY)
            .await
            .map_err(|_| Error::new(ErrorCode::RequestBodyTooLarge))?;
        if json {
            return tessera_api::extract::parse_json_body(&bytes).map(Form);
        }
        parse_form(&bytes).map(Form)
    }
}

/// Parses a form-encoded body, naming the parameter a complaint concerns.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.contains(&0) || bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")) {
        return Err(ApiError(Error::param_format_invalid("body", "Parameters must not contain NUL characters.")));
    }
    let de = serde_html_form::Deserializer::new(form_urlencoded_parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError(tessera_api::extract::data_error(&path, &e.into_inner().to_string()))
    })
}

fn form_urlencoded_parse(bytes: &[u8]) -> url::form_urlencoded::Parse<'_> {
    url::form_urlencoded::parse(bytes)
}

/// The browser's client, if it has one: reached by the dev-browser token (`__clerk_db_jwt`), the `__client` cookie,
/// or, for native apps (`_is_native=1`), `Authorization: Bearer`. A dev-browser token that reaches no client is
/// answered 401 `dev_browser_unauthenticated`, on which clerk-js makes a new dev browser.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The request.
    pub fapi: Fapi,
    /// The client, if the browser has one.
    pub client: Option<BrowserClient>,
    /// The token that reached it (`dvb_…` / `clt_…`).
    pub token: Option<String>,
}

/// The name of the cookie holding a production browser's client token.
pub const CLIENT_COOKIE: &str = "__client";

impl FromRequestParts<AppState> for Browser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let fapi = Fapi::from_request_parts(parts, state).await?;
        let ctx = &state.ctx;
        if let Some(token) = fapi.query.dev_browser.clone() {
            let client = if token.starts_with(DEV_BROWSER_PREFIX) && fapi.development() {
                browser_clients::by_token(ctx, &fapi.instance.id, &token).await?
            } else {
                None
            };
            let Some(client) = client else {
                return Err(ApiError(Error::new(ErrorCode::DevBrowserUnauthenticated)));
            };
            return Ok(Self { fapi, client: Some(client), token: Some(token) });
        }
        let token =
            if fapi.query.is_native { fapi.bearer.clone() } else { fapi.cookie(CLIENT_COOKIE).map(str::to_owned) };
        let client = match &token {
            Some(t) => browser_clients::by_token(ctx, &fapi.instance.id, t).await?,
            None => None,
        };
        let token = client.as_ref().and(token);
        Ok(Self { fapi, client, token })
    }
}

/// A request acting for a signed-in session of the browser: `_clerk_session_id` (clerk-js adds it to every request
/// outside `/client`), or, without one, the client's last active session. It must be an active session on this
/// browser's client; anything else is answered 401 `signed_out`, on which clerk-js signs the browser out — never
/// for a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The browser.
    pub browser: Browser,
    /// The session the request acts for.
    pub session: tessera_core::sessions::Session,
}

impl SignedIn {
    /// The signed-in user's id.
    pub fn user_id(&self) -> &str {
        &self.session.user_id
    }

    /// The instance id.
    pub fn instance_id(&self) -> &str {
        &self.browser.fapi.instance.id
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let browser = Browser::from_request_parts(parts, state).await?;
        let signed_out = || ApiError(Error::new(ErrorCode::SignedOut));
        let client = browser.client.as_ref().ok_or_else(signed_out)?;
        let wanted = browser.fapi.query.session_id.clone().or_else(|| client.last_active_session_id.clone());
        let session =
            wanted.and_then(|id| client.live_sessions().find(|s| s.id == id).cloned()).ok_or_else(signed_out)?;
        Ok(Self { browser, session })
    }
}

/// The client of a browser that navigates to the Frontend API (handshake, ticket links): unlike API calls, such a
/// browser may come without a token. A development browser (no `__client` cookie) is reached by its dev browser
/// and, lacking a known one, gets a new one; a production browser by its `__client` cookie, or `None`.
/// Returns whether it is a development browser, and the token and client.
pub async fn navigating_client(
    ctx: &tessera_core::Ctx,
    fapi: &Fapi,
) -> Result<(bool, Option<(String, BrowserClient)>), Error> {
    let instance_id = &fapi.instance.id;
    if fapi.development() && fapi.cookie(CLIENT_COOKIE).is_none() {
        let known = match fapi.query.dev_browser.as_deref() {
            Some(t) if t.starts_with(DEV_BROWSER_PREFIX) => {
                browser_clients::by_token(ctx, instance_id, t).await?.map(|c| (t.to_owned(), c))
            }
            _ => None,
        };
        let found = match known {
            Some(found) => found,
            None => browser_clients::create(ctx, instance_id, DEV_BROWSER_PREFIX).await?,
        };
        return Ok((true, Some(found)));
    }
    let client = match fapi.cookie(CLIENT_COOKIE) {
        Some(t) => browser_clients::by_token(ctx, instance_id, t).await?.map(|c| (t.to_owned(), c)),
        None => None,
    };
    Ok((false, client))
}

#[cfg(test)]
mod tests {
    use super::ApiVersion;

    #[test]
    fn a_date_selects_the_newest_version_on_or_before_it() {
        let v = |s| ApiVersion::parse(Some(s)).ok();
        assert_eq!(v("2026-08-20"), Some(ApiVersion::V2026_05_12), "clerk-js 6.40");
        assert_eq!(v("2026-05-12"), Some(ApiVersion::V2026_05_12));
        assert_eq!(v("2026-05-11"), Some(ApiVersion::V2025_11_10));
        assert_eq!(v("2025-11-10"), Some(ApiVersion::V2025_11_10));
        assert_eq!(v("2025-04-10"), Some(ApiVersion::V2025_11_10), "clerk-js 5");
        assert_eq!(ApiVersion::parse(None).ok(), Some(ApiVersion::V2026_05_12));
        for bad in ["latest", "2026-5-12", "2026-05-12x", "20260512", "2026/05/12", ""] {
            assert!(ApiVersion::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
