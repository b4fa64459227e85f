//! Organizations: named groups of users (memberships with a role), with metadata, a logo and a membership limit.

pub mod access;
pub mod list;
pub mod memberships;
pub mod permissions;
pub mod role_sets;
pub mod roles;

use serde_json::{Map, Value, json};
use tessera_store::Tx;
use tessera_store::organizations::OrganizationRow;

use crate::events::{self, EventType};

use crate::ids::new_id;
use crate::users::create::parse_rfc3339;
use crate::users::update::apply_metadata;
use crate::users::{images, metadata};
use crate::{Ctx, Error, ErrorCode, Result};

pub use list::{OrganizationListQuery, list_organizations};

/// Longest organization name.
pub const MAX_NAME_CHARS: usize = 256;

/// An organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique per instance.
    pub slug: String,
    /// Current logo.
    pub image_id: Option<String>,
    /// 0 = unlimited.
    pub max_allowed_memberships: i64,
    /// Admins may delete it from the Frontend API.
    pub admin_delete_enabled: bool,
    /// JSON object.
    pub public_metadata: Value,
    /// JSON object.
    pub private_metadata: Value,
    /// The creating user.
    pub created_by: Option<String>,
    /// Role set key.
    pub role_set_key: Option<String>,
    /// Unix ms.
    pub last_active_at: Option<i64>,
    /// Number of members.
    pub members_count: i64,
    /// No member holds a role with elevated permissions (managing memberships).
    pub missing_member_with_elevated_permissions: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl Organization {
    fn from_row(r: OrganizationRow, has_elevated_member: bool) -> Self {
        Self {
            public_metadata: metadata(&r.public_metadata),
            private_metadata: metadata(&r.private_metadata),
            id: r.id,
            name: r.name,
            slug: r.slug,
            image_id: r.image_id,
            max_allowed_memberships: r.max_allowed_memberships,
            admin_delete_enabled: r.admin_delete_enabled,
            created_by: r.created_by,
            role_set_key: r.role_set_key,
            last_active_at: r.last_active_at,
            members_count: r.members_count,
            missing_member_with_elevated_permissions: !has_elevated_member,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// 404 for an organization.
pub fn not_found() -> Error {
    Error::not_found("organization")
}

/// 403 unless organizations are enabled for the instance.
pub async fn ensure_enabled(ctx: &Ctx, instance_id: &str) -> Result<()> {
    if crate::settings::organization_settings(ctx, instance_id).await?.enabled {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::OrganizationNotEnabledInInstance))
    }
}

/// Role keys whose holders have elevated permissions (may manage memberships): the organization is "missing a
/// member with elevated permissions" when nobody holds one of them.
async fn elevated_role_keys(ctx: &Ctx, instance_id: &str) -> Result<Vec<String>> {
    let roles = roles::all_roles(ctx, instance_id).await?;
    Ok(roles.into_iter().filter(|r| r.has(roles::MANAGE_MEMBERSHIPS)).map(|r| r.key).collect())
}

/// Emits an organization event with the organization as it stands inside the transaction (which seeded the
/// default roles first, with [`roles::ensure_default_roles_tx`]).
async fn emit_organization(ctx: &Ctx, tx: &mut Tx, instance_id: &str, id: &str, event_type: EventType) -> Result<()> {
    let roles = roles::all_roles_tx(tx, instance_id).await?;
    let org = memberships::organization_tx(tx, instance_id, id, &roles).await?;
    let data = crate::objects::organization::organization(&org, "", crate::objects::organization::Include::ALL);
    events::emit(ctx, tx, instance_id, event_type, &data).await
}

/// Turns rows into organizations, computing which have a member with elevated permissions.
pub(crate) async fn hydrate(ctx: &Ctx, instance_id: &str, rows: Vec<OrganizationRow>) -> Result<Vec<Organization>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let elevated = elevated_role_keys(ctx, instance_id).await?;
    let with_elevated =
        tessera_store::organizations::with_member_in_roles(&ctx.db, instance_id, &ids, &elevated).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let has = with_elevated.contains(&r.id);
            Organization::from_row(r, has)
        })
        .collect())
}

/// One organization by id or slug, or 404.
pub async fn get_organization(ctx: &Ctx, instance_id: &str, id_or_slug: &str) -> Result<Organization> {
    let row = tessera_store::organizations::get(&ctx.db, instance_id, id_or_slug).await?.ok_or_else(not_found)?;
    hydrate(ctx, instance_id, vec![row]).await?.pop().ok_or_else(not_found)
}

