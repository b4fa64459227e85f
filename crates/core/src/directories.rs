//! Directories: SCIM provisioning endpoints of an enterprise connection. `/directories` and `/scim_directories` are
//! two views of the same records. A directory's API key (the bearer token its IdP sends) is shown once, at
//! creation, and stored as a keyed digest only; deleting the directory makes the key useless at once.
//!
//! The SCIM endpoint lives on the instance's Frontend API host (`https://{host}/scim/v2/{directory_id}`).
//! Google Workspace directories are pulled by Clerk with a service account; Tessera does not pull, so that
//! provider is refused rather than accepted and never synced.

use std::collections::BTreeMap;

use tessera_store::directories::{self as store, DirectoryRow, GroupRoleMappingRow};
use tessera_store::enterprise_connections::{self as connections, By};

use tessera_store::Tx;

use crate::crypto::constant_time_eq;
use crate::enterprise_connections::{CustomAttribute, EnterpriseConnection};
use crate::ids::{new_id, random_base62};
use crate::organizations::roles::{Role, all_roles_tx};
use crate::{Ctx, Error, ErrorCode, Result};

/// Largest page of a list.
pub const MAX_LIMIT: u64 = 500;
/// User attributes a directory maps from SCIM paths.
pub const MAPPABLE: &[&str] = &["external_id", "username", "email_address", "first_name", "last_name", "phone_number"];
/// Random base62 characters of an API key: 48 × 5.95 ≈ 285 bits.
const KEY_CHARS: usize = 48;
/// Prefix of directory API keys.
pub const KEY_PREFIX: &str = "dsk";
/// Longest group display name.
const MAX_DISPLAY_NAME: usize = 255;
/// How long a rotated-out API key keeps working: long enough to paste the new key into the IdP's settings, short
/// enough that a leaked key rotated away stops working the same day.
pub const ROTATION_GRACE_MS: i64 = 60 * 60 * 1000;

/// A directory as the APIs show it.
#[derive(Debug, Clone)]
pub struct Directory {
    /// The row.
    pub row: DirectoryRow,
    /// User attribute → SCIM path.
    pub attribute_mapping: BTreeMap<String, String>,
    /// The connection's custom attributes.
    pub custom_attributes: Vec<CustomAttribute>,
    /// The API key, only right after creation.
    pub api_key: Option<String>,
}

/// A group → role mapping as a request gives it (`scim_*` and `directory_*` names are aliases).
#[derive(Debug, Clone, Default)]
pub struct MappingInput {
    /// The IdP group id.
    pub directory_group_id: Option<String>,
    /// Old name of `directory_group_id`.
    pub scim_group_id: Option<String>,
    /// Display name.
    pub directory_group_display_name: Option<String>,
    /// Old name of `directory_group_display_name`.
    pub scim_group_display_name: Option<String>,
    /// `role_…`
    pub role_id: Option<String>,
    /// ≥ 1; array order when absent.
    pub precedence: Option<i64>,
}

/// Input of [`create`].
#[derive(Debug, Clone, Default)]
pub struct NewDirectory {
    /// `ec_…` (required).
    pub enterprise_connection_id: Option<String>,
    /// Display name (default: the connection's).
    pub name: Option<String>,
    /// The IdP (required).
    pub provider: Option<String>,
    /// Group → role mappings.
    pub group_role_mappings: Vec<MappingInput>,
}

/// Input of [`update`]; absent fields do not change.
#[derive(Debug, Clone, Default)]
pub struct DirectoryUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Provisioning accepted.
    pub enabled: Option<bool>,
    /// The IdP.
    pub provider: Option<String>,
    /// Merged into the mapping; `None` values remove keys.
    pub attribute_mapping: Option<BTreeMap<String, Option<String>>>,
    /// Groups assign roles.
    pub group_role_mapping_enabled: Option<bool>,
}

/// 404 for a directory.
pub fn not_found() -> Error {
    Error::not_found("directory")
}

