//! Organizations: create, list, get (by id or slug), update, delete, metadata, logo, and the logo itself.

use crate::json::Json;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tessera_core::organizations::{MetadataChange, NewOrganization, OrganizationListQuery, OrganizationUpdate};
use tessera_core::store::organizations::OrganizationOrder;
use tessera_core::{Error, ErrorCode};

use super::users::RequestOrigin;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::extract::{Body, Params, SecretKey, lenient_bool, lenient_u64, nullable};
use crate::list::{OrderBy, Paging, data_list};
use crate::objects::organization::{Include, organization, organization_with_logo};
use crate::version::ApiVersion;

/// `order_by` fields of the organization list.
const ORDER_FIELDS: &[&str] = &["name", "created_at", "members_count"];

/// Body of `POST /organizations`.
#[derive(Debug, Deserialize)]
pub struct CreateOrganizationBody {
    name: Option<String>,
    slug: Option<String>,
    created_by: Option<String>,
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    max_allowed_memberships: Option<i64>,
    created_at: Option<String>,
    role_set_key: Option<String>,
}

/// `POST /v1/organizations`
pub async fn create_organization(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Body(b): Body<CreateOrganizationBody>,
) -> ApiResult<Json<Value>> {
    let input = NewOrganization {
        name: b.name.ok_or_else(|| Error::param_missing("name"))?,
        slug: b.slug,
        created_by: b.created_by,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
        max_allowed_memberships: b.max_allowed_memberships,
        created_at: b.created_at,
        role_set_key: b.role_set_key,
    };
    let o = tessera_core::organizations::create_organization(&app.ctx, &instance.id, input).await?;
    Ok(Json(organization(&o, &origin, Include::default())))
}

/// Query of `GET /organizations`.
#[derive(Debug, Deserialize)]
pub struct ListOrganizationsParams {
    #[serde(default, deserialize_with = "lenient_bool")]
    include_members_count: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_missing_member_with_elevated_permissions: Option<bool>,
    query: Option<String>,
    #[serde(default)]
    user_id: Vec<String>,
    #[serde(default)]
    organization_id: Vec<String>,
    order_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    offset: Option<u64>,
}

/// `GET /v1/organizations`
pub async fn list_organizations(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Params(p): Params<ListOrganizationsParams>,
) -> ApiResult<Json<Value>> {
    let page = Paging { limit: p.limit, offset: p.offset, paginated: None }.page(500)?;
    let sort = OrderBy::parse(p.order_by.as_deref(), ORDER_FIELDS, "-created_at")?;
    let q = OrganizationListQuery {
        query: p.query,
        user_id: p.user_id,
        organization_id: p.organization_id,
        order: match sort.field {
            "name" => OrganizationOrder::Name,
            "members_count" => OrganizationOrder::MembersCount,
            _ => OrganizationOrder::CreatedAt,
        },
        descending: sort.descending,
        limit: page.limit,
        offset: page.offset,
    };
    let include = Include {
        members_count: p.include_members_count.unwrap_or(false),
        missing_member_with_elevated_permissions: p.include_missing_member_with_elevated_permissions.unwrap_or(false),
    };
    let (orgs, total) = tessera_core::organizations::list_organizations(&app.ctx, &instance.id, &q).await?;
    Ok(data_list(orgs.iter().map(|o| organization(o, &origin, include)).collect(), total))
}

/// Query of `GET /organizations/{organization_id}`.
#[derive(Debug, Deserialize)]
pub struct GetOrganizationParams {
    #[serde(default, deserialize_with = "lenient_bool")]
    include_members_count: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_missing_member_with_elevated_permissions: Option<bool>,
}

/// `GET /v1/organizations/{organization_id}`: by id or slug.
pub async fn get_organization(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    Params(p): Params<GetOrganizationParams>,
) -> ApiResult<Json<Value>> {
    tessera_core::organizations::ensure_enabled(&app.ctx, &instance.id).await?;
    let o = tessera_core::organizations::get_organization(&app.ctx, &instance.id, &id).await?;
    let include = Include {
        members_count: p.include_members_count.unwrap_or(false),
        missing_member_with_elevated_permissions: p.include_missing_member_with_elevated_permissions.unwrap_or(false),
    };
    Ok(Json(organization(&o, &origin, include)))
}

/// Body of `PATCH /organizations/{organization_id}` (`additionalProperties: false`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationBody {
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    name: Option<String>,
    slug: Option<String>,
    max_allowed_memberships: Option<i64>,
    admin_delete_enabled: Option<bool>,
    created_at: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    role_set_key: Option<Option<String>>,
}