/// Validates an organization name: 1–256 characters, no URLs or HTML.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::param_missing("name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::param_value_invalid("name", format!("name must be at most {MAX_NAME_CHARS} characters.")));
    }
    let lower = name.to_lowercase();
    if name.contains('<') || name.contains('>') || lower.contains("://") || lower.contains("www.") {
        return Err(Error::param_value_invalid("name", "name may not contain URLs or HTML."));
    }
    Ok(name.to_owned())
}

/// Validates a slug: lowercase letters, digits and dashes only.
pub fn validate_slug(slug: &str) -> Result<String> {
    let slug = slug.trim();
    if slug.is_empty()
        || slug.len() > MAX_NAME_CHARS
        || !slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::param_format_invalid(
            "slug",
            "slug can contain only lowercase alphanumeric characters and the dash \"-\".",
        ));
    }
    Ok(slug.to_owned())
}

/// A slug made from a name: lowercase alphanumerics, other runs turned into one dash.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(64).collect::<String>();
    if out.is_empty() { "organization".to_owned() } else { out.trim_end_matches('-').to_owned() }
}

fn rfc3339(param: &str, value: &str) -> Result<i64> {
    parse_rfc3339(value).ok_or_else(|| {
        Error::param_format_invalid(
            param,
            format!("{param} must be an RFC 3339 date-time, e.g. 2012-10-20T07:15:20.902Z."),
        )
    })
}

fn limit(value: i64) -> Result<i64> {
    if value < 0 {
        return Err(Error::param_value_invalid(
            "max_allowed_memberships",
            "max_allowed_memberships must be 0 (unlimited) or more.",
        ));
    }
    Ok(value)
}

/// A role set key is accepted only when it names a role set of the instance (read inside the transaction).
async fn role_set(tx: &mut Tx, instance_id: &str, param_value: Option<String>) -> Result<Option<role_sets::RoleSet>> {
    match param_value.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => match role_sets::role_set_tx(tx, instance_id, &k).await? {
            Some(set) if set.key == k => Ok(Some(set)),
            _ => Err(Error::param_value_invalid("role_set_key", format!("No role set with key `{k}` exists."))),
        },
    }
}

fn slug_taken() -> Error {
    Error::with(
        ErrorCode::FormIdentifierExists,
        "already exists",
        "That slug is taken. Please try another.",
        Some("slug"),
    )
}

fn unique_error(e: tessera_store::StoreError) -> Error {
    if e.is_unique_violation() { slug_taken() } else { e.into() }
}

/// Input of [`create_organization`].
#[derive(Debug, Default)]
pub struct NewOrganization {
    /// Required.
    pub name: String,
    /// Generated from the name when absent.
    pub slug: Option<String>,
    /// Becomes the first member, with the instance's creator role.
    pub created_by: Option<String>,
    /// Public metadata.
    pub public_metadata: Option<Map<String, Value>>,
    /// Private metadata.
    pub private_metadata: Option<Map<String, Value>>,
    /// Membership limit (default: the instance's).
    pub max_allowed_memberships: Option<i64>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// Role set key.
    pub role_set_key: Option<String>,
}

