//! Which requests are Frontend API requests, and for which instance.
//!
//! In order: a `/fapi/{frontend host}` path prefix (what an app's `proxyUrl` points at; the prefix is stripped),
//! a `Host` header that is an instance's frontend host, and the headers of Clerk's official proxy helpers
//! (`Clerk-Proxy-Url` with the instance's `Clerk-Secret-Key`). `/npm/@clerk/…` (clerk-js and its UI) is served
//! on every host. Everything else belongs to the Backend API.

use axum::extract::Request;
use axum::http::header::{ACCESS_CONTROL_REQUEST_HEADERS, AsHeaderName, HOST, ORIGIN};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use tessera_api::AppState;
use tessera_api::error::ApiError;
use tessera_api::metrics::Face;
use tessera_core::instances::{self, Instance};

/// The path prefix of proxied frontend requests: `/fapi/{frontend host}/v1/…`.
pub const PROXY_PREFIX: &str = "/fapi/";

// Headers are looked up by name rather than by `&str`, which is parsed and validated again at each lookup.
/// Clerk's proxy helpers: the proxy's URL (every request is checked for it)…
static CLERK_PROXY_URL: HeaderName = HeaderName::from_static("clerk-proxy-url");
/// …and the instance's secret key.
static CLERK_SECRET_KEY: HeaderName = HeaderName::from_static("clerk-secret-key");
/// The browser's scheme, as a reverse proxy in front of Tessera saw it.
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// The browser's host, as a reverse proxy in front of Tessera saw it.
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The instance a frontend request is for, and the URL the browser reaches the Frontend API at.
#[derive(Debug, Clone)]
pub struct FrontendRequest {
    /// The instance.
    pub instance: Instance,
    /// The Frontend API's base URL as the browser sees it, without a trailing slash: the proxy URL, or
    /// `https://{frontend host}`. Handshake redirects and hosted pages build their URLs from it.
    pub base_url: String,
}

/// The two faces the dispatcher chooses between.
pub struct Faces {
    /// Shared state.
    pub state: AppState,
    /// The Frontend API's routes, with their state.
    pub frontend: tessera_api::route_table::RouteTable<AppState>,
    /// The Backend API.
    pub backend: tessera_api::Backend,
}

impl Faces {
    /// Sends Frontend API requests to the frontend routes (with a [`FrontendRequest`] extension), the rest to the
    /// Backend API, each through its face's [`tessera_api::edge`].
    pub async fn dispatch(&self, mut request: Request) -> Response {
        let path = request.uri().path();
        if path.starts_with("/npm/@clerk/") {
            return self.serve_frontend(request).await;
        }
        match resolve(&self.state, &mut request).await {
            Ok(Some(frontend)) => frontend_request(self, frontend, request).await,
            Ok(None) => tessera_api::edge(Face::Backend, request, |r| self.backend.answer(r)).await,
            Err(e) => e.into_response(),
        }
    }

    /// A request for the frontend routes, through the frontend face's edge.
    async fn serve_frontend(&self, request: Request) -> Response {
        tessera_api::edge(Face::Frontend, request, |r| self.frontend.answer(r)).await
    }
}

/// Headers clerk-js reads from cross-origin answers.
const EXPOSED_HEADERS: &str = "Clerk-Db-Jwt, x-country, retry-after";

/// A Frontend API request: CORS for the browser's origin (with credentials), the origin policy for mutations,
/// and clerk-js's method override (`POST ?_method=PATCH|PUT|DELETE`).
async fn frontend_request(faces: &Faces, frontend: FrontendRequest, mut request: Request) -> Response {
    if is_public_oauth_endpoint(request.uri().path()) {
        return public_oauth_request(faces, frontend, request).await;
    }
    if request.uri().path().starts_with(SAML_ACS_PREFIX) {
        // The IdP's page posts the response from its own origin (a top-level form navigation, no CORS): the
        // origin policy does not apply; the response's signature and `InResponseTo` authenticate it, and the
        // browser's `__client` cookie binds it to the sign-in's client (`tessera_core::enterprise_sso::binding`).
        request.extensions_mut().insert(frontend);
        return faces.serve_frontend(request).await;
    }
    let origin = header(&request, ORIGIN).filter(|o| *o != "null").map(str::to_owned);
    if let Some(origin) = &origin {
        match tessera_core::origins::origin_allowed(&faces.state.ctx, &frontend.instance, origin).await {
            Ok(true) => {}
            Ok(false) if request.method() == Method::GET => {}
            Ok(false) => {
                return ApiError(tessera_core::Error::new(tessera_core::ErrorCode::OriginInvalid)).into_response();
            }
            Err(e) => return ApiError(e).into_response(),
        }
    }
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        cors(&mut response, origin.as_deref());
        let h = response.headers_mut();
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"));
        if let Some(asked) = request.headers().get(ACCESS_CONTROL_REQUEST_HEADERS).cloned() {
            h.insert("access-control-allow-headers", asked);
        }
        h.insert("access-control-max-age", HeaderValue::from_static("600"));
        return response;
    }
    if request.method() == Method::POST
        && let Some(method) = method_override(request.uri().query())
    {
        *request.method_mut() = method;
    }
    request.extensions_mut().insert(frontend);
    let mut response = faces.serve_frontend(request).await;
    cors(&mut response, origin.as_deref());
    response
}