fn default_mapping() -> BTreeMap<String, String> {
    [
        ("external_id", "externalId"),
        ("username", "userName"),
        ("email_address", "emails[0].value"),
        ("first_name", "name.givenName"),
        ("last_name", "name.familyName"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn provider(value: &str) -> Result<String> {
    let p = value.trim().to_ascii_lowercase();
    if p.is_empty() {
        return Err(Error::param_missing("provider"));
    }
    if p == "google" || p == "google_workspace" {
        return Err(Error::param_value_invalid(
            "provider",
            "Google Workspace directories are pulled with a service account, which this server does not do; use a \
             SCIM provider (okta, microsoft, custom…).",
        ));
    }
    if p.len() > 64 || !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
        return Err(Error::param_format_invalid("provider", "provider must be a short lower-case name, e.g. okta."));
    }
    Ok(p)
}

fn name(value: &str) -> Result<String> {
    let n = value.trim();
    if n.is_empty() {
        return Err(Error::param_missing("name"));
    }
    Ok(n.to_owned())
}

fn alias(param: &str, new: Option<String>, old: Option<String>) -> Result<Option<String>> {
    match (new.filter(|s| !s.is_empty()), old.filter(|s| !s.is_empty())) {
        (Some(a), Some(b)) if a != b => Err(Error::param_value_invalid(
            param,
            format!("{param} and its legacy alias must be equal when both are given."),
        )),
        (a, b) => Ok(a.or(b)),
    }
}

async fn load(ctx: &Ctx, row: DirectoryRow, api_key: Option<String>) -> Result<Directory> {
    let attribute_mapping = serde_json::from_str(&row.attribute_mapping).map_err(Error::internal)?;
    let custom_attributes = match &row.enterprise_connection_id {
        Some(ec) => match connections::get(&ctx.db, &row.instance_id, By::Id, ec).await? {
            Some(c) => serde_json::from_str(&c.custom_attributes).map_err(Error::internal)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(Directory { row, attribute_mapping, custom_attributes, api_key })
}

/// Creates a directory for an enterprise connection, with its API key and group → role mappings.
pub async fn create(ctx: &Ctx, instance_id: &str, input: NewDirectory) -> Result<Directory> {
    let ec_id = input
        .enterprise_connection_id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::param_missing("enterprise_connection_id"))?;
    let provider = provider(input.provider.as_deref().unwrap_or(""))?;
    let name = input.name.as_deref().map(name).transpose()?;
    let mut mappings = Vec::with_capacity(input.group_role_mappings.len());
    for (i, m) in input.group_role_mappings.into_iter().enumerate() {
        let group = alias("directory_group_id", m.directory_group_id, m.scim_group_id)?
            .ok_or_else(|| Error::param_missing("group_role_mappings.directory_group_id"))?;
        let display = alias("directory_group_display_name", m.directory_group_display_name, m.scim_group_display_name)?;
        if display.as_ref().is_some_and(|d| d.chars().count() > MAX_DISPLAY_NAME) {
            return Err(Error::param_value_invalid(
                "group_role_mappings",
                "A group display name has at most 255 characters.",
            ));
        }
        let role =
            m.role_id.filter(|r| !r.is_empty()).ok_or_else(|| Error::param_missing("group_role_mappings.role_id"))?;
        let precedence = m.precedence.unwrap_or(i as i64 + 1);
        if precedence < 1 {
            return Err(Error::param_value_invalid("group_role_mappings", "precedence must be at least 1."));
        }
        mappings.push((group, display, role, precedence));
    }
    let api_key = format!("{KEY_PREFIX}_{}", random_base62(KEY_CHARS));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let connection = connections::lock(&mut tx, instance_id, By::Id, &ec_id).await?.ok_or_else(|| {
        Error::param_value_invalid(
            "enterprise_connection_id",
            format!("No enterprise connection was found with id {ec_id}."),
        )
    })?;
    let row = DirectoryRow {
        id: new_id("dir"),
        instance_id: instance_id.to_owned(),
        enterprise_connection_id: Some(connection.id.clone()),
        name: name.unwrap_or_else(|| connection.name.clone()),
        provider,
        enabled: true,
        group_role_mapping_enabled: !mappings.is_empty(),
        attribute_mapping: serde_json::to_string(&default_mapping()).map_err(Error::internal)?,
        api_key_hash: ctx.secrets.digest(&api_key),
        previous_api_key_hash: None,
        previous_api_key_expires_at: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &row).await?;
    for (group, display, role, precedence) in mappings {
        if !store::role_exists_tx(&mut tx, instance_id, &role).await? {
            return Err(Error::param_value_invalid(
                "group_role_mappings",
                format!("No organization role was found with id {role}."),
            ));
        }
        let m = GroupRoleMappingRow {
            id: new_id("dgrm"),
            instance_id: instance_id.to_owned(),
            directory_id: row.id.clone(),
            group_id: group,
            group_display_name: display,
            role_id: role,
            precedence,
            created_at: now,
            updated_at: now,
        };
        store::insert_mapping(&mut tx, &m).await.map_err(|e| {
            if e.is_unique_violation() {
                Error::param_value_invalid("group_role_mappings", "A group is mapped twice.")
            } else {
                e.into()
            }
        })?;
    }
    tx.commit().await?;
    load(ctx, row, Some(api_key)).await
}

/// Changes a directory.
pub async fn update(ctx: &Ctx, instance_id: &str, id: &str, u: DirectoryUpdate) -> Result<Directory> {
    let name = u.name.as_deref().map(name).transpose()?;
    let provider = u.provider.as_deref().map(provider).transpose()?;
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    if let Some(n) = name {
        row.name = n;
    }
    if let Some(p) = provider {
        row.provider = p;
    }
    if let Some(v) = u.enabled {
        row.enabled = v;
    }
    if let Some(v) = u.group_role_mapping_enabled {
        row.group_role_mapping_enabled = v;
    }
    if let Some(changes) = u.attribute_mapping {
        let mut mapping: BTreeMap<String, String> =
            serde_json::from_str(&row.attribute_mapping).map_err(Error::internal)?;
        for (key, value) in changes {
            if !MAPPABLE.contains(&key.as_str()) {
                return Err(Error::param_value_invalid(
                    "attribute_mapping",
                    format!("{key:?} is not a mappable attribute; use one of {}.", MAPPABLE.join(", ")),
                ));
            }
            match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                Some(path) => mapping.insert(key, path),
                None => mapping.remove(&key),
            };
        }
        row.attribute_mapping = serde_json::to_string(&mapping).map_err(Error::internal)?;
    }
    row.updated_at = ctx.now_ms();
    store::update(&mut tx, &row).await?;
    tx.commit().await?;
    load(ctx, row, None).await
}

/// Deletes a directory; its API key stops working at once.
pub async fn delete(ctx: &Ctx, instance_id: &str, id: &str) -> Result<String> {
    let mut tx = ctx.db.begin().await?;
    let row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    store::delete(&mut tx, instance_id, &row.id).await?;
    tx.commit().await?;
    Ok(row.id)
}

/// One directory.
pub async fn get(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Directory> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    load(ctx, row, None).await
}

/// A page of directories, newest first, and the total.
pub async fn list(ctx: &Ctx, instance_id: &str, limit: i64, offset: i64) -> Result<(Vec<Directory>, i64)> {
    let (rows, total) = store::list(&ctx.db, instance_id, limit, offset).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(load(ctx, r, None).await?);
    }
    Ok((out, total))
}

/// The directories of the connections linked to `organization_id` (`None`: to no organization), oldest first.
pub async fn of_organization(ctx: &Ctx, instance_id: &str, organization_id: Option<&str>) -> Result<Vec<Directory>> {
    let rows = store::of_organization(&ctx.db, instance_id, organization_id, MAX_LIMIT as i64).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(load(ctx, r, None).await?);
    }
    Ok(out)
}