/// `PATCH /v1/organizations/{organization_id}`
pub async fn update_organization(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    version: ApiVersion,
    Path(id): Path<String>,
    Body(b): Body<UpdateOrganizationBody>,
) -> ApiResult<Json<Value>> {
    if version.refuses_metadata_in_update() {
        for (name, present) in
            [("public_metadata", b.public_metadata.is_some()), ("private_metadata", b.private_metadata.is_some())]
        {
            if present {
                return Err(Error::param_unknown(name).into());
            }
        }
    }
    let update = OrganizationUpdate {
        name: b.name,
        slug: b.slug,
        max_allowed_memberships: b.max_allowed_memberships,
        admin_delete_enabled: b.admin_delete_enabled,
        created_at: b.created_at,
        role_set_key: b.role_set_key,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
    };
    let o = tessera_core::organizations::update_organization(&app.ctx, &instance.id, &id, update).await?;
    Ok(Json(organization(&o, &origin, Include::default())))
}

/// `DELETE /v1/organizations/{organization_id}`
pub async fn delete_organization(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (id, slug) = tessera_core::organizations::delete_organization(&app.ctx, &instance.id, &id).await?;
    Ok(Json(json!({ "object": "organization", "id": id, "slug": slug, "deleted": true })))
}

/// Body of `PATCH`/`PUT /organizations/{organization_id}/metadata`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataBody {
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
}

impl From<MetadataBody> for MetadataChange {
    fn from(b: MetadataBody) -> Self {
        Self { public_metadata: b.public_metadata, private_metadata: b.private_metadata }
    }
}

/// `PATCH /v1/organizations/{organization_id}/metadata`: deep merge, `null` deletes.
pub async fn merge_organization_metadata(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    Body(b): Body<MetadataBody>,
) -> ApiResult<Json<Value>> {
    let o = tessera_core::organizations::change_metadata(&app.ctx, &instance.id, &id, b.into(), true).await?;
    Ok(Json(organization(&o, &origin, Include::default())))
}

/// `PUT /v1/organizations/{organization_id}/metadata`: each given field replaced.
pub async fn replace_organization_metadata(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    Body(b): Body<MetadataBody>,
) -> ApiResult<Json<Value>> {
    let o = tessera_core::organizations::change_metadata(&app.ctx, &instance.id, &id, b.into(), false).await?;
    Ok(Json(organization(&o, &origin, Include::default())))
}

/// `PUT /v1/organizations/{organization_id}/logo` (multipart: `file`, optional `uploader_user_id`).
pub async fn upload_organization_logo(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Json<Value>> {
    let bad = |why: &str, param: &str| ApiError(Error::with(ErrorCode::BadRequest, "invalid file", why, Some(param)));
    let mut multipart =
        multipart.map_err(|_| bad("The request must be multipart/form-data with a `file` field.", "file"))?;
    let (mut file, mut uploader) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(|_| bad("The multipart body is malformed.", "file"))? {
        match field.name() {
            Some("file") => {
                let bytes =
                    field.bytes().await.map_err(|_| bad("The file could not be read (at most 10MB).", "file"))?;
                file = Some(bytes.to_vec());
            }
            Some("uploader_user_id") => {
                uploader =
                    Some(field.text().await.map_err(|_| bad("uploader_user_id must be text.", "uploader_user_id"))?);
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| bad("The `file` field is required.", "file"))?;
    tessera_core::organizations::ensure_enabled(&app.ctx, &instance.id).await?;
    let o = tessera_core::organizations::set_logo(&app.ctx, &instance.id, &id, Some(file), uploader.as_deref())
        .await
        .map_err(|e| {
        if e.status() == 422 {
            let item = &e.items()[0];
            let param = item.meta.as_ref().and_then(|m| m.param_name.clone()).unwrap_or_else(|| "file".into());
            bad(&item.long_message, &param).0
        } else {
            e
        }
    })?;
    Ok(Json(organization_with_logo(&o, &origin)))
}

/// `DELETE /v1/organizations/{organization_id}/logo`
pub async fn delete_organization_logo(
    State(app): State<AppState>,
    SecretKey(instance): SecretKey,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let o = tessera_core::organizations::set_logo(&app.ctx, &instance.id, &id, None, None).await?;
    Ok(Json(organization(&o, &origin, Include::default())))
}

/// `GET /v1/organization_images/{image_id}` (outside the spec): the logo bytes, public like Clerk's image CDN.
pub async fn get_organization_image(State(app): State<AppState>, Path(image_id): Path<String>) -> ApiResult<Response> {
    let (content_type, data) = tessera_core::organizations::logo(&app.ctx, &image_id).await?;
    Ok((
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable".into())],
        data,
    )
        .into_response())
}
