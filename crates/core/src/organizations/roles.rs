//! Organization roles: Clerk's default roles (`org:admin` with every system permission, `org:member` with the
//! read ones), present in every instance, and the instance's own roles with keys of the form `org:<name>`.
//! Memberships and invitations name their role by key.

use std::collections::HashMap;

use tessera_store::Tx;
use tessera_store::organization_roles::{self as store, RoleOrder, RoleRow};

use super::permissions::{Permission, ensure_system_permissions_tx};
use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// The permission that makes a role "elevated" (it may manage memberships).
pub const MANAGE_MEMBERSHIPS: &str = "org:sys_memberships:manage";

/// The system permissions a role needs to be the creator role (Clerk's rule).
pub const CREATOR_PERMISSIONS: &[&str] =
    &["org:sys_memberships:manage", "org:sys_memberships:read", "org:sys_profile:delete"];

/// Clerk's default roles: key, name, description, permission keys.
pub const DEFAULT_ROLES: &[(&str, &str, &str, &[&str])] = &[
    (
        "org:admin",
        "Admin",
        "Role with elevated permissions in the organization.",
        &[
            "org:sys_profile:manage",
            "org:sys_profile:delete",
            "org:sys_memberships:read",
            "org:sys_memberships:manage",
            "org:sys_domains:read",
            "org:sys_domains:manage",
            "org:sys_billing:read",
            "org:sys_billing:manage",
        ],
    ),
    ("org:member", "Member", "Role with non-elevated permissions in the organization.", &["org:sys_memberships:read"]),
];

/// An organization role with its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// `role_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// `org:<name>`.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// Permissions, by key.
    pub permissions: Vec<Permission>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl Role {
    /// Whether the role may be the instance's creator role (it can read and manage members and delete the
    /// organization).
    pub fn is_creator_eligible(&self) -> bool {
        CREATOR_PERMISSIONS.iter().all(|k| self.has(k))
    }

    /// Whether the role grants the permission key.
    pub fn has(&self, key: &str) -> bool {
        self.permissions.iter().any(|p| p.key == key)
    }

    /// The permission keys, sorted.
    pub fn permission_keys(&self) -> Vec<String> {
        self.permissions.iter().map(|p| p.key.clone()).collect()
    }
}

/// 404 for a role.
pub fn not_found() -> Error {
    Error::not_found("role")
}

