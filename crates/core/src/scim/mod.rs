//! SCIM 2.0 service provider (RFC 7643/7644) behind each directory: its IdP pushes users and groups to
//! `{frontend host}/scim/v2/{directory_id}` with the directory's API key as bearer token.
//!
//! Provisioned users are ordinary users of the instance: created with the directory's attribute mapping applied to
//! the SCIM resource (`user.created`), updated (`user.updated`), and deprovisioned on `active: false` or DELETE —
//! `deprovisioned: true`, every session revoked in the same transaction — and restored on `active: true`. The SCIM
//! resource itself is kept as the IdP last wrote it (so a GET returns what was sent), minus any password, which is
//! never stored. Group memberships decide the user's role in the organization the directory's connection is linked
//! to ([`roles`]).
//!
//! Lists and filters are evaluated over a directory's resources in memory: a directory holds one customer's
//! people, and a filter language evaluated in SQL on both databases would be a second implementation of [`filter`].

use serde::Serialize;
use serde_json::Value;
use tessera_store::directories::{self as dir_store, DirectoryRow};

use crate::{Ctx, Error};

pub mod filter;
pub mod groups;
pub mod patch;
pub mod roles;
pub mod schemas;
pub mod users;

/// Core schema of users.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core schema of groups.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise user extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Clerk's user extension: any attribute in it is copied into the user's public metadata.
pub const CLERK_USER: &str = "urn:ietf:params:scim:schemas:extension:clerk:2.0:User";
/// List responses.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PATCH requests.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Error bodies.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Largest request body (RFC 7644 §3.12 `maxPayloadSize`, advertised in the ServiceProviderConfig).
pub const MAX_PAYLOAD: usize = 1024 * 1024;
/// Largest page (`maxResults`).
pub const MAX_RESULTS: usize = 1000;
/// Page size when the request names none.
pub const DEFAULT_COUNT: usize = 100;

/// The canonical spelling of a schema URN the server knows (paths may spell them in any case).
pub fn canonical_urn(urn: &str) -> String {
    [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER, CLERK_USER]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(urn))
        .unwrap_or(urn)
        .to_owned()
}

/// A SCIM error (RFC 7644 §3.12): an HTTP status, a `scimType` where the RFC defines one, and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// HTTP status.
    pub status: u16,
    /// `scimType` (`invalidFilter`, `uniqueness`, `invalidValue`…).
    pub scim_type: Option<&'static str>,
    /// Human-readable detail.
    pub detail: String,
}

impl ScimError {
    /// An error with a status, optional `scimType` and detail.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// 404: no such resource in this directory.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, None, format!("{what} {id} not found"))
    }

    /// 401: the bearer token is missing or is not this directory's key.
    pub fn unauthorized() -> Self {
        Self::new(401, None, "A valid directory API key is required as Bearer token.")
    }

    /// The body (`urn:…:Error`) of this error.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody { schemas: [ERROR], status: self.status.to_string(), scim_type: self.scim_type, detail: &self.detail }
    }
}

/// The SCIM error body; `status` is a string, as RFC 7644 §3.12 writes it.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    schemas: [&'static str; 1],
    status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    scim_type: Option<&'static str>,
    detail: &'a str,
}

impl From<Error> for ScimError {
    /// Domain errors: uniqueness of identifiers and external ids is SCIM's `uniqueness` (409); invalid values are
    /// `invalidValue` (400); a missing resource is 404; anything else stays a server error, logged by the caller.
    fn from(e: Error) -> Self {
        let detail = e.items().first().map(|i| i.long_message.clone()).unwrap_or_default();
        match (e.status(), e.code()) {
            (_, crate::ErrorCode::FormIdentifierExists) => ScimError::new(409, Some("uniqueness"), detail),
            (404, _) => ScimError::new(404, None, detail),
            (400 | 422, _) => ScimError::new(400, Some("invalidValue"), detail),
            (s, _) if s < 500 => ScimError::new(s, None, detail),
            _ => {
                tracing::error!(error = ?e, "SCIM request failed");
                ScimError::new(500, None, "The request could not be completed.")
            }
        }
    }
}

impl From<tessera_store::StoreError> for ScimError {
    fn from(e: tessera_store::StoreError) -> Self {
        Error::from(e).into()
    }
}

/// Result of SCIM operations.
pub type ScimResult<T> = std::result::Result<T, ScimError>;