/// Creates an organization; its creator (if given) becomes its first member with the instance's creator role.
pub async fn create_organization(ctx: &Ctx, instance_id: &str, input: NewOrganization) -> Result<Organization> {
    ensure_enabled(ctx, instance_id).await?;
    let settings = crate::settings::organization_settings(ctx, instance_id).await?;
    let name = validate_name(&input.name)?;
    let given_slug = input.slug.filter(|s| !s.is_empty()).map(|s| validate_slug(&s)).transpose()?;
    let max = input.max_allowed_memberships.map(limit).transpose()?.unwrap_or(settings.max_allowed_memberships);
    let created_at = input.created_at.as_deref().map(|t| rfc3339("created_at", t)).transpose()?;
    let created_by = input.created_by.filter(|s| !s.is_empty());
    let now = ctx.now_ms();
    let id = new_id("org");
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    if let Some(user_id) = &created_by
        && tessera_store::users::lock(&mut tx, instance_id, user_id).await?.is_none()
    {
        return Err(Error::param_value_invalid("created_by", format!("No user with id {user_id} exists.")));
    }
    // The given role set, else the instance's initial one.
    let set = match role_set(&mut tx, instance_id, input.role_set_key).await? {
        Some(set) => Some(set),
        None => role_sets::initial_tx(&mut tx, instance_id).await?,
    };
    let role_set_key = set.as_ref().map(|s| s.key.clone());
    let creator_role = set.map(|s| s.creator_role_key).unwrap_or(settings.creator_role.clone());
    let slug = match given_slug {
        Some(s) => s,
        None => {
            // A generated slug must not fail the request: a taken one gets a random suffix.
            let base = slugify(&name);
            if tessera_store::organizations::slug_taken_tx(&mut tx, instance_id, &base).await? {
                let suffix = new_id("x").to_lowercase();
                format!("{base}-{}", &suffix[suffix.len() - 8..])
            } else {
                base
            }
        }
    };
    let row = OrganizationRow {
        id: id.clone(),
        instance_id: instance_id.to_owned(),
        name,
        slug,
        image_id: None,
        max_allowed_memberships: max,
        admin_delete_enabled: settings.admin_delete_enabled,
        public_metadata: Value::Object(input.public_metadata.unwrap_or_default()).to_string(),
        private_metadata: Value::Object(input.private_metadata.unwrap_or_default()).to_string(),
        created_by: created_by.clone(),
        role_set_key,
        last_active_at: None,
        created_at: created_at.unwrap_or(now),
        updated_at: now,
        members_count: 0,
    };
    tessera_store::organizations::insert(&mut tx, &row).await.map_err(unique_error)?;
    emit_organization(ctx, &mut tx, instance_id, &id, EventType::OrganizationCreated).await?;
    crate::billing::provision_tx(ctx, &mut tx, instance_id, crate::billing::PayerType::Org, &id).await?;
    if let Some(user_id) = created_by {
        let locked = tessera_store::organizations::lock(&mut tx, instance_id, &id).await?.ok_or_else(not_found)?;
        let empty = ("{}".to_owned(), "{}".to_owned());
        memberships::add_member_tx(ctx, &mut tx, instance_id, &locked, &user_id, &creator_role, empty).await?;
    }
    tx.commit().await?;
    get_organization(ctx, instance_id, &id).await
}

/// Input of [`update_organization`]; absent fields do not change.
#[derive(Debug, Default)]
pub struct OrganizationUpdate {
    /// Name.
    pub name: Option<String>,
    /// Slug.
    pub slug: Option<String>,
    /// Membership limit.
    pub max_allowed_memberships: Option<i64>,
    /// Admin delete.
    pub admin_delete_enabled: Option<bool>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// Role set key (`Some(None)` clears).
    pub role_set_key: Option<Option<String>>,
    /// Replaces public metadata (deprecated here).
    pub public_metadata: Option<Map<String, Value>>,
    /// Replaces private metadata (deprecated here).
    pub private_metadata: Option<Map<String, Value>>,
}

/// Updates an organization's attributes.
pub async fn update_organization(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    u: OrganizationUpdate,
) -> Result<Organization> {
    ensure_enabled(ctx, instance_id).await?;
    let name = u.name.as_deref().map(validate_name).transpose()?;
    let slug = u.slug.as_deref().map(validate_slug).transpose()?;
    let max = u.max_allowed_memberships.map(limit).transpose()?;
    let created_at = u.created_at.as_deref().map(|t| rfc3339("created_at", t)).transpose()?;
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let mut row = tessera_store::organizations::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let role_set_key = match u.role_set_key {
        Some(k) => Some(role_set(&mut tx, instance_id, k).await?.map(|s| s.key)),
        None => None,
    };
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = slug {
        row.slug = v;
    }
    if let Some(v) = max {
        row.max_allowed_memberships = v;
    }
    if let Some(v) = u.admin_delete_enabled {
        row.admin_delete_enabled = v;
    }
    if let Some(v) = created_at {
        row.created_at = v;
    }
    if let Some(v) = role_set_key {
        row.role_set_key = v;
    }
    if let Some(m) = u.public_metadata {
        row.public_metadata = Value::Object(m).to_string();
    }
    if let Some(m) = u.private_metadata {
        row.private_metadata = Value::Object(m).to_string();
    }
    row.updated_at = ctx.now_ms();
    tessera_store::organizations::update(&mut tx, &row).await.map_err(unique_error)?;
    emit_organization(ctx, &mut tx, instance_id, &row.id, EventType::OrganizationUpdated).await?;
    tx.commit().await?;
    get_organization(ctx, instance_id, &row.id).await
}

/// Deletes an organization with its memberships, invitations, domains and logo. Returns `(id, slug)`.
pub async fn delete_organization(ctx: &Ctx, instance_id: &str, id: &str) -> Result<(String, String)> {
    let mut tx = ctx.db.begin().await?;
    let row = tessera_store::organizations::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    tessera_store::organizations::delete(&mut tx, instance_id, &row.id).await?;
    let data = json!({ "object": "organization", "id": row.id, "slug": row.slug, "deleted": true });
    events::emit(ctx, &mut tx, instance_id, EventType::OrganizationDeleted, &data).await?;
    tx.commit().await?;
    Ok((row.id, row.slug))
}