/// The OAuth provider's documents and back-channel endpoints, which browser-based OAuth clients (single-page
/// apps, MCP clients such as the MCP Inspector) call from any origin. They read no cookie: a client proves
/// itself with its credentials, a code and its PKCE verifier, or a bearer token. The authorization endpoint and
/// the consent screen are navigations on the frontend host, and keep the origin policy.
const PUBLIC_OAUTH_ENDPOINTS: &[&str] = &[
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/.well-known/jwks.json",
    "/oauth/token",
    "/oauth/userinfo",
    "/oauth/token_info",
    "/oauth/token/revoke",
    "/oauth/register",
];

/// The SAML Assertion Consumer Service's paths.
const SAML_ACS_PREFIX: &str = "/v1/saml/acs/";

fn is_public_oauth_endpoint(path: &str) -> bool {
    PUBLIC_OAUTH_ENDPOINTS.contains(&path)
}

/// A request to a [`PUBLIC_OAUTH_ENDPOINTS`] endpoint: CORS for every origin without credentials
/// (`Access-Control-Allow-Origin: *`), preflights answered here, and no origin policy (it guards cookie-bearing
/// requests, and these carry none that count).
async fn public_oauth_request(faces: &Faces, frontend: FrontendRequest, mut request: Request) -> Response {
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("Authorization, Content-Type, Accept, MCP-Protocol-Version"),
        );
        h.insert("access-control-max-age", HeaderValue::from_static("86400"));
        return response;
    }
    request.extensions_mut().insert(frontend);
    let mut response = faces.serve_frontend(request).await;
    let h = response.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert("access-control-expose-headers", HeaderValue::from_static("WWW-Authenticate"));
    response
}

fn cors(response: &mut Response, origin: Option<&str>) {
    let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else { return };
    let h = response.headers_mut();
    h.insert("access-control-allow-origin", value);
    h.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
    h.insert("access-control-expose-headers", HeaderValue::from_static(EXPOSED_HEADERS));
    h.append(axum::http::header::VARY, HeaderValue::from_static("Origin"));
}

/// `_method=PATCH|PUT|DELETE` in the query of a POST.
fn method_override(query: Option<&str>) -> Option<Method> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == "_method").and_then(|(_, v)| {
        match v.to_ascii_uppercase().as_str() {
            "PATCH" => Some(Method::PATCH),
            "PUT" => Some(Method::PUT),
            "DELETE" => Some(Method::DELETE),
            _ => None,
        }
    })
}

fn header(request: &Request, name: impl AsHeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// `scheme://host` of the request as the client sent it (honouring `X-Forwarded-Proto`/`-Host` of a proxy).
fn request_origin(request: &Request) -> String {
    let proto = header(request, &X_FORWARDED_PROTO).unwrap_or("http");
    let host = header(request, &X_FORWARDED_HOST).or_else(|| header(request, HOST)).unwrap_or("localhost");
    format!("{proto}://{host}")
}

async fn resolve(state: &AppState, request: &mut Request) -> Result<Option<FrontendRequest>, ApiError> {
    let ctx = &state.ctx;
    // 1. /fapi/{frontend host}/…
    if let Some(rest) = request.uri().path().strip_prefix(PROXY_PREFIX) {
        let (ident, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
        let Some(instance) = instances::by_frontend_host(ctx, ident).await? else {
            return Err(ApiError(tessera_core::Error::with(
                tessera_core::ErrorCode::ResourceNotFound,
                "not found",
                "No instance has this frontend host.",
                None,
            )));
        };
        let base_url = format!("{}{PROXY_PREFIX}{ident}", request_origin(request));
        let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        let rewritten: Uri = format!("/{tail}{query}").parse().map_err(|_| not_found())?;
        *request.uri_mut() = rewritten;
        return Ok(Some(FrontendRequest { instance, base_url }));
    }
    // 2. Clerk's proxy helpers: Clerk-Proxy-Url + Clerk-Secret-Key.
    if let Some(proxy_url) = header(request, &CLERK_PROXY_URL)
        && let Some(secret_key) = header(request, &CLERK_SECRET_KEY)
    {
        let instance = instances::authenticate(ctx, secret_key).await?;
        let base_url = proxy_url.trim_end_matches('/').to_owned();
        return Ok(Some(FrontendRequest { instance, base_url }));
    }
    // 3. Host: an instance's frontend host. IP literals and bare names are never frontend hosts.
    let Some(host) = header(request, HOST) else { return Ok(None) };
    let name = host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |h| h.0);
    // Only a name that starts with a digit can be an IPv4 literal (the parse is most of this function's work).
    let ipv4 = || name.starts_with(|c: char| c.is_ascii_digit()) && name.parse::<std::net::Ipv4Addr>().is_ok();
    if !name.contains('.') || name.starts_with('[') || ipv4() {
        return Ok(None);
    }
    let Some(instance) = instances::by_frontend_host(ctx, name).await? else { return Ok(None) };
    let proto = header(request, &X_FORWARDED_PROTO).unwrap_or("https");
    let base_url = format!("{proto}://{host}");
    Ok(Some(FrontendRequest { instance, base_url }))
}

fn not_found() -> ApiError {
    ApiError(tessera_core::Error::with(
        tessera_core::ErrorCode::ResourceNotFound,
        "not found",
        "No resource has this path.",
        None,
    ))
}
