//! The SCIM face: each directory's SCIM 2.0 service provider at `{frontend host}/scim/v2/{directory_id}` (the
//! `endpoint_url` of the directory object). Its own route table, authentication (the directory's API key as
//! bearer token), media type (`application/scim+json`) and error bodies (RFC 7644 §3.12) — never Clerk's
//! envelope. Handlers stay thin: the protocol lives in `tessera_core::scim`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_api::AppState;
use tessera_api::extract::Path;
use tessera_api::lazy_route::{LazyRoute, MakeHandlers};
use tessera_api::lazy_route::{get, post};
use tessera_api::route_table::RouteTable;
use tessera_core::scim::patch::PatchRequest;
use tessera_core::scim::{self, ScimError, groups, schemas, users};
use tessera_core::store::directories::DirectoryRow;

use crate::host::FrontendRequest;

/// The SCIM media type.
const MEDIA_TYPE: &str = "application/scim+json";

/// A SCIM answer: JSON as `application/scim+json`.
pub struct ScimJson<T>(pub StatusCode, pub T);

impl<T: serde::Serialize> IntoResponse for ScimJson<T> {
    fn into_response(self) -> Response {
        let mut res = (self.0, tessera_api::json::Json(self.1)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        res
    }
}

/// A SCIM error answer.
pub struct Failure(pub ScimError);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = ScimJson(status, self.0.body()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

type Answer = Result<Response, Failure>;

/// An authenticated SCIM request: the directory its bearer token opens, the base of its resource URLs, and the
/// query (`filter`, `startIndex`, `count`, `attributes`, `excludedAttributes`).
pub struct Scim {
    /// The directory.
    pub dir: DirectoryRow,
    /// `{frontend base}/scim/v2/{directory_id}`.
    pub base: String,
    /// Query parameters by name.
    pub query: HashMap<String, String>,
}

impl FromRequestParts<AppState> for Scim {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let frontend = parts
            .extensions
            .get::<FrontendRequest>()
            .cloned()
            .ok_or_else(|| ScimError::new(404, None, "SCIM endpoints live on an instance's frontend host."))?;
        let params: Path<HashMap<String, String>> =
            Path::from_request_parts(parts, state).await.map_err(|_| ScimError::unauthorized())?;
        let dir_id = params.get("directory_id").cloned().unwrap_or_default();
        let token = tessera_api::extract::bearer_token(parts);
        let dir = scim::authenticate(&state.ctx, &frontend.instance.id, &dir_id, token).await?;
        let query = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Self { base: format!("{}/scim/v2/{}", frontend.base_url, dir.id), dir, query })
    }
}

impl Scim {
    fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn page(&self) -> Result<scim::Page, ScimError> {
        scim::Page::parse(self.q("startIndex"), self.q("count"))
    }

    fn project(&self, v: Value) -> Value {
        scim::project(v, self.q("attributes"), self.q("excludedAttributes"))
    }
}

/// A JSON request body (`application/scim+json` or `application/json`), at most [`scim::MAX_PAYLOAD`] bytes.
pub struct ScimBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ScimBody<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ScimError::new(413, None, format!("The body exceeds {} bytes.", scim::MAX_PAYLOAD)))?;
        if bytes.len() > scim::MAX_PAYLOAD {
            return Err(ScimError::new(413, None, format!("The body exceeds {} bytes.", scim::MAX_PAYLOAD)).into());
        }
        serde_json::from_slice(&bytes)
            .map(ScimBody)
            .map_err(|e| ScimError::bad("invalidSyntax", format!("The body is not a valid request: {e}")).into())
    }
}

fn ok<T: serde::Serialize>(v: T) -> Answer {
    Ok(ScimJson(StatusCode::OK, v).into_response())
}

/// `GET /ServiceProviderConfig`
pub async fn service_provider_config(s: Scim) -> Answer {
    ok(schemas::service_provider_config(&s.base))
}

/// `GET /ResourceTypes`
pub async fn resource_types(s: Scim) -> Answer {
    let all = schemas::resource_types(&s.base);
    let n = all.len();
    ok(scim::ListResponse::page(all, scim::Page { start_index: 1, count: n }))
}