/// A directory's group → role mappings, by precedence.
pub async fn group_role_mappings(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Vec<GroupRoleMappingRow>> {
    Ok(store::mappings(&ctx.db, instance_id, id).await?)
}

/// The connection a directory belongs to, if it still exists.
pub async fn connection(ctx: &Ctx, d: &Directory) -> Result<Option<EnterpriseConnection>> {
    match &d.row.enterprise_connection_id {
        Some(ec) => match crate::enterprise_connections::get(ctx, &d.row.instance_id, By::Id, ec).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.status() == 404 => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// Issues a new API key; the previous one keeps working for [`ROTATION_GRACE_MS`] (a key rotated out earlier stops
/// at once: only one previous key is kept).
pub async fn rotate_api_key(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Directory> {
    let api_key = format!("{KEY_PREFIX}_{}", random_base62(KEY_CHARS));
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    let mut row = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    row.previous_api_key_hash = Some(std::mem::replace(&mut row.api_key_hash, ctx.secrets.digest(&api_key)));
    row.previous_api_key_expires_at = Some(now + ROTATION_GRACE_MS);
    row.updated_at = now;
    store::update(&mut tx, &row).await?;
    tx.commit().await?;
    load(ctx, row, Some(api_key)).await
}

/// Whether `token` is the directory's API key, or its previous key within the grace period. Both digests are
/// compared in constant time, whichever matches.
pub fn key_matches(ctx: &Ctx, row: &DirectoryRow, token: &str, now: i64) -> bool {
    let given = ctx.secrets.digest(token);
    let current = constant_time_eq(&given, &row.api_key_hash);
    let previous = match (&row.previous_api_key_hash, row.previous_api_key_expires_at) {
        (Some(h), Some(until)) => constant_time_eq(&given, h) && now < until,
        _ => false,
    };
    current | previous
}

/// A group → role mapping with its role.
#[derive(Debug, Clone)]
pub struct GroupRoleMapping {
    /// The row.
    pub row: GroupRoleMappingRow,
    /// The role it assigns.
    pub role: Role,
}

/// 404 for a group → role mapping.
pub fn mapping_not_found() -> Error {
    Error::not_found("group role mapping")
}

async fn with_roles(tx: &mut Tx, instance_id: &str, rows: Vec<GroupRoleMappingRow>) -> Result<Vec<GroupRoleMapping>> {
    let roles = all_roles_tx(tx, instance_id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let role = roles.iter().find(|r| r.id == row.role_id)?.clone();
            Some(GroupRoleMapping { row, role })
        })
        .collect())
}

fn require_mapping_enabled(row: &DirectoryRow) -> Result<()> {
    if row.group_role_mapping_enabled { Ok(()) } else { Err(Error::new(ErrorCode::GroupRoleMappingDisabled)) }
}

/// A group of the request: its id (through the alias rule) and role.
fn mapping_input(m: MappingInput) -> Result<(String, String, Option<i64>)> {
    let group = alias("directory_group_id", m.directory_group_id, m.scim_group_id)?
        .ok_or_else(|| Error::param_missing("directory_group_id"))?;
    let role = m.role_id.filter(|r| !r.trim().is_empty()).ok_or_else(|| Error::param_missing("role_id"))?;
    if m.precedence.is_some_and(|p| p < 1) {
        return Err(Error::param_value_invalid("precedence", "precedence must be at least 1."));
    }
    Ok((group, role, m.precedence))
}

async fn insert_mapping_tx(
    ctx: &Ctx,
    tx: &mut Tx,
    dir: &DirectoryRow,
    (group, role, precedence): (String, String, i64),
) -> Result<()> {
    if !store::role_exists_tx(tx, &dir.instance_id, &role).await? {
        return Err(Error::param_value_invalid("role_id", format!("No organization role was found with id {role}.")));
    }
    // The display name is the group's as the IdP reported it, when the directory has provisioned it.
    let display =
        tessera_store::scim::group_by_ref_tx(tx, &dir.instance_id, &dir.id, &group).await?.map(|g| g.display_name);
    let now = ctx.now_ms();
    let m = GroupRoleMappingRow {
        id: new_id("dgrm"),
        instance_id: dir.instance_id.clone(),
        directory_id: dir.id.clone(),
        group_id: group,
        group_display_name: display,
        role_id: role,
        precedence,
        created_at: now,
        updated_at: now,
    };
    store::insert_mapping(tx, &m).await.map_err(|e| {
        if e.is_unique_violation() {
            Error::param_value_invalid("directory_group_id", "This group is already mapped to a role.")
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// A directory's group → role mappings, by precedence.
pub async fn list_mappings(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Vec<GroupRoleMapping>> {
    let mut tx = ctx.db.begin().await?;
    let dir = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let rows = store::mappings_tx(&mut tx, instance_id, &dir.id).await?;
    let out = with_roles(&mut tx, instance_id, rows).await?;
    tx.commit().await?;
    Ok(out)
}

/// Adds one mapping (after the others when no precedence is given) and re-evaluates the directory's members' roles.
pub async fn create_mapping(ctx: &Ctx, instance_id: &str, id: &str, input: MappingInput) -> Result<GroupRoleMapping> {
    // The directory first: an unknown one is 404 whatever the body.
    get(ctx, instance_id, id).await?;
    let (group, role, precedence) = mapping_input(input)?;
    let mut tx = ctx.db.begin().await?;
    let dir = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    require_mapping_enabled(&dir)?;
    let existing = store::mappings_tx(&mut tx, instance_id, &dir.id).await?;
    let precedence = precedence.unwrap_or_else(|| existing.iter().map(|m| m.precedence).max().unwrap_or(0) + 1);
    insert_mapping_tx(ctx, &mut tx, &dir, (group.clone(), role, precedence)).await?;
    crate::scim::roles::sync_directory_tx(ctx, &mut tx, &dir).await?;
    let rows = store::mappings_tx(&mut tx, instance_id, &dir.id).await?;
    let out = with_roles(&mut tx, instance_id, rows).await?.into_iter().find(|m| m.row.group_id == group);
    tx.commit().await?;
    out.ok_or_else(mapping_not_found)
}

/// Replaces every mapping; array order is precedence (1, 2, …). An empty list clears them.
pub async fn replace_mappings(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    input: Vec<MappingInput>,
) -> Result<Vec<GroupRoleMapping>> {
    get(ctx, instance_id, id).await?;
    let mut items = Vec::with_capacity(input.len());
    for (i, m) in input.into_iter().enumerate() {
        let (group, role, _) = mapping_input(m)?;
        items.push((group, role, i as i64 + 1));
    }
    let mut tx = ctx.db.begin().await?;
    let dir = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    require_mapping_enabled(&dir)?;
    store::delete_mappings(&mut tx, instance_id, &dir.id).await?;
    for item in items {
        insert_mapping_tx(ctx, &mut tx, &dir, item).await?;
    }
    crate::scim::roles::sync_directory_tx(ctx, &mut tx, &dir).await?;
    let rows = store::mappings_tx(&mut tx, instance_id, &dir.id).await?;
    let out = with_roles(&mut tx, instance_id, rows).await?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes one mapping; returns its id.
pub async fn delete_mapping(ctx: &Ctx, instance_id: &str, id: &str, mapping_id: &str) -> Result<String> {
    let mut tx = ctx.db.begin().await?;
    let dir = store::lock(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    require_mapping_enabled(&dir)?;
    if store::delete_mapping(&mut tx, instance_id, &dir.id, mapping_id).await? == 0 {
        return Err(mapping_not_found());
    }
    crate::scim::roles::sync_directory_tx(ctx, &mut tx, &dir).await?;
    tx.commit().await?;
    Ok(mapping_id.to_owned())
}