fn assemble(rows: Vec<RoleRow>, grants: Vec<store::GrantRow>) -> Vec<Role> {
    let mut by_role: HashMap<String, Vec<Permission>> = HashMap::new();
    for g in grants {
        by_role.entry(g.role_id).or_default().push(g.permission.into());
    }
    rows.into_iter()
        .map(|r| Role {
            permissions: by_role.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
            key: r.key,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect()
}

/// Makes sure the instance has its system permissions and, if it has no role at all yet, Clerk's default roles
/// (an instance always keeps at least its creator role afterwards, so deleted defaults are not recreated).
///
/// Runs inside the caller's write transaction: instance creation seeds the defaults this way, and every
/// organization write does too, so an instance created before defaults were seeded at creation gets them on its
/// first write (and at start-up, [`crate::startup::seed_organization_defaults`]). Reads never call it: a GET must
/// not write.
///
/// Then Clerk's primary role set, once (see [`super::role_sets::ensure_primary_tx`]).
pub async fn ensure_default_roles_tx(tx: &mut Tx, instance_id: &str, now: i64) -> Result<()> {
    ensure_system_permissions_tx(tx, instance_id, now).await?;
    if store::count_all_tx(tx, instance_id).await? == 0 {
        seed_default_roles_tx(tx, instance_id, now).await?;
    }
    super::role_sets::ensure_primary_tx(tx, instance_id, now).await
}

async fn seed_default_roles_tx(tx: &mut Tx, instance_id: &str, now: i64) -> Result<()> {
    for (i, (key, name, description, permissions)) in DEFAULT_ROLES.iter().enumerate() {
        // Older than anything the caller creates next, in a stable order.
        let at = now - (DEFAULT_ROLES.len() - i) as i64;
        let row = RoleRow {
            id: new_id("role"),
            instance_id: instance_id.to_owned(),
            name: (*name).to_owned(),
            key: (*key).to_owned(),
            description: Some((*description).to_owned()),
            created_at: at,
            updated_at: at,
        };
        store::insert(tx, &row, true).await?;
        let role = store::get_by_key_tx(tx, instance_id, key).await?.ok_or_else(not_found)?;
        for pkey in *permissions {
            if let Some(p) = store::permission_by_key_tx(tx, instance_id, pkey).await? {
                store::add_permission(tx, instance_id, &role.id, &p.id, at).await?;
            }
        }
    }
    Ok(())
}

/// Every role of the instance with its permissions (a pure read: the defaults were seeded by a write).
pub async fn all_roles(ctx: &Ctx, instance_id: &str) -> Result<Vec<Role>> {
    let rows = store::all(&ctx.db, instance_id).await?;
    let grants = store::grants(&ctx.db, instance_id).await?;
    Ok(assemble(rows, grants))
}

/// Every role of the instance with its permissions, read inside a write transaction (which seeded the defaults
/// first, with [`ensure_default_roles_tx`]).
pub async fn all_roles_tx(tx: &mut Tx, instance_id: &str) -> Result<Vec<Role>> {
    let rows = store::all_tx(tx, instance_id).await?;
    let grants = store::grants_tx(tx, instance_id).await?;
    Ok(assemble(rows, grants))
}

async fn role_tx(tx: &mut Tx, instance_id: &str, id: &str) -> Result<Role> {
    let roles = all_roles_tx(tx, instance_id).await?;
    roles.into_iter().find(|r| r.id == id).ok_or_else(not_found)
}

/// Validates a role key: `org:` followed by lowercase letters, digits and underscores.
pub fn validate_key(key: &str) -> Result<String> {
    let key = key.trim();
    let ok = key
        .strip_prefix("org:")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    if !ok || key.len() > 64 {
        return Err(Error::param_format_invalid(
            "key",
            "key must start with org: followed by lowercase letters, digits and underscores (at most 64 characters).",
        ));
    }
    Ok(key.to_owned())
}

/// Grants the permissions named by id (each must be a permission of the instance: 404 otherwise).
async fn grant_all(tx: &mut Tx, instance_id: &str, role_id: &str, ids: &[String], now: i64) -> Result<()> {
    for id in ids {
        let p = store::permission_tx(tx, instance_id, id).await?.ok_or_else(|| {
            Error::with(
                ErrorCode::ResourceNotFound,
                "not found",
                format!("No permission with id {id} exists."),
                Some("permissions"),
            )
        })?;
        store::add_permission(tx, instance_id, role_id, &p.id, now).await?;
    }
    Ok(())
}

/// Input of [`create_role`].
#[derive(Debug, Default)]
pub struct NewRole {
    /// Required.
    pub name: String,
    /// Required, `org:<name>`.
    pub key: String,
    /// Description.
    pub description: Option<String>,
    /// Permission ids.
    pub permissions: Vec<String>,
    /// Also add the role to the instance's initial role set (the one new organizations get).
    pub include_in_initial_role_set: bool,
}

/// How many custom roles the instance has: `max_allowed_roles` counts the roles it defined beyond Clerk's
/// defaults (Clerk: "up to 10 custom organization roles").
async fn custom_role_count_tx(tx: &mut Tx, instance_id: &str) -> Result<i64> {
    let rows = store::all_tx(tx, instance_id).await?;
    let custom = rows.iter().filter(|r| !DEFAULT_ROLES.iter().any(|(key, ..)| *key == r.key)).count();
    Ok(i64::try_from(custom).unwrap_or(i64::MAX))
}

/// Creates a custom role with the given permissions; an instance at its `max_allowed_roles` gets 403
/// `organization_role_quota_exceeded`.
pub async fn create_role(ctx: &Ctx, instance_id: &str, input: NewRole) -> Result<Role> {
    let name = super::validate_label(&input.name)?;
    let key = validate_key(&input.key)?;
    let now = ctx.now_ms();
    let row = RoleRow {
        id: new_id("role"),
        instance_id: instance_id.to_owned(),
        name,
        key,
        description: input.description,
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    // The instance lock serializes role creations, so concurrent ones cannot both pass the count below.
    tessera_store::settings::lock_instance(&mut tx, instance_id, now).await?;
    ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    let limit = crate::settings::organization_settings_tx(&mut tx, instance_id).await?.max_allowed_roles;
    if limit > 0 && custom_role_count_tx(&mut tx, instance_id).await? >= limit {
        return Err(Error::new(ErrorCode::OrganizationRoleQuotaExceeded));
    }
    store::insert(&mut tx, &row, false).await.map_err(super::key_taken("role"))?;
    grant_all(&mut tx, instance_id, &row.id, &input.permissions, now).await?;
    if input.include_in_initial_role_set
        && let Some(set) = tessera_store::role_sets::initial_tx(&mut tx, instance_id).await?
    {
        tessera_store::role_sets::add_role(&mut tx, instance_id, &set.id, &row.id, now).await?;
    }
    let role = role_tx(&mut tx, instance_id, &row.id).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::RoleCreated, &crate::objects::organization::role(&role)).await?;
    tx.commit().await?;
    Ok(role)
}

/// One role, or 404.
pub async fn get_role(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Role> {
    all_roles(ctx, instance_id).await?.into_iter().find(|r| r.id == id).ok_or_else(not_found)
}

/// Input of [`update_role`]; absent fields do not change.
#[derive(Debug, Default)]
pub struct RoleUpdate {
    /// Name.
    pub name: Option<String>,
    /// Key (memberships, invitations and the organization settings holding the old key follow).
    pub key: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Replaces the permissions (ids).
    pub permissions: Option<Vec<String>>,
}

/// Updates a role.
pub async fn update_role(ctx: &Ctx, instance_id: &str, id: &str, u: RoleUpdate) -> Result<Role> {
    let name = u.name.as_deref().map(super::validate_label).transpose()?;
    let key = u.key.as_deref().map(validate_key).transpose()?;
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    // Serializes against organization settings updates naming roles.
    tessera_store::settings::lock_instance(&mut tx, instance_id, now).await?;
    ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    let mut row = store::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let old_key = row.key.clone();
    if let Some(v) = name {
        row.name = v;
    }
    if let Some(v) = key {
        row.key = v;
    }
    if let Some(v) = u.description {
        row.description = Some(v);
    }
    row.updated_at = now;
    store::update(&mut tx, &row).await.map_err(super::key_taken("role"))?;
    if let Some(ids) = &u.permissions {
        store::clear_permissions(&mut tx, instance_id, &row.id).await?;
        grant_all(&mut tx, instance_id, &row.id, ids, now).await?;
    }
    if row.key != old_key {
        store::rename_key_in_use(&mut tx, instance_id, &old_key, &row.key).await?;
        tessera_store::role_sets::rename_role_key(&mut tx, instance_id, &old_key, &row.key).await?;
        let mut settings = crate::settings::organization_settings_tx(&mut tx, instance_id).await?;
        if settings.creator_role == old_key || settings.domains_default_role == old_key {
            if settings.creator_role == old_key {
                settings.creator_role = row.key.clone();
            }
            if settings.domains_default_role == old_key {
                settings.domains_default_role = row.key.clone();
            }
            crate::settings::save_organization_settings_tx(&mut tx, instance_id, &settings, now).await?;
        }
    }
    let role = role_tx(&mut tx, instance_id, &row.id).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::RoleUpdated, &crate::objects::organization::role(&role)).await?;
    tx.commit().await?;
    Ok(role)
}

/// Deletes a role. A role held by a membership or an invitation, or that is the instance's creator role or
/// domain default role, cannot be deleted.
pub async fn delete_role(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    tessera_store::settings::lock_instance(&mut tx, instance_id, now).await?;
    ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    let row = store::get_tx(&mut tx, instance_id, id).await?.ok_or_else(not_found)?;
    let settings = crate::settings::organization_settings_tx(&mut tx, instance_id).await?;
    if row.key == settings.creator_role || row.key == settings.domains_default_role {
        return Err(Error::with(
            ErrorCode::FormParamValueInvalid,
            "role in use",
            "The role is the organization creator role or the domain default role and cannot be deleted.",
            None,
        ));
    }
    if tessera_store::role_sets::sets_with_role_tx(&mut tx, instance_id, &row.id).await? > 0 {
        return Err(Error::with(
            ErrorCode::FormParamValueInvalid,
            "role in use",
            "The role belongs to a role set and cannot be deleted; take it out of the role set first.",
            None,
        ));
    }
    if store::uses_tx(&mut tx, instance_id, &row.key).await? > 0 {
        return Err(Error::with(
            ErrorCode::FormParamValueInvalid,
            "role in use",
            "The role is assigned to organization members or invitations and cannot be deleted.",
            None,
        ));
    }
    store::delete(&mut tx, instance_id, &row.id).await?;
    events::emit(
        ctx,
        &mut tx,
        instance_id,
        EventType::RoleDeleted,
        &serde_json::json!({
            "object": "role", "id": row.id, "deleted": true,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Grants (`assign = true`) or takes away a permission. Granting one the role has is a conflict (409); taking
/// one it does not have is a 404.
pub async fn set_permission(
    ctx: &Ctx,
    instance_id: &str,
    role_id: &str,
    permission_id: &str,
    assign: bool,
) -> Result<Role> {
    let now = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    let row = store::get_tx(&mut tx, instance_id, role_id).await?.ok_or_else(not_found)?;
    let permission = store::permission_tx(&mut tx, instance_id, permission_id)
        .await?
        .ok_or_else(|| Error::not_found("permission"))?;
    if assign {
        if store::add_permission(&mut tx, instance_id, &row.id, &permission.id, now).await? == 0 {
            return Err(Error::with(ErrorCode::Conflict, "conflict", "The role already has this permission.", None));
        }
    } else if store::remove_permission(&mut tx, instance_id, &row.id, &permission.id).await? == 0 {
        return Err(Error::with(
            ErrorCode::ResourceNotFound,
            "not found",
            "The role does not have this permission.",
            None,
        ));
    }
    let mut touched = row.clone();
    touched.updated_at = now;
    store::update(&mut tx, &touched).await?;
    let role = role_tx(&mut tx, instance_id, &row.id).await?;
    events::emit(ctx, &mut tx, instance_id, EventType::RoleUpdated, &crate::objects::organization::role(&role)).await?;
    tx.commit().await?;
    Ok(role)
}

/// A page of the instance's roles and the total count.
pub async fn list_roles(
    ctx: &Ctx,
    instance_id: &str,
    query: Option<&str>,
    order: RoleOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Role>, i64)> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list(&ctx.db, instance_id, query, order, descending, limit, offset).await?;
    let total = store::count(&ctx.db, instance_id, query).await?;
    let grants = store::grants(&ctx.db, instance_id).await?;
    Ok((assemble(rows, grants), total))
}

/// The role with this key, read inside a write transaction; `param` names the field for the 422 when there is
/// none.
pub async fn role_by_key_tx(tx: &mut Tx, instance_id: &str, key: &str, param: &str) -> Result<Role> {
    let roles = all_roles_tx(tx, instance_id).await?;
    roles.into_iter().find(|r| r.key == key).ok_or_else(|| {
        Error::param_value_invalid(param, format!("No organization role with key `{key}` exists in this instance."))
    })
}

/// Resolves an organization settings role reference (a role id or key) to the role, or 404. Read inside the
/// settings update's transaction, which holds the instance lock that role deletes also take, so the role cannot
/// disappear between this check and the settings write.
pub async fn resolve_role_reference_tx(tx: &mut Tx, instance_id: &str, param: &str, id_or_key: &str) -> Result<Role> {
    let value = id_or_key.trim();
    if value.is_empty() {
        return Err(Error::param_value_invalid(param, format!("{param} must name an organization role.")));
    }
    all_roles_tx(tx, instance_id).await?.into_iter().find(|r| r.id == value || r.key == value).ok_or_else(|| {
        Error::with(
            ErrorCode::ResourceNotFound,
            "not found",
            format!("No organization role `{value}` exists."),
            Some(param),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_keys() {
        assert!(validate_key("org:editor").is_ok());
        assert!(validate_key("org:team_lead2").is_ok());
        for bad in ["editor", "org:", "org:Editor", "org:a:b", "org:a-b", "admin:x"] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