/// The two metadata fields of a metadata request (absent = unchanged).
#[derive(Debug, Default)]
pub struct MetadataChange {
    /// Public.
    pub public_metadata: Option<Map<String, Value>>,
    /// Private.
    pub private_metadata: Option<Map<String, Value>>,
}

/// `PATCH …/metadata` (`merge = true`: deep merge, `null` deletes) or `PUT …/metadata` (replace each given field).
pub async fn change_metadata(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    change: MetadataChange,
    merge: bool,
) -> Result<Organization> {
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let mut row = tessera_store::organizations::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    for (patch, field) in
        [(change.public_metadata, &mut row.public_metadata), (change.private_metadata, &mut row.private_metadata)]
    {
        if let Some(p) = patch {
            apply_metadata(field, p, merge);
        }
    }
    row.updated_at = ctx.now_ms();
    tessera_store::organizations::update(&mut tx, &row).await?;
    emit_organization(ctx, &mut tx, instance_id, &row.id, EventType::OrganizationUpdated).await?;
    tx.commit().await?;
    get_organization(ctx, instance_id, &row.id).await
}

/// Sets an organization's logo; `None` deletes it. The uploader, when given, must be a user of the instance.
pub async fn set_logo(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    data: Option<Vec<u8>>,
    uploader_user_id: Option<&str>,
) -> Result<Organization> {
    let image = match &data {
        None => None,
        Some(bytes) => {
            if bytes.len() > images::MAX_IMAGE_BYTES {
                return Err(Error::param_value_invalid("file", "The file size cannot exceed 10MB."));
            }
            let content_type = images::sniff(bytes).ok_or_else(|| {
                Error::param_value_invalid(
                    "file",
                    "Only image/jpeg, image/png, image/gif and image/webp are supported.",
                )
            })?;
            Some((new_id("img"), content_type))
        }
    };
    let mut tx = ctx.db.begin().await?;
    roles::ensure_default_roles_tx(&mut tx, instance_id, ctx.now_ms()).await?;
    let row = tessera_store::organizations::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if let Some(uploader) = uploader_user_id.filter(|u| !u.is_empty())
        && tessera_store::users::lock(&mut tx, instance_id, uploader).await?.is_none()
    {
        return Err(Error::param_value_invalid("uploader_user_id", format!("No user with id {uploader} exists.")));
    }
    let stored = match (&image, &data) {
        (Some((img, ct)), Some(bytes)) => Some((img.as_str(), *ct, bytes.as_slice())),
        _ => None,
    };
    tessera_store::organizations::set_image(&mut tx, instance_id, &row.id, stored, ctx.now_ms()).await?;
    emit_organization(ctx, &mut tx, instance_id, &row.id, EventType::OrganizationUpdated).await?;
    tx.commit().await?;
    get_organization(ctx, instance_id, &row.id).await
}

/// A stored logo by id: `(content_type, bytes)`. Like Clerk's image URLs, served without authentication.
pub async fn logo(ctx: &Ctx, image_id: &str) -> Result<(String, Vec<u8>)> {
    tessera_store::organizations::image(&ctx.db, image_id).await?.ok_or_else(|| Error::not_found("image"))
}

/// The `name` of a role, permission or role set: trimmed, present, at most 256 characters.
pub(crate) fn validate_label(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::param_missing("name"));
    }
    if name.chars().count() > 256 {
        return Err(Error::param_value_invalid("name", "name must be at most 256 characters."));
    }
    Ok(name.to_owned())
}

/// Maps a unique violation on `key` to `form_identifier_exists` naming what (`role`, `permission`, `role set`).
pub(crate) fn key_taken(what: &'static str) -> impl Fn(tessera_store::StoreError) -> Error {
    move |e| {
        if e.is_unique_violation() {
            Error::with(
                ErrorCode::FormIdentifierExists,
                "already exists",
                format!("A {what} with this key already exists."),
                Some("key"),
            )
        } else {
            e.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(slugify("Acme Inc."), "acme-inc");
        assert_eq!(slugify("  --Hello__World--  "), "hello-world");
        assert_eq!(slugify("日本"), "organization");
        assert!(validate_slug("Acme").is_err());
        assert!(validate_slug("acme-1").is_ok());
        assert!(validate_name("<b>x</b>").is_err());
        assert!(validate_name("see https://x.io").is_err());
        assert!(validate_name("  ").is_err());
    }
}