/// `GET /ResourceTypes/{id}`
pub async fn resource_type(s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    let id = p.get("id").map(String::as_str).unwrap_or_default();
    let found = schemas::resource_types(&s.base).into_iter().find(|r| r["id"] == id);
    ok(found.ok_or_else(|| ScimError::not_found("ResourceType", id))?)
}

/// `GET /Schemas`
pub async fn list_schemas(s: Scim) -> Answer {
    let all = schemas::schemas(&s.base);
    let n = all.len();
    ok(scim::ListResponse::page(all, scim::Page { start_index: 1, count: n }))
}

/// `GET /Schemas/{id}`
pub async fn get_schema(s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    let id = p.get("id").map(String::as_str).unwrap_or_default();
    let found =
        schemas::schemas(&s.base).into_iter().find(|r| r["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)));
    ok(found.ok_or_else(|| ScimError::not_found("Schema", id))?)
}

fn id_of(p: &HashMap<String, String>) -> &str {
    p.get("id").map(String::as_str).unwrap_or_default()
}

/// `GET /Users`
pub async fn list_users(State(app): State<AppState>, s: Scim) -> Answer {
    let f = scim::parse_filter(s.q("filter"))?;
    let list = users::list(&app.ctx, &s.dir, &s.base, f.as_ref(), s.page()?).await?;
    ok(list.map(|r| s.project(r)))
}

/// A `POST …/.search` body (RFC 7644 §3.4.3): the query of a list, sent in the body instead of the URL.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    attributes: Option<Vec<String>>,
    excluded_attributes: Option<Vec<String>>,
}

impl Scim {
    /// The search body replaces the URL's query, so that a search is exactly the GET list it stands for.
    fn searching(mut self, search: SearchRequest) -> Self {
        let mut query = HashMap::new();
        query.extend(search.filter.map(|f| ("filter".to_owned(), f)));
        query.extend(search.start_index.map(|i| ("startIndex".to_owned(), i.to_string())));
        query.extend(search.count.map(|c| ("count".to_owned(), c.to_string())));
        query.extend(search.attributes.map(|a| ("attributes".to_owned(), a.join(","))));
        query.extend(search.excluded_attributes.map(|a| ("excludedAttributes".to_owned(), a.join(","))));
        self.query = query;
        self
    }
}

/// `POST /Users/.search`
pub async fn search_users(State(app): State<AppState>, s: Scim, ScimBody(b): ScimBody<SearchRequest>) -> Answer {
    list_users(State(app), s.searching(b)).await
}

/// `POST /Users`
pub async fn create_user(State(app): State<AppState>, s: Scim, ScimBody(b): ScimBody<Value>) -> Answer {
    let r = users::create(&app.ctx, &s.dir, &s.base, b).await?;
    Ok(ScimJson(StatusCode::CREATED, s.project(r)).into_response())
}

/// `GET /Users/{id}`
pub async fn get_user(State(app): State<AppState>, s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    ok(s.project(users::get(&app.ctx, &s.dir, &s.base, id_of(&p)).await?))
}

/// `PUT /Users/{id}`
pub async fn replace_user(
    State(app): State<AppState>,
    s: Scim,
    Path(p): Path<HashMap<String, String>>,
    ScimBody(b): ScimBody<Value>,
) -> Answer {
    ok(s.project(users::replace(&app.ctx, &s.dir, &s.base, id_of(&p), b).await?))
}

/// `PATCH /Users/{id}`
pub async fn patch_user(
    State(app): State<AppState>,
    s: Scim,
    Path(p): Path<HashMap<String, String>>,
    ScimBody(b): ScimBody<PatchRequest>,
) -> Answer {
    ok(s.project(users::patch(&app.ctx, &s.dir, &s.base, id_of(&p), b).await?))
}

/// `DELETE /Users/{id}`
pub async fn delete_user(State(app): State<AppState>, s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    users::delete(&app.ctx, &s.dir, id_of(&p)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /Groups`
pub async fn list_groups(State(app): State<AppState>, s: Scim) -> Answer {
    let f = scim::parse_filter(s.q("filter"))?;
    let list = groups::list(&app.ctx, &s.dir, &s.base, f.as_ref(), s.page()?).await?;
    ok(list.map(|r| s.project(r)))
}

/// `POST /Groups/.search`
pub async fn search_groups(State(app): State<AppState>, s: Scim, ScimBody(b): ScimBody<SearchRequest>) -> Answer {
    list_groups(State(app), s.searching(b)).await
}

/// `POST /Groups`
pub async fn create_group(State(app): State<AppState>, s: Scim, ScimBody(b): ScimBody<Value>) -> Answer {
    let r = groups::create(&app.ctx, &s.dir, &s.base, b).await?;
    Ok(ScimJson(StatusCode::CREATED, s.project(r)).into_response())
}

/// `GET /Groups/{id}`
pub async fn get_group(State(app): State<AppState>, s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    ok(s.project(groups::get(&app.ctx, &s.dir, &s.base, id_of(&p)).await?))
}

/// `PUT /Groups/{id}`
pub async fn replace_group(
    State(app): State<AppState>,
    s: Scim,
    Path(p): Path<HashMap<String, String>>,
    ScimBody(b): ScimBody<Value>,
) -> Answer {
    ok(s.project(groups::replace(&app.ctx, &s.dir, &s.base, id_of(&p), b).await?))
}

/// `PATCH /Groups/{id}`
pub async fn patch_group(
    State(app): State<AppState>,
    s: Scim,
    Path(p): Path<HashMap<String, String>>,
    ScimBody(b): ScimBody<PatchRequest>,
) -> Answer {
    ok(s.project(groups::patch(&app.ctx, &s.dir, &s.base, id_of(&p), b).await?))
}

/// `DELETE /Groups/{id}`
pub async fn delete_group(State(app): State<AppState>, s: Scim, Path(p): Path<HashMap<String, String>>) -> Answer {
    groups::delete(&app.ctx, &s.dir, id_of(&p)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /.search`: searching several resource types at once is optional (RFC 7644 §3.4.3) and not offered.
async fn search_everything(_s: Scim) -> Failure {
    Failure(ScimError::new(
        501,
        None,
        "Searching several resource types at once is not supported; search /Users/.search or /Groups/.search.",
    ))
}

async fn not_found() -> Failure {
    Failure(ScimError::new(404, None, "No SCIM endpoint matches this path."))
}

async fn method_not_allowed() -> Failure {
    Failure(ScimError::new(405, None, "This method is not supported on this endpoint."))
}

/// Adds the SCIM routes under `prefix` (`/scim/v2/{directory_id}`) to `table`; any other path under it answers
/// SCIM's 404.
pub fn routes(table: RouteTable<AppState>, prefix: &str, state: &AppState) -> RouteTable<AppState> {
    // Bound on first use (see `LazyRoute`), each with the SCIM 405 for methods it does not serve.
    let lazy = |handlers: MakeHandlers<AppState>| LazyRoute::new(handlers, method_not_allowed, state);
    let at = |path: &str| format!("{prefix}{path}");
    let unknown = LazyRoute::fallback(not_found, state);
    table
        .route(&at("/ServiceProviderConfig"), lazy(|| get(service_provider_config)))
        .route(&at("/ResourceTypes"), lazy(|| get(resource_types)))
        .route(&at("/ResourceTypes/{id}"), lazy(|| get(resource_type)))
        .route(&at("/Schemas"), lazy(|| get(list_schemas)))
        .route(&at("/Schemas/{id}"), lazy(|| get(get_schema)))
        .route(&at("/.search"), lazy(|| post(search_everything)))
        .route(&at("/Users"), lazy(|| get(list_users).post(create_user)))
        .route(&at("/Users/.search"), lazy(|| post(search_users)))
        .route(&at("/Users/{id}"), lazy(|| get(get_user).put(replace_user).patch(patch_user).delete(delete_user)))
        .route(&at("/Groups"), lazy(|| get(list_groups).post(create_group)))
        .route(&at("/Groups/.search"), lazy(|| post(search_groups)))
        .route(&at("/Groups/{id}"), lazy(|| get(get_group).put(replace_group).patch(patch_group).delete(delete_group)))
        .route(prefix, unknown.clone())
        // A catch-all matches at least one character: the bare trailing slash needs its own route.
        .route(&at("/"), unknown.clone())
        .route(&at("/{*rest}"), unknown)
}