/// The directory a request addresses, when `token` is its API key (or its previous key within the grace
/// period). A directory of another instance, an unknown one and a wrong key are all 401, so the answer says
/// nothing about which directories exist; a disabled directory is 403.
pub async fn authenticate(
    ctx: &Ctx,
    instance_id: &str,
    directory_id: &str,
    token: Option<&str>,
) -> ScimResult<DirectoryRow> {
    let token = token.filter(|t| !t.is_empty() && t.len() <= 256).ok_or_else(ScimError::unauthorized)?;
    let row = dir_store::get(&ctx.db, instance_id, directory_id).await?.ok_or_else(ScimError::unauthorized)?;
    if !crate::directories::key_matches(ctx, &row, token, ctx.now_ms()) {
        return Err(ScimError::unauthorized());
    }
    if !row.enabled {
        return Err(ScimError::new(403, None, "Provisioning is disabled for this directory."));
    }
    Ok(row)
}

/// `startIndex` (1-based) and `count` of a list request, clamped as RFC 7644 §3.4.2.4 says (values below 1 are 1,
/// a negative count is 0).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// 1-based index of the first result.
    pub start_index: usize,
    /// Most results.
    pub count: usize,
}

impl Page {
    /// The page of the query values (unparsable values are `invalidValue`).
    pub fn parse(start_index: Option<&str>, count: Option<&str>) -> ScimResult<Self> {
        let num = |name: &str, v: Option<&str>| -> ScimResult<Option<i64>> {
            v.map(|s| {
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer")))
            })
            .transpose()
        };
        let start = num("startIndex", start_index)?.unwrap_or(1).max(1) as usize;
        let count = num("count", count)?.map_or(DEFAULT_COUNT, |c| c.clamp(0, MAX_RESULTS as i64) as usize);
        Ok(Self { start_index: start, count })
    }
}

/// A `ListResponse`.
#[derive(Debug, Serialize)]
pub struct ListResponse<T: Serialize> {
    schemas: [&'static str; 1],
    #[serde(rename = "totalResults")]
    total_results: usize,
    #[serde(rename = "startIndex")]
    start_index: usize,
    #[serde(rename = "itemsPerPage")]
    items_per_page: usize,
    #[serde(rename = "Resources")]
    resources: Vec<T>,
}

impl<T: Serialize> ListResponse<T> {
    /// The page of `all` (every match, in order).
    pub fn page(all: Vec<T>, page: Page) -> Self {
        let total = all.len();
        let resources: Vec<T> = all.into_iter().skip(page.start_index - 1).take(page.count).collect();
        Self {
            schemas: [LIST_RESPONSE],
            total_results: total,
            start_index: page.start_index,
            items_per_page: resources.len(),
            resources,
        }
    }
}

impl<T: Serialize> ListResponse<T> {
    /// The same page with each resource transformed (attribute projection).
    pub fn map<U: Serialize>(self, f: impl FnMut(T) -> U) -> ListResponse<U> {
        ListResponse {
            schemas: self.schemas,
            total_results: self.total_results,
            start_index: self.start_index,
            items_per_page: self.items_per_page,
            resources: self.resources.into_iter().map(f).collect(),
        }
    }
}

/// Applies `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) to a resource, by top-level attribute (a
/// sub-attribute or URN-qualified name selects its top-level attribute). `id` and `schemas` are always returned.
pub fn project(v: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|a| {
                let a = a.trim();
                let a = match a.rfind(':') {
                    Some(i) => &a[i + 1..],
                    None => a,
                };
                a.split('.').next().unwrap_or_default().to_ascii_lowercase()
            })
            .filter(|a| !a.is_empty())
            .collect()
    };
    let Value::Object(mut o) = v else { return v };
    let always = |k: &str| k == "id" || k == "schemas";
    if let Some(list) = attributes.filter(|a| !a.trim().is_empty()) {
        let keep = names(list);
        o.retain(|k, _| always(k) || keep.contains(&k.to_ascii_lowercase()));
    } else if let Some(list) = excluded.filter(|a| !a.trim().is_empty()) {
        let drop = names(list);
        o.retain(|k, _| always(k) || !drop.contains(&k.to_ascii_lowercase()));
    }
    Value::Object(o)
}

/// Parses a `filter` query parameter (`invalidFilter` when it does not parse).
pub fn parse_filter(f: Option<&str>) -> ScimResult<Option<filter::Filter>> {
    match f.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(f) => filter::parse(f).map(Some).map_err(|e| ScimError::bad("invalidFilter", e)),
    }
}

/// Where a directory's SCIM resource lives, under `base` (the directory's endpoint,
/// `{frontend base}/scim/v2/{directory_id}`).
pub fn location(base: &str, kind: &str, id: &str) -> String {
    format!("{base}/{kind}/{id}")
}
