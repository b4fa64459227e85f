//! Organization permissions: Clerk's system permissions (present in every instance, immutable) and the
//! instance's own permissions with keys of the form `org:feature:action`.

use tessera_store::Tx;
use tessera_store::organization_permissions::{self as store, PermissionOrder, PermissionRow};

use crate::events::{self, EventType};
use crate::ids::new_id;
use crate::{Ctx, Error, ErrorCode, Result};

/// Clerk's system permissions: key, name, description.
pub const SYSTEM_PERMISSIONS: &[(&str, &str, &str)] = &[
    ("org:sys_profile:manage", "Manage organization", "Permission to manage an organization."),
    ("org:sys_profile:delete", "Delete organization", "Permission to delete an organization."),
    ("org:sys_memberships:read", "Read members", "Permission to read the members of an organization."),
    ("org:sys_memberships:manage", "Manage members", "Permission to manage the members of an organization."),
    ("org:sys_domains:read", "Read domains", "Permission to read the domains of an organization."),
    ("org:sys_domains:manage", "Manage domains", "Permission to manage the domains of an organization."),
    ("org:sys_billing:read", "Read billing", "Permission to read the billing information of an organization."),
    ("org:sys_billing:manage", "Manage billing", "Permission to manage the billing of an organization."),
];

/// An organization permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// `perm_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Key.
    pub key: String,
    /// Description.
    pub description: String,
    /// `system` or `user`.
    pub kind: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl From<PermissionRow> for Permission {
    fn from(r: PermissionRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            key: r.key,
            description: r.description,
            kind: r.kind,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn not_found() -> Error {
    Error::not_found("permission")
}

/// Makes sure the instance has Clerk's system permissions, inside the caller's write transaction (idempotent under
/// races: inserts skip keys that exist). Reads never call it: a read must not write.
pub async fn ensure_system_permissions_tx(tx: &mut Tx, instance_id: &str, now: i64) -> Result<()> {
    if store::count_system_tx(tx, instance_id).await? >= SYSTEM_PERMISSIONS.len() as i64 {
        return Ok(());
    }
    for (i, (key, name, description)) in SYSTEM_PERMISSIONS.iter().enumerate() {
        let row = PermissionRow {
            id: new_id("perm"),
            instance_id: instance_id.to_owned(),
            name: (*name).to_owned(),
            key: (*key).to_owned(),
            description: (*description).to_owned(),
            kind: "system".into(),
            // Distinct creation times just before now keep the default order stable, and older than anything
            // the caller creates next.
            created_at: now - (SYSTEM_PERMISSIONS.len() - i) as i64,
            updated_at: now - (SYSTEM_PERMISSIONS.len() - i) as i64,
        };
        store::insert(tx, &row, true).await?;
    }
    Ok(())
}

/// Validates a custom permission key: `org:feature:action`, segments of `[a-z0-9_]`, not `org:sys_…`.
pub fn validate_key(key: &str) -> Result<String> {
    let key = key.trim();
    let parts: Vec<&str> = key.split(':').collect();
    let segment =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if parts.len() != 3 || parts[0] != "org" || !segment(parts[1]) || !segment(parts[2]) {
        return Err(Error::param_format_invalid(
            "key",
            "key must have the format org:feature:action (lowercase letters, digits and underscores).",
        ));
    }
    if parts[1].starts_with("sys_") {
        return Err(Error::param_value_invalid("key", "The org:sys_ prefix is reserved for system permissions."));
    }
    Ok(key.to_owned())
}

fn system_immutable(what: &str) -> Error {
    Error::with(
        ErrorCode::AuthorizationInvalid,
        "system permission",
        format!("System permissions cannot be {what}."),
        None,
    )
}

/// Creates a custom permission.
pub async fn create_permission(
    ctx: &Ctx,
    instance_id: &str,
    name: &str,
    key: &str,
    description: Option<String>,
) -> Result<Permission> {
    let name = super::validate_label(name)?;
    let key = validate_key(key)?;
    let now = ctx.now_ms();
    let row = PermissionRow {
        id: new_id("perm"),
        instance_id: instance_id.to_owned(),
        name,
        key,
        description: description.unwrap_or_default(),
        kind: "user".into(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    super::roles::ensure_default_roles_tx(&mut tx, instance_id, now).await?;
    store::insert(&mut tx, &row, false).await.map_err(super::key_taken("permission"))?;
    let p: Permission = row.into();
    events::emit(
        ctx,
        &mut tx,
        instance_id,
        EventType::PermissionCreated,
        &crate::objects::organization::permission(&p),
    )
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// One permission, or 404.
pub async fn get_permission(ctx: &Ctx, instance_id: &str, id: &str) -> Result<Permission> {
    Ok(store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?.into())
}

/// Updates a custom permission; system permissions are immutable (403).
pub async fn update_permission(
    ctx: &Ctx,
    instance_id: &str,
    id: &str,
    name: Option<String>,
    key: Option<String>,
    description: Option<String>,
) -> Result<Permission> {
    let mut row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    if row.kind == "system" {
        return Err(system_immutable("updated"));
    }
    if let Some(n) = name {
        row.name = super::validate_label(&n)?;
    }
    if let Some(k) = key {
        row.key = validate_key(&k)?;
    }
    if let Some(d) = description {
        row.description = d;
    }
    row.updated_at = ctx.now_ms();
    let mut tx = ctx.db.begin().await?;
    if store::update(&mut tx, &row).await.map_err(super::key_taken("permission"))? == 0 {
        return Err(not_found());
    }
    let p: Permission = row.into();
    events::emit(
        ctx,
        &mut tx,
        instance_id,
        EventType::PermissionUpdated,
        &crate::objects::organization::permission(&p),
    )
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// Deletes a custom permission (roles lose it); system permissions cannot be deleted (403).
pub async fn delete_permission(ctx: &Ctx, instance_id: &str, id: &str) -> Result<()> {
    let row = store::get(&ctx.db, instance_id, id).await?.ok_or_else(not_found)?;
    if row.kind == "system" {
        return Err(system_immutable("deleted"));
    }
    let mut tx = ctx.db.begin().await?;
    if store::delete(&mut tx, instance_id, id).await? == 0 {
        return Err(not_found());
    }
    let data = serde_json::json!({ "object": "permission", "id": row.id, "deleted": true });
    events::emit(ctx, &mut tx, instance_id, EventType::PermissionDeleted, &data).await?;
    tx.commit().await?;
    Ok(())
}

/// A page of the instance's permissions (system ones included) and the total count.
pub async fn list_permissions(
    ctx: &Ctx,
    instance_id: &str,
    query: Option<&str>,
    order: PermissionOrder,
    descending: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Permission>, i64)> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list(&ctx.db, instance_id, query, order, descending, limit, offset).await?;
    let total = store::count(&ctx.db, instance_id, query).await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_keys() {
        assert!(validate_key("org:billing:manage").is_ok());
        assert!(validate_key("org:team_1:read").is_ok());
        for bad in ["billing:manage", "org:billing", "org:Billing:read", "org:a:b:c", "org::read", "org:sys_x:read"] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
